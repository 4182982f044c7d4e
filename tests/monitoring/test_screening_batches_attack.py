"""Attacks on the county batches (screening_counties_execute): the connection lost in the middle of
a batch must not leave counties 进行中 for ever."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import DatabaseError, connection, connections
from django.test.utils import override_settings

from monitoring.models import RunStatus
from monitoring.services import screening_staged
from monitoring.services.screening import screening_counties_execute, screening_county_batches, screening_run_create
from tests.factories import income
from tests.monitoring.screening_helpers import YEAR, household, setup_lines

PROVINCE = "520000000000"
VILLAGES = [f"5201{county:02d}001001" for county in range(1, 6)]


def _batch():  # type: ignore[no-untyped-def]
    setup_lines()
    for village in VILLAGES:
        income(household(village=village), YEAR, "100.00")
    run = screening_run_create(region_code=PROVINCE, year=YEAR, trigger="COMMAND")
    (batch,) = screening_county_batches(run=run)
    return run, batch


def _no_county_left_running(run) -> None:  # type: ignore[no-untyped-def]
    children = dict(run.children.values_list("region_id", "status"))
    assert RunStatus.RUNNING not in children.values(), children
    assert not run.children.filter(finished_at=None).exists()
    run.refresh_from_db()
    assert run.is_finished, (run.status, children)


def _lose_the_connection() -> None:
    with connection.cursor() as cursor:  # the server ends the session (restart, failover, a DBA)
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@override_settings(SCREENING_COUNTIES_PER_TASK=10)
@pytest.mark.parametrize("lost_in", ["the batch's statements", "the third county, written alone"])
def test_a_connection_lost_in_the_third_county_leaves_no_county_running(lost_in: str) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("需要 PostgreSQL")
    run, batch = _batch()
    real, real_together = screening_staged.staged_leads_write, screening_staged.staged_counties_write

    def lost_in_the_third_county(**kwargs):  # type: ignore[no-untyped-def]
        if kwargs["prefix"].startswith("520103"):
            _lose_the_connection()
        return real(**kwargs)

    def batch_with_the_third_county(**kwargs):  # type: ignore[no-untyped-def]
        if "520103" in kwargs["runs"]:
            if lost_in == "the batch's statements":
                _lose_the_connection()
            else:  # the batch fails: its counties are written one by one
                raise DatabaseError("磁盘已满")
        return real_together(**kwargs)

    with (
        mock.patch("monitoring.services.screening_counties.staged_counties_write", batch_with_the_third_county),
        mock.patch("monitoring.services.screening_counties.staged_leads_write", lost_in_the_third_county),
    ):
        screening_counties_execute(run_ids=batch)
    connection.close()
    _no_county_left_running(run)


@pytest.mark.django_db(transaction=True)
@override_settings(SCREENING_COUNTIES_PER_TASK=10)
@pytest.mark.parametrize("fails_in", ["the batch's statements", "the third county, written alone"])
def test_a_savepoint_that_cannot_be_rolled_back_leaves_no_county_running(fails_in: str) -> None:
    run, batch = _batch()
    real_write, real_rollback = screening_staged.staged_leads_write, type(connections["default"]).savepoint_rollback
    lost: list[bool] = []

    def fail_in_the_third_county(**kwargs):  # type: ignore[no-untyped-def]
        if kwargs["prefix"].startswith("520103"):
            lost.append(True)
            raise DatabaseError("server closed the connection unexpectedly")
        return real_write(**kwargs)

    def batch_fails(**kwargs):  # type: ignore[no-untyped-def]
        if fails_in == "the batch's statements":
            lost.append(True)
            raise DatabaseError("server closed the connection unexpectedly")
        raise RuntimeError("磁盘已满")  # rolled back: the counties are written one by one

    def rollback(self, sid):  # type: ignore[no-untyped-def]  # what a lost connection does to it
        if lost:
            raise DatabaseError("server closed the connection unexpectedly")
        return real_rollback(self, sid)

    with (
        mock.patch("monitoring.services.screening_counties.staged_counties_write", batch_fails),
        mock.patch("monitoring.services.screening_counties.staged_leads_write", fail_in_the_third_county),
        mock.patch.object(type(connections["default"]), "savepoint_rollback", rollback),
    ):
        screening_counties_execute(run_ids=batch)
    assert lost
    _no_county_left_running(run)
