"""A province's counties are screened in batches, one transaction each (``screening_county_batches``,
``screening_counties_execute``): the same leads, results and audit rows as county by county, fewer
commits, and a county that fails inside a batch is marked 失败 without undoing the others."""

from __future__ import annotations

import time
from typing import Any
from unittest import mock

import pytest
from django.db import connections
from django.test.utils import override_settings
from django.utils import timezone

from fanpin.core.models import AuditEntry
from monitoring.models import Household, Lead, RunStatus
from monitoring.services import screening_counties, screening_staged
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


def _written_together(together: bool):  # type: ignore[no-untyped-def]
    """Patch for ``_counties_write_together``: must succeed, or (``False``) is skipped."""
    return together_must_succeed if together else (lambda runs, stage: False)


@override_settings(SCREENING_COUNTIES_PER_TASK=10)
@pytest.mark.parametrize("together", [True, False], ids=["together", "county by county"])
def test_a_household_moved_out_after_the_stage_is_neither_written_nor_counted(together: bool) -> None:
    """An import moves two households of county 01 to county 02 after the region was evaluated: no
    lead is written for them in 01 (its lock does not hold them where they went), and 01's run does
    not count them as raised either (it said 2 raised with no lead and no audit row)."""
    setup_lines()
    moving = [household(village="520101001001") for _ in range(2)]
    staying = household(village="520101001001")
    for hh in [*moving, staying, household(village="520102001001")]:
        income(hh, YEAR, "100.00")
    run = _province_run()
    (batch,) = screening_county_batches(run=run)
    real_stage = screening_counties._parent_stage

    def stage_then_move(child):  # type: ignore[no-untyped-def]
        stage = real_stage(child)
        Household.objects.filter(pk__in=[hh.pk for hh in moving]).update(village_id="520102001001")
        return stage

    with (
        mock.patch.object(screening_counties, "_parent_stage", stage_then_move),
        mock.patch.object(screening_counties, "_counties_write_together", _written_together(together)),
    ):
        screening_counties_execute(run_ids=batch)
    first = run.children.get(region_id="520101000000")
    assert Lead.objects.filter(last_run=first).count() == 1
    assert (first.leads_raised, first.summary["leads"]["raised"], first.summary["fired"]) == (1, 1, 1)
    assert AuditEntry.objects.filter(object_type="lead", action="raise", data__run=first.pk).count() == 1
    assert set(Lead.objects.filter(last_run=first).values_list("household_id", flat=True)) == {staying.pk}
    assert not Lead.objects.filter(household__in=moving).exists()
    # the next run screens them in their new county
    again = screening_run_execute(run_id=_province_run().pk)
    assert again.leads_raised == 2 and Lead.objects.filter(household__in=moving, village_id="520102001001").count() == 2


@override_settings(SCREENING_COUNTIES_PER_TASK=10)
def test_counties_written_together_finish_after_their_writes() -> None:
    """A batch's counties say they finished when their leads were written, as a county alone does."""
    _province_with_poor_households()
    run = _province_run()
    (batch,) = screening_county_batches(run=run)
    real = screening_staged.staged_counties_write
    written: list[Any] = []

    def slow(**kwargs):  # type: ignore[no-untyped-def]
        result = real(**kwargs)
        time.sleep(0.2)  # a big batch's statements
        written.append(timezone.now())
        return result

    with (
        mock.patch.object(screening_counties, "staged_counties_write", slow),
        mock.patch.object(screening_counties, "_counties_write_together", together_must_succeed),
    ):
        screening_counties_execute(run_ids=batch)
    assert all(finished >= written[0] for finished in run.children.values_list("finished_at", flat=True))
