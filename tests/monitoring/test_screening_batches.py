"""A province's counties are screened in batches, one transaction each (``screening_county_batches``,
``screening_counties_execute``): the same leads, results and audit rows as county by county, fewer
commits, and a county that fails inside a batch is marked 失败 without undoing the others."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connections
from django.test.utils import override_settings

from fanpin.core.models import AuditEntry
from monitoring.models import Lead, RunStatus
from monitoring.services import screening_staged
from monitoring.services.screening import (
    screening_counties_execute,
    screening_county_batches,
    screening_run_create,
    screening_run_execute,
    screening_run_gather,
)
from tests.factories import income
from tests.monitoring.screening_helpers import YEAR, household, setup_lines, together_must_succeed

PROVINCE = "520000000000"
pytestmark = pytest.mark.django_db

VILLAGES = [f"5201{county:02d}001001" for county in range(1, 6)]  # five counties of one city


def _province_with_poor_households() -> None:
    setup_lines()
    for village in VILLAGES:
        income(household(village=village), YEAR, "100.00")


def _province_run():  # type: ignore[no-untyped-def]
    return screening_run_create(region_code=PROVINCE, year=YEAR, trigger="COMMAND")


@override_settings(SCREENING_COUNTIES_PER_TASK=2)
def test_the_counties_are_cut_into_batches_in_code_order_and_finished_ones_are_left_out() -> None:
    _province_with_poor_households()
    run = _province_run()
    children = dict(run.children.values_list("region_id", "pk"))
    assert screening_county_batches(run=run) == [
        [children["520101000000"], children["520102000000"]],
        [children["520103000000"], children["520104000000"]],
        [children["520105000000"]],
    ]
    screening_counties_execute(run_ids=[children["520101000000"], children["520102000000"]])
    assert screening_county_batches(run=run) == [
        [children["520103000000"], children["520104000000"]],
        [children["520105000000"]],
    ]


@pytest.mark.django_db(transaction=True)
@override_settings(SCREENING_COUNTIES_PER_TASK=10)
def test_a_batch_commits_once_and_writes_what_county_by_county_writes() -> None:
    _province_with_poor_households()
    run = _province_run()
    (batch,) = screening_county_batches(run=run)
    commits = []
    wrapper = connections["default"]
    real_commit = type(wrapper).commit

    def counted(self):  # type: ignore[no-untyped-def]
        commits.append(1)
        return real_commit(self)

    with (
        mock.patch.object(type(wrapper), "commit", counted),
        mock.patch("monitoring.services.screening_counties._counties_write_together", together_must_succeed),
    ):
        screening_counties_execute(run_ids=batch)
    run.refresh_from_db()
    assert (run.status, run.leads_raised, run.counties_done) == (RunStatus.SUCCEEDED, 5, 5)
    assert sorted(run.children.values_list("status", "leads_raised")) == [("SUCCEEDED", 1)] * 5
    # one audit row per county run, one per lead, as when each county runs alone
    assert AuditEntry.objects.filter(object_type="screening_run", object_id__in=[str(p) for p in batch]).count() == 5
    assert AuditEntry.objects.filter(object_type="lead", action="raise").count() == 5
    assert sorted(Lead.objects.values_list("village_id", flat=True)) == VILLAGES
    # the stage, the check for counties with nothing to write, the five counties, the gather: one
    # transaction each (county by county it was a transaction per county and a gather after each)
    assert len(commits) == 4


@override_settings(SCREENING_COUNTIES_PER_TASK=10)
def test_a_county_that_fails_in_a_batch_is_marked_failed_and_the_others_are_written() -> None:
    _province_with_poor_households()
    run = _province_run()
    (batch,) = screening_county_batches(run=run)
    real, real_together = screening_staged.staged_leads_write, screening_staged.staged_counties_write

    def fail_in_the_third_county(**kwargs):  # type: ignore[no-untyped-def]
        if kwargs["prefix"].startswith("520103"):
            real(**kwargs)  # its leads are sent to the database, then the county fails
            raise RuntimeError("磁盘已满")
        return real(**kwargs)

    def fail_with_the_third_county(**kwargs):  # type: ignore[no-untyped-def]
        result = real_together(**kwargs)  # the batch's leads are sent, then the third county fails
        if "520103" in kwargs["runs"]:
            raise RuntimeError("磁盘已满")
        return result

    with (
        mock.patch("monitoring.services.screening_counties.staged_counties_write", fail_with_the_third_county),
        mock.patch("monitoring.services.screening_counties.staged_leads_write", fail_in_the_third_county),
    ):
        screening_counties_execute(run_ids=batch)
    run = screening_run_gather(run_id=run.pk)
    statuses = dict(run.children.values_list("region_id", "status"))
    assert statuses == {
        "520101000000": RunStatus.SUCCEEDED,
        "520102000000": RunStatus.SUCCEEDED,
        "520103000000": RunStatus.FAILED,
        "520104000000": RunStatus.SUCCEEDED,
        "520105000000": RunStatus.SUCCEEDED,
    }
    failed = run.children.get(region_id="520103000000")
    assert "磁盘已满" in failed.error
    # the failed county is as it was: no lead, no audit row; the others have theirs
    assert sorted(Lead.objects.values_list("village_id", flat=True)) == [v for v in VILLAGES if v[4:6] != "03"]
    assert AuditEntry.objects.filter(object_type="lead", action="raise").count() == 4
    assert not AuditEntry.objects.filter(object_type="screening_run", object_id=str(failed.pk)).exists()
    assert (run.status, run.summary["failed_counties"]) == (RunStatus.FAILED, ["520103000000"])
    # the next run screens the failed county again
    again = screening_run_execute(run_id=_province_run().pk)
    assert (again.status, again.leads_raised, again.leads_refreshed) == (RunStatus.SUCCEEDED, 1, 4)


@override_settings(SCREENING_COUNTIES_PER_TASK=2)
def test_a_batch_delivered_twice_writes_once() -> None:
    _province_with_poor_households()
    run = _province_run()
    first, *_ = screening_county_batches(run=run)
    screening_counties_execute(run_ids=first)
    audit = AuditEntry.objects.count()
    again = screening_counties_execute(run_ids=first)
    assert [r.status for r in again] == [RunStatus.SUCCEEDED] * 2
    assert AuditEntry.objects.count() == audit
    assert Lead.objects.count() == 2
