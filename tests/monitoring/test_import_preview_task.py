"""The check (dry run) of an uploaded sheet runs in a Celery task, not in the upload request: the
upload stores the file and answers at once, the job page polls while the file is checked and then
shows the preview with 确认导入.  Without a broker (the demo) the task runs in-process at the commit,
so the user sees the preview straight after the upload, as before."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from monitoring.models import DepartmentAlert, ImportJob
from monitoring.services.imports.jobs import import_job_preview_run
from tests.conftest import World
from tests.monitoring.xlsx import kind_sheet

H1 = "H520101001001"


def income(**over: Any) -> dict[str, Any]:
    row = {"户编号": H1, "年度": 2024, "家庭人口数": 3, "工资性收入": 100, "生产经营净收入": 0, "财产净收入": 0}
    row["转移净收入"] = 0
    row.update(over)
    return row


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def confirm_button(job: ImportJob) -> str:
    return f'action="{reverse("monitoring:import_confirm", args=[job.pk])}"'


def post_sheet(client: Client, path: Path, kind: str) -> Any:
    data = SimpleUploadedFile(path.name, path.read_bytes())
    return client.post(reverse("monitoring:import_list"), {"kind": kind, "file": data})


def poll(client: Client, job: ImportJob) -> str:
    """What the page's htmx poll receives."""
    response = client.get(reverse("monitoring:import_detail", args=[job.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def eager_celery(settings: Any) -> Iterator[None]:
    """No broker (the demo): Celery runs a task in-process when it is sent."""
    from fanpin.celery import app as celery_app

    previous = celery_app.conf.task_always_eager  # read before the setting changes (lazy configuration)
    settings.CELERY_TASK_ALWAYS_EAGER = True
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def _no_dry_run(**_kwargs: Any) -> Any:
    raise AssertionError("the sheet must not be checked in the upload request")


@pytest.mark.django_db
def test_the_upload_request_stores_the_file_and_the_task_checks_it(
    world: World, tmp_path: Path, monkeypatch: Any, django_capture_on_commit_callbacks: Any, eager_celery: None
) -> None:
    client = client_for(world.users["county"])
    sheet = kind_sheet(tmp_path / "收入.xlsx", "incomes", [income(), income(年度=2023)])
    with monkeypatch.context() as patched:
        patched.setattr("monitoring.services.imports.jobs.import_run", _no_dry_run)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            started = time.monotonic()
            response = post_sheet(client, sheet, "incomes")
            elapsed = time.monotonic() - started
        job = ImportJob.objects.get()
        assert response.status_code == 302, response.content.decode()
        assert response["Location"] == reverse("monitoring:import_detail", args=[job.pk])
        assert elapsed < 5
        assert len(callbacks) == 1  # the check, enqueued once the upload commits
        assert (job.status, job.total_rows, job.created_by) == ("UPLOADED", 0, world.users["county"])
        page = client.get(response["Location"]).content.decode()
        assert "已上传，等待校验" in page and "可以离开本页" in page and confirm_button(job) not in page
        assert 'hx-trigger="every 1s"' in page  # the page polls until the check is done
        listing = client.get(reverse("monitoring:import_list")).content.decode()
        assert "已上传" in listing

    callbacks[0]()  # the worker's turn (eager here: runs the task in-process)
    job.refresh_from_db()
    assert (job.status, job.total_rows, job.created_count, job.progress) == ("VALIDATED", 2, 2, 100)
    done = poll(client, job)
    assert "校验通过（试运行，未写入）" in done and confirm_button(job) in done and "every 1s" not in done
    assert 'data-testid="preview-created">2<' in done


@pytest.mark.django_db
def test_a_job_being_checked_shows_its_progress(world: World, tmp_path: Path) -> None:
    client = client_for(world.users["county"])
    post_sheet(client, kind_sheet(tmp_path / "收入.xlsx", "incomes", [income()]), "incomes")
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status="PREVIEWING", progress=45, started_at=timezone.now())
    page = poll(client, job)
    assert "校验中" in page and "45%" in page and 'aria-label="校验进度"' in page and "every 1s" in page
    assert confirm_button(job) not in page


@pytest.mark.django_db(transaction=True)  # as in a worker: no transaction around the check
def test_the_check_writes_its_progress_while_it_reads(world: World, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr("monitoring.services.imports.pipeline.BATCH_SIZE", 1)
    client = client_for(world.users["county"])
    post_sheet(
        client, kind_sheet(tmp_path / "收入.xlsx", "incomes", [income(年度=2020 + i) for i in range(4)]), "incomes"
    )
    job = ImportJob.objects.get()
    seen: list[tuple[str, int]] = []
    from monitoring.services.imports import kinds

    original = kinds.IncomesHandler.check_batch

    def watching(self: Any, rows: Any) -> Any:
        seen.append(ImportJob.objects.values_list("status", "progress").get(pk=job.pk))
        return original(self, rows)

    monkeypatch.setattr(kinds.IncomesHandler, "check_batch", watching)
    import_job_preview_run(job_id=job.pk)
    assert [s for s, _p in seen] == ["PREVIEWING"] * 4
    assert [p for _s, p in seen] == sorted(p for _s, p in seen) and seen[-1][1] > 0


@pytest.mark.django_db
def test_a_second_delivery_of_the_check_changes_nothing(world: World, tmp_path: Path, monkeypatch: Any) -> None:
    client = client_for(world.users["county"])
    post_sheet(client, kind_sheet(tmp_path / "收入.xlsx", "incomes", [income()]), "incomes")
    job = ImportJob.objects.get()
    first = import_job_preview_run(job_id=job.pk)
    assert first.status == "VALIDATED"
    before = ImportJob.objects.filter(pk=job.pk).values().get()
    monkeypatch.setattr("monitoring.services.imports.jobs.import_run", _no_dry_run)
    assert import_job_preview_run(job_id=job.pk).status == "VALIDATED"  # redelivered: not checked again
    assert ImportJob.objects.filter(pk=job.pk).values().get() == before
    # Confirmed meanwhile: a late delivery neither checks nor touches the queued job.
    client.post(reverse("monitoring:import_confirm", args=[job.pk]))
    assert import_job_preview_run(job_id=job.pk).status == "QUEUED"
    # Another worker is checking it right now: left to that worker.
    ImportJob.objects.filter(pk=job.pk).update(status="PREVIEWING", started_at=timezone.now())
    assert import_job_preview_run(job_id=job.pk).status == "PREVIEWING"


@pytest.mark.django_db
def test_a_check_whose_worker_died_is_taken_up_again(world: World, tmp_path: Path) -> None:
    client = client_for(world.users["county"])
    post_sheet(client, kind_sheet(tmp_path / "收入.xlsx", "incomes", [income()]), "incomes")
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status="PREVIEWING", started_at=timezone.now() - dt.timedelta(hours=2))
    assert import_job_preview_run(job_id=job.pk).status == "VALIDATED"


@pytest.mark.django_db
def test_a_check_that_crashes_says_so_on_the_job_page(world: World, tmp_path: Path, monkeypatch: Any) -> None:
    client = client_for(world.users["county"])
    post_sheet(client, kind_sheet(tmp_path / "收入.xlsx", "incomes", [income()]), "incomes")
    job = ImportJob.objects.get()
    monkeypatch.setattr("monitoring.services.imports.jobs.import_run", _no_dry_run)
    assert import_job_preview_run(job_id=job.pk).status == "FAILED"
    page = poll(client, job)
    assert "校验文件时发生系统错误，未写入任何数据" in page and "every 1s" not in page
    assert confirm_button(job) not in page


@pytest.mark.django_db
def test_a_department_user_follows_only_its_own_check(
    world: World, tmp_path: Path, monkeypatch: Any, django_capture_on_commit_callbacks: Any, eager_celery: None
) -> None:
    from tests.factories import user

    dept = client_for(world.users["dept"])
    member = world.households["520101001001"].members.get()
    row = {"身份证号": member.id_number, "姓名": "张三", "预警类型": "大额医疗支出"}
    row |= {"预警日期": "2025-03-14", "金额": 23456}
    with monkeypatch.context() as patched:
        patched.setattr("monitoring.services.imports.jobs.import_run", _no_dry_run)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            assert post_sheet(dept, kind_sheet(tmp_path / "预警.xlsx", "alerts", [row]), "alerts").status_code == 302
    job = ImportJob.objects.get()
    assert job.status == "UPLOADED" and "已上传，等待校验" in poll(dept, job)
    colleague = user("dept2", "DEPT", world.users["dept"].region_id, department=world.users["dept"].department)
    url = reverse("monitoring:import_detail", args=[job.pk])
    assert client_for(colleague).get(url, headers={"HX-Request": "true"}).status_code == 404
    callbacks[0]()
    page = poll(dept, job)
    assert "校验通过（试运行，未写入）" in page and confirm_button(job) in page
    assert member.id_number not in page  # 身份证号 masked in the preview
    assert not DepartmentAlert.objects.exists()  # a check writes nothing
    assert client_for(colleague).get(url).status_code == 404


@pytest.mark.django_db
def test_without_a_broker_the_preview_follows_the_upload_as_before(
    world: World, tmp_path: Path, django_capture_on_commit_callbacks: Any, eager_celery: None
) -> None:
    client = client_for(world.users["county"])
    with django_capture_on_commit_callbacks(execute=True):  # the request's commit runs the task in-process
        response = post_sheet(client, kind_sheet(tmp_path / "收入.xlsx", "incomes", [income()]), "incomes")
    page = client.get(response["Location"]).content.decode()
    job = ImportJob.objects.get()
    assert "校验通过（试运行，未写入）" in page and confirm_button(job) in page


@pytest.mark.django_db
def test_a_file_that_is_no_workbook_is_refused_next_to_the_field(world: World) -> None:
    client = client_for(world.users["county"])
    data = SimpleUploadedFile("收入.xlsx", b"not a zip archive")
    response = client.post(reverse("monitoring:import_list"), {"kind": "incomes", "file": data})
    assert response.status_code == 400
    assert "文件不是有效的 Excel 工作簿" in response.content.decode()
    assert not ImportJob.objects.exists()


BROKER = os.environ.get("CELERY_BROKER_URL", "")


@pytest.mark.celery_worker
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")
@pytest.mark.django_db(transaction=True)
def test_an_upload_is_checked_by_a_real_worker(world: World, tmp_path: Path) -> None:
    """The upload answers at once; the worker checks the file after the request's commit."""
    from django.db import connection

    if not BROKER.startswith("redis://"):
        pytest.skip("需要 Redis：设置 CELERY_BROKER_URL=redis://…（CI 中已设置）")
    if connection.vendor != "postgresql":
        pytest.skip("需要 PostgreSQL（工作进程与测试共用数据库）")
    from celery.contrib.testing.worker import start_worker

    from fanpin.celery import app

    app.conf.update(broker_url=BROKER, result_backend=os.environ.get("CELERY_RESULT_BACKEND", BROKER))
    app.conf.task_always_eager = False
    client = client_for(world.users["county"])
    with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=30):
        # no ping check: it reads its answer through the result backend, which earlier tests of the
        # same process may have bound to the in-memory one; the job row is what this test watches
        response = post_sheet(client, kind_sheet(tmp_path / "收入.xlsx", "incomes", [income()]), "incomes")
        assert response.status_code == 302
        job = ImportJob.objects.get()
        deadline = time.monotonic() + 60
        while ImportJob.objects.get(pk=job.pk).status in ("UPLOADED", "PREVIEWING") and time.monotonic() < deadline:
            time.sleep(0.2)
    assert confirm_button(job) in poll(client, job)
