"""A real Celery worker (Redis broker and result backend, as in CI) runs a two-county province
run: the chord fans out one task per county and the gather sums their summaries."""

from __future__ import annotations

import os
import time

import pytest
from django.db import connection

from monitoring.models import Lead, RunStatus, ScreeningRun
from monitoring.services.screening import screening_run_create
from tests.factories import income
from tests.monitoring.screening_helpers import YEAR, household, setup_lines

BROKER = os.environ.get("CELERY_BROKER_URL", "")


@pytest.fixture
def celery_worker_for_tests():  # type: ignore[no-untyped-def]
    if not BROKER.startswith("redis://"):
        pytest.skip("需要 Redis：设置 CELERY_BROKER_URL=redis://…（CI 中已设置）")
    if connection.vendor != "postgresql":
        pytest.skip("需要 PostgreSQL（工作进程与测试共用数据库）")
    import celery.contrib.testing.tasks  # noqa: F401 - registers celery.ping for the start check
    from celery.contrib.testing.worker import start_worker

    from fanpin.celery import app

    app.conf.update(broker_url=BROKER, result_backend=os.environ.get("CELERY_RESULT_BACKEND", BROKER))
    app.conf.task_always_eager = False
    # the start check waits up to a minute for the worker's answer (10 s by default: a loaded CI
    # machine missed it once, session 15)
    with start_worker(
        app, pool="threads", concurrency=2, perform_ping_check=True, ping_task_timeout=60, shutdown_timeout=30
    ):
        yield
        _worker_idle(app)


def _worker_idle(app, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    """Wait until the worker runs and holds no task: a redelivered task (or a dashboard refresh that a
    county's commit enqueued) still reading the tables when the test's database is flushed made the
    flush deadlock (CI, session 14), which left rows behind for the next test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        inspect = app.control.inspect(timeout=0.5)
        busy = [inspect.active() or {}, inspect.reserved() or {}, inspect.scheduled() or {}]
        if not any(tasks for state in busy for tasks in state.values()):
            return
        time.sleep(0.2)


def _wait_finished(run_id: int, timeout: float = 60) -> ScreeningRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = ScreeningRun.objects.get(pk=run_id)
        if run.is_finished:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish within {timeout} s")


@pytest.mark.celery_worker
@pytest.mark.slow
# redis-py 8 deprecates commands that Celery's Redis result backend still calls (setex); not ours.
@pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")
@pytest.mark.django_db(transaction=True)
def test_two_county_run_through_a_real_worker(celery_worker_for_tests) -> None:  # type: ignore[no-untyped-def]
    from monitoring.tasks import screening_dispatch_task

    setup_lines()
    a = household(village="520101001001")
    income(a, YEAR, "100.00")
    b1 = household(village="520102001001")
    income(b1, YEAR, "6000.00")
    household(village="520102001001")  # no income: 数据缺失
    run = screening_run_create(region_code="520100000000", year=YEAR, trigger="SCHEDULE")
    assert run.counties_total == 2

    screening_dispatch_task.delay(run.pk)
    run = _wait_finished(run.pk)

    assert run.status == RunStatus.SUCCEEDED
    assert run.counties_done == 2
    assert run.households == 3
    assert run.summary["leads"]["raised"] == 2
    assert run.summary["rules"]["LOW_INCOME"] == {
        "fired": 2,
        "raised": 2,
        "refreshed": 0,
        "skipped_target": 0,
        "skipped_rejected": 0,
        "missing": 1,
    }
    assert sorted(run.children.values_list("status", flat=True)) == ["SUCCEEDED", "SUCCEEDED"]
    assert Lead.objects.count() == 2

    # Delivered twice (a retry, a redelivery): nothing changes.
    screening_dispatch_task.delay(run.pk)
    again = screening_run_create(region_code="520100000000", year=YEAR, trigger="SCHEDULE")
    screening_dispatch_task.delay(again.pk)
    again = _wait_finished(again.pk)
    assert again.summary["leads"] == {"raised": 0, "refreshed": 2, "skipped_target": 0, "skipped_rejected": 0}
    assert Lead.objects.count() == 2


@pytest.mark.celery_worker
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")
@pytest.mark.django_db(transaction=True)
def test_large_export_runs_on_a_real_worker(celery_worker_for_tests, world, settings) -> None:  # type: ignore[no-untyped-def]
    """The export page's job is executed by the worker after the request's transaction commits."""
    from django.test import Client
    from django.urls import reverse

    from monitoring.models import ExportJob, ExportStatus

    settings.EXPORT_DIRECT_MAX_ROWS = 0
    client = Client()
    client.force_login(world.users["county"])
    assert client.get(reverse("monitoring:household_export")).status_code == 302
    job = ExportJob.objects.get()
    deadline = time.monotonic() + 60
    while not ExportJob.objects.get(pk=job.pk).is_finished and time.monotonic() < deadline:
        time.sleep(0.2)
    job.refresh_from_db()
    assert job.status == ExportStatus.SUCCEEDED and job.row_count == job.expected_rows > 0
