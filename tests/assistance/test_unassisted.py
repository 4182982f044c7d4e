"""帮扶未落实: a target without any measure 15 days after confirmation (SPEC §5)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from assistance.models import MeasureStatus
from assistance.selectors.plans import targets_unassisted, targets_unassisted_count
from fanpin.core.terms import term
from monitoring.models import TargetStatus
from tests.assistance.factories import TargetMeasureFactory, target_for
from tests.conftest import World

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 9, 16)


def _ids(world: World, user: str = "county") -> set[str]:
    return {t.household.household_no for t in targets_unassisted(user=world.users[user], today=TODAY)}


def test_fifteen_days_to_the_day(world: World) -> None:
    target_for(world.households["520101001001"], identified_on=TODAY - dt.timedelta(days=15))
    target_for(world.households["520101001002"], identified_on=TODAY - dt.timedelta(days=14))
    assert _ids(world) == {"H520101001001"}
    assert targets_unassisted_count(user=world.users["county"], today=TODAY) == 1


def test_any_measure_counts_except_terminated(world: World) -> None:
    old = TODAY - dt.timedelta(days=40)
    planned = target_for(world.households["520101001001"], identified_on=old)
    TargetMeasureFactory(target=planned, status=MeasureStatus.PLANNED)
    terminated = target_for(world.households["520101001002"], identified_on=old)
    TargetMeasureFactory(target=terminated, status=MeasureStatus.TERMINATED)
    assert _ids(world) == {"H520101001002"}


def test_eliminated_targets_are_not_listed(world: World) -> None:
    target_for(
        world.households["520101001001"],
        identified_on=TODAY - dt.timedelta(days=400),
        status=TargetStatus.ELIMINATED,
        elimination_method="NATURAL",
        eliminated_on=TODAY,
    )
    assert _ids(world) == set()


def test_scoped_to_the_user(world: World) -> None:
    old = TODAY - dt.timedelta(days=30)
    for code in ("520101001001", "520101001002", "520102001001"):
        target_for(world.households[code], identified_on=old)
    assert _ids(world, "village") == {"H520101001001"}
    assert _ids(world, "township") == {"H520101001001", "H520101001002"}
    assert _ids(world, "city") == {"H520101001001", "H520101001002", "H520102001001"}
    assert _ids(world, "dept") == set()


def test_listed_on_the_page_and_counted_on_the_plan_list(world: World) -> None:
    target_for(world.households["520101001001"], identified_on=dt.date(2020, 1, 1))
    client = Client()
    client.force_login(world.users["county"])
    page = client.get(reverse("assistance:unassisted")).content.decode()
    assert "H520101001001" in page
    plans = client.get(reverse("assistance:plan_list")).content.decode()
    assert f"1 个{term('target')}确定已满 15 天仍无帮扶措施" in plans
    assert "帮扶未落实" in plans


def test_plan_rows_use_a_fixed_number_of_queries(world: World) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from assistance.selectors.plans import plan_rows

    target_for(world.households["520101001001"], identified_on=TODAY)
    with CaptureQueriesContext(connection) as few:
        plan_rows(user=world.users["county"], today=TODAY)
    for code in ("520101001002", "520101002001"):
        TargetMeasureFactory(target=target_for(world.households[code]))
    with CaptureQueriesContext(connection) as more:
        assert len(plan_rows(user=world.users["county"], today=TODAY)) == 3
    assert len(few) == len(more) == 2
