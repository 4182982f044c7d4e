"""Bulk writers leave planner statistics behind (``fanpin.core.db.tables_analyze``).

Freshly bulk-loaded PostgreSQL tables have no statistics until autoanalyze reaches them; the plans
made meanwhile were 20× slower (screening a 100 000-household county: 115 s, 5.5 s after ``ANALYZE``).
The demo generator and every committed import therefore analyze what they wrote before anything
reads it.  PostgreSQL only (on SQLite the helper does nothing), with real commits as in production.
"""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path
from typing import Any
from unittest import mock

import psycopg2
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from fanpin.core import db as core_db
from fanpin.core.db import tables_analyze
from monitoring.models import (
    AnnualIncome,
    Household,
    ImportJob,
    ImportStatus,
    Lead,
    Member,
    RigidExpenditure,
    RunStatus,
    ScreeningRun,
)
from monitoring.services import screening_gather
from monitoring.services.imports.jobs import import_file, import_job_preview_run, import_job_run
from tests.conftest import World
from tests.factories import IncomeFactory, income
from tests.monitoring.screening_helpers import VILLAGE, YEAR, household, screen, setup_lines
from tests.monitoring.xlsx import kind_sheet

pytestmark = pytest.mark.django_db(transaction=True)
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="planner statistics are PostgreSQL's")


def _now() -> dt.datetime:
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


def statistics(table: str) -> tuple[dt.datetime | None, float]:
    """(last manual ANALYZE, the planner's row count) of ``table``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.last_analyze, c.reltuples FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid"
            " WHERE s.relname = %s",
            [table],
        )
        return cursor.fetchone()


def assert_analyzed(model: Any, since: dt.datetime) -> None:
    table = model._meta.db_table
    last_analyze, reltuples = statistics(table)
    assert last_analyze is not None and last_analyze >= since, f"{table} not analyzed"
    assert reltuples == model.objects.count(), f"{table}: planner counts {reltuples}"


def test_sqlite_and_nothing_to_analyze_do_nothing() -> None:
    assert tables_analyze(models=[]) == []
    expected = ["monitoring_household", "monitoring_member"] if connection.vendor == "postgresql" else []
    assert tables_analyze(models=[Member, Household, Member]) == expected


@postgres_only
def test_generate_demo_leaves_statistics_for_every_table_it_filled() -> None:
    since = _now()
    call_command("generate_demo", "--households", "300", "--no-users", stdout=StringIO())
    for model in (Household, Member, AnnualIncome, RigidExpenditure):
        assert_analyzed(model, since)
    assert Household.objects.count() == 300


@postgres_only
def test_an_uploaded_import_is_analyzed_before_the_job_says_done(world: World, tmp_path: Path) -> None:
    rows = [
        {"户编号": f"N{i:04d}", "村级区划代码": "520101001001", "户类型": "一般农户", "住址": f"{i}号"}
        for i in range(300)
    ]
    path = kind_sheet(tmp_path / "农户.xlsx", "households", rows)
    IncomeFactory(household=world.households["520101001001"], year=2025)  # the year screening will take
    client = Client()
    client.force_login(world.users["county"])
    upload = SimpleUploadedFile(path.name, path.read_bytes())
    client.post(reverse("monitoring:import_list"), {"kind": "households", "file": upload})
    job = import_job_preview_run(job_id=ImportJob.objects.latest("pk").pk)
    assert job.status == ImportStatus.VALIDATED, job.message
    client.post(reverse("monitoring:import_confirm", args=[job.pk]))
    since = _now()
    seen: list[tuple[Any, float]] = []

    def at_screening(*args: Any) -> None:  # what the screening after the import would plan with
        seen.append(statistics("monitoring_household"))

    with mock.patch("monitoring.tasks.screening_after_import_task.delay_on_commit", side_effect=at_screening):
        job = import_job_run(job_id=job.pk)
    assert job.status == ImportStatus.SUCCEEDED and job.created_count == 300
    assert_analyzed(Household, since)
    assert seen and seen[0][0] >= since and seen[0][1] == Household.objects.count()


@postgres_only
def test_a_command_import_is_analyzed_and_a_dry_run_or_unchanged_file_is_not(world: World, tmp_path: Path) -> None:
    rows = [
        {"户编号": "H520101001001", "支出类别": "教育", "发生日期": f"2025-01-{d:02d}", "支出金额": 1000 + d}
        for d in range(1, 29)
    ]
    path = kind_sheet(tmp_path / "支出.xlsx", "expenditures", rows)
    with mock.patch("monitoring.tasks.screening_after_import_task.delay_on_commit"):
        since = _now()
        import_file(kind="expenditures", source=str(path), file_name=path.name, user=None, dry_run=True)
        assert (statistics("monitoring_rigidexpenditure")[0] or since) <= since
        _job, result = import_file(kind="expenditures", source=str(path), file_name=path.name, user=None, dry_run=False)
        assert result.ok and result.created == 28
        assert_analyzed(RigidExpenditure, since)
        again = _now()
        _job, result = import_file(kind="expenditures", source=str(path), file_name=path.name, user=None, dry_run=False)
        assert result.unchanged == 28
        assert statistics("monitoring_rigidexpenditure")[0] <= again


# -- screening runs that raise many leads (``screening_gather.leads_statistics``) -------------------


def _empty_and_analyzed(*tables: str) -> None:
    """As a new deployment's tables: empty, and the planner knows it."""
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


