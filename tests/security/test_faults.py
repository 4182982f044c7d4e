"""Faults (issue 10): a process killed in the middle of a county's screening leaves that county as
it was and the retried task completes; a database error in the middle of an import writes nothing.

(The same alert batch sent twice concurrently: tests/monitoring/test_alerts_concurrency.py; a lead
confirmed twice at once: tests/monitoring/test_review_concurrency.py.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from unittest import mock

import pytest
from django.db import DatabaseError, connection

from monitoring.models import AnnualIncome, Lead, RunStatus, ScreeningRun
from monitoring.services.imports.jobs import import_file
from monitoring.services.screening import screening_county_execute, screening_run_create
from tests.conftest import World
from tests.factories import income
from tests.monitoring.screening_helpers import COUNTY, YEAR, household, setup_lines
from tests.monitoring.xlsx import kind_sheet

ROOT = Path(__file__).resolve().parents[2]

# Runs one county's screening in a separate process that SIGKILLs itself right after the county's
# new leads and their audit rows were sent to the database (inside the county's transaction: the
# moment the county tells the dashboards' followers its leads changed, after its last write), as a
# worker killed by the OOM killer or an operator would die: no exception handler, no rollback call,
# the connection just drops.
DYING_WORKER = textwrap.dedent(
    """
    import os, signal, sys
    import django
    django.setup()
    import monitoring.services.screening_staged as leads
    real_follow = leads.state_changes_follow
    def follow_then_die(**kwargs):
        real_follow(**kwargs)
        if kwargs.get("object_type") == "lead":
            os.kill(os.getpid(), signal.SIGKILL)
    leads.state_changes_follow = follow_then_die
    from monitoring.services.screening import screening_county_execute
    screening_county_execute(run_id=int(sys.argv[1]))
    """
)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a second process needs a shared server database")
def test_worker_killed_mid_county_leaves_no_partial_county_and_the_retry_completes() -> None:
    setup_lines()
    for _ in range(4):
        income(household(), YEAR, "100.00")
    run = screening_run_create(region_code=COUNTY, year=YEAR, trigger=ScreeningRun.Trigger.COMMAND)
    settings = connection.settings_dict
    url = (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "fanpin.settings_test", "DATABASE_URL": url}
    result = subprocess.run(
        [sys.executable, "-c", DYING_WORKER, str(run.pk)], cwd=ROOT, env=env, capture_output=True, timeout=120
    )
    assert result.returncode == -9, result.stderr.decode()[-2000:]
    # the leads had been sent inside the county's transaction: none of them exists
    assert Lead.objects.count() == 0
    run.refresh_from_db()
    assert run.finished_at is None and run.status == RunStatus.RUNNING
    # the broker redelivers the task (acks_late): the same run completes
    done = screening_county_execute(run_id=run.pk)
    assert done.status == RunStatus.SUCCEEDED
    assert done.leads_raised == 4
    assert Lead.objects.count() == 4


@pytest.mark.django_db
def test_database_error_in_the_middle_of_an_import_writes_nothing(world: World, tmp_path: Path) -> None:
    rows = [
        {"户编号": h.household_no, "年度": 2024, "家庭人口数": 3, "工资性收入": 100, "生产经营净收入": 0}
        | {"财产净收入": 0, "转移净收入": 0}
        for code, h in world.households.items()
        if code.startswith("520101")
    ]
    path = kind_sheet(tmp_path / "收入.xlsx", "incomes", rows)
    real_bulk_create = AnnualIncome.objects.bulk_create
    calls: list[int] = []

    def failing_bulk_create(objs, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(len(objs))
        if len(calls) == 2:
            raise DatabaseError("connection lost")
        return real_bulk_create(objs, *args, **kwargs)

    with (
        mock.patch("monitoring.services.imports.pipeline.BATCH_SIZE", 1),
        mock.patch.object(AnnualIncome.objects, "bulk_create", side_effect=failing_bulk_create),
    ):
        job, result = import_file(
            kind="incomes", source=str(path), file_name=path.name, user=world.users["county"], dry_run=False
        )
    assert len(calls) == 2  # the first batch had been written inside the transaction
    assert AnnualIncome.objects.count() == 0
    assert not result.ok
    assert "已全部撤销，未写入任何数据" in result.errors[0].message
    job.refresh_from_db()
    assert job.status == job.Status.INVALID