def _poor_households(villages: list[str], each: int) -> None:
    setup_lines()
    for village in villages:
        for _ in range(each):
            income(household(village=village), YEAR, "100.00")


@postgres_only
def test_tables_analyze_of_rows_added_waits_as_autoanalyze_would() -> None:
    _empty_and_analyzed("monitoring_lead")
    assert tables_analyze(models=[Lead], rows_added=50) == []
    assert tables_analyze(models=[Lead], rows_added=51) == ["monitoring_lead"]
    with connection.cursor() as cursor:  # as if the planner knew 10 000 leads
        cursor.execute("UPDATE pg_class SET reltuples = 10000 WHERE relname = 'monitoring_lead'")
    assert tables_analyze(models=[Lead], rows_added=1050) == []
    assert tables_analyze(models=[Lead], rows_added=1051) == ["monitoring_lead"]
    assert statistics("monitoring_lead")[1] == 0  # analyzed again: the table's real size


def _column_statistics_forget(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM pg_statistic WHERE starelid = CAST(%s AS regclass)", [table])


def _columns_with_statistics(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT attname FROM pg_stats WHERE schemaname = current_schema() AND tablename = %s", [table])
        return {name for (name,) in cursor.fetchall()}


@postgres_only
def test_tables_analyze_leaves_the_skipped_columns_to_autoanalyze() -> None:
    _poor_households([VILLAGE], 60)
    screen()
    _column_statistics_forget("monitoring_lead")  # none yet, as before a first run
    assert tables_analyze(models=[Lead], skip=[Lead._meta.get_field("evidence")]) == ["monitoring_lead"]
    analyzed = _columns_with_statistics("monitoring_lead")
    assert {"state", "village_id", "household_id", "raised_at", "year"} <= analyzed
    assert "evidence" not in analyzed
    assert statistics("monitoring_lead")[1] == 60  # the row count as usual


def test_tables_analyze_of_rows_added_does_nothing_on_sqlite() -> None:
    if connection.vendor == "postgresql":
        pytest.skip("the SQLite half")
    assert tables_analyze(models=[Lead], rows_added=10**6) == []


@postgres_only
def test_a_province_run_raising_many_leads_is_analyzed_before_it_says_done() -> None:
    villages = [f"5201{county:02d}001001" for county in range(1, 6)]  # five counties of one city
    _poor_households(villages, 12)
    _empty_and_analyzed("monitoring_lead")
    _column_statistics_forget("monitoring_lead")  # an empty table's ANALYZE keeps an earlier test's
    since = _now()
    seen: list[tuple[Any, float]] = []
    real = screening_gather.tables_analyze

    def then_seen(**kwargs: Any) -> list[str]:  # the statistics at the moment the run finishes
        tables = real(**kwargs)
        seen.append(statistics("monitoring_lead"))
        return tables

    with mock.patch.object(screening_gather, "tables_analyze", side_effect=then_seen):
        run = screen(code="520000000000")
    assert run.status == RunStatus.SUCCEEDED and run.leads_raised == 60 and run.children.count() == 5
    assert_analyzed(Lead, since)
    assert len(seen) == 1 and seen[0][1] == 60
    analyzed = _columns_with_statistics("monitoring_lead")  # the leads' evidence left to autoanalyze
    assert "state" in analyzed and "evidence" not in analyzed


@postgres_only
def test_a_county_run_of_its_own_is_analyzed_and_a_small_run_is_not() -> None:
    _poor_households([VILLAGE], 30)
    _empty_and_analyzed("monitoring_lead")
    since = _now()
    run = screen()
    assert run.leads_raised == 30
    assert (statistics("monitoring_lead")[0] or since) <= since  # 30 leads: autoanalyze's business
    _poor_households([VILLAGE], 60)
    run = screen()
    assert run.leads_raised == 60  # more than 50 + a tenth of the 0 leads the planner knew
    assert_analyzed(Lead, since)


@postgres_only
def test_a_county_run_of_its_own_is_analyzed_before_it_says_done() -> None:
    _poor_households([VILLAGE], 60)
    _empty_and_analyzed("monitoring_lead")
    states: list[list[str]] = []
    real = screening_gather.tables_analyze
    other = psycopg2.connect(**connection.get_connection_params())
    other.autocommit = True

    def then_seen(**kwargs: Any) -> list[str]:  # the run as another connection sees it then
        with other.cursor() as cursor:
            cursor.execute(f"SELECT status FROM {ScreeningRun._meta.db_table}")
            states.append([status for (status,) in cursor.fetchall()])
        return real(**kwargs)

    try:
        with mock.patch.object(screening_gather, "tables_analyze", side_effect=then_seen):
            run = screen()
    finally:
        other.close()
    assert run.status == RunStatus.SUCCEEDED and run.leads_raised == 60
    assert states == [[RunStatus.RUNNING]]
    assert statistics("monitoring_lead")[1] == 60


def _lock_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        return str(cursor.fetchone()[0])


@postgres_only
def test_a_table_someone_else_analyzes_is_left_to_them_and_the_run_finishes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another session's ANALYZE (or VACUUM, or index build) holds the lead table: the run's own
    waits at most ANALYZE_LOCK_WAIT, then the run finishes without it (never waiting an hour while
    it holds its run's row), and the session's lock wait is as it was."""
    monkeypatch.setattr(core_db, "ANALYZE_LOCK_WAIT", "300ms")
    villages = [f"5201{county:02d}001001" for county in range(1, 3)]
    _poor_households(villages, 30)
    _empty_and_analyzed("monitoring_lead")
    with connection.cursor() as cursor:  # the session's own wait, kept as it is
        cursor.execute("SET lock_timeout = '7s'")
    before = _lock_timeout()
    other = psycopg2.connect(**connection.get_connection_params())
    try:
        with other.cursor() as cursor:
            # should the wait above ever be lost, the server ends this session instead of the test hanging
            cursor.execute("SET idle_in_transaction_session_timeout = '20s'")
            cursor.execute("BEGIN")
            cursor.execute("ANALYZE monitoring_lead")  # holds SHARE UPDATE EXCLUSIVE until it ends
            run = screen(code="520000000000")
            assert run.status == RunStatus.SUCCEEDED and run.leads_raised == 60
            assert tables_analyze(models=[Lead]) == []  # outside a transaction too
            assert _lock_timeout() == before
            cursor.execute("ROLLBACK")
        assert tables_analyze(models=[Lead], rows_added=60) == ["monitoring_lead"]  # released
        assert _lock_timeout() == before == "7s"
    finally:
        other.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
