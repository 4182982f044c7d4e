"""Issue 19 items 3 and 4: both populations on the dashboard (targets, low-income households, the
overlap) equal a hand count; the two work lists; a household in both is due for one visit, once."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from typing import Any

import pytest

from assistance.selectors.dashboard import dashboard_figures
from monitoring.models import AlertStatus, AssistanceCategory, AssistanceEntry, Relation, TargetStatus
from monitoring.selectors.cadre import visits_due
from monitoring.selectors.rosters import low_income_unvisited, targets_uncovered
from tests.conftest import World
from tests.factories import (
    HouseholdFactory,
    MemberFactory,
    MonitoringLineFactory,
    TargetFactory,
    VisitFactory,
    income,
)

pytestmark = pytest.mark.django_db

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2025, 6, 30)
NOW = dt.datetime(2025, 6, 30, 12, 0, tzinfo=TZ)
S, D, N, R = (
    AssistanceCategory.SUBSISTENCE,
    AssistanceCategory.DESTITUTE,
    AssistanceCategory.NEAR_SUBSISTENCE,
    AssistanceCategory.RIGID_HARDSHIP,
)


def home(village: str, people: int = 1) -> Any:
    hh = HouseholdFactory(village_id=village)
    MemberFactory(household=hh, relation=Relation.HEAD)
    MemberFactory.create_batch(people - 1, household=hh)
    return hh


def roster(
    hh: Any, category: str, *, start: dt.date = dt.date(2025, 1, 1), end: dt.date | None = None, n: int = 0
) -> None:
    member = list(hh.members.order_by("pk"))[n]
    AssistanceEntry.objects.create(
        id_number=member.id_number,
        name=member.name,
        category=category,
        start_date=start,
        end_date=end,
        monthly_amount=Decimal("400.00"),
        member=member,
        status=AlertStatus.MATCHED,
        region_code=hh.village_id,
    )


@pytest.fixture
def data(world: World) -> World:
    """Hand count (as of 2025-06-30), county 520101 = villages 520101001001/…002 (township 001) and
    520101002001 (township 002):

    - t_only  (001001): target, no line                          → target
    - both_s  (001001): target, 低保 (two members: 低保 + 特困) → target, low-income (低保, 特困), both
    - both_n  (001002): target, 低保边缘                          → target, low-income (低保边缘), both
    - low_r   (002001): 刚性支出困难, no target                  → low-income
    - ended   (002001): 低保 ended 2025-03-31, target eliminated 2025-05-01 → nothing
    - future  (002001): 低保 from 2025-09-01                       → nothing (not yet)
    - unmatched line (no member)                                   → nothing
    - other county 520102: target + 特困                          → target, low-income, both

    Per township of 520101: 001 → targets 3, low 2, both 2 (低保 1, 特困 1, 低保边缘 1);
    002 → targets 0, low 1 (刚性支出困难 1), both 0.
    """
    v1, v2, v3 = "520101001001", "520101001002", "520101002001"
    data = world
    t_only, both_s, both_n = home(v1), home(v1, 2), home(v2)
    low_r, ended, future = home(v3), home(v3), home(v3)
    other = home("520102001001")
    for hh in (t_only, both_s, both_n, other):
        TargetFactory(household=hh, identified_on=dt.date(2025, 1, 10))
    TargetFactory(
        household=ended,
        identified_on=dt.date(2024, 1, 10),
        status=TargetStatus.ELIMINATED,
        elimination_method="ASSISTED",
        eliminated_on=dt.date(2025, 5, 1),
    )
    roster(both_s, S)
    roster(both_s, D, n=1)
    roster(both_n, N)
    roster(low_r, R)
    roster(ended, S, end=dt.date(2025, 3, 31))
    roster(future, S, start=dt.date(2025, 9, 1))
    roster(other, D)
    AssistanceEntry.objects.create(
        id_number="520101199001011234"[:17] + "0",
        name="未匹配",
        category=S,
        start_date=dt.date(2025, 1, 1),
        status=AlertStatus.UNMATCHED,
        region_code="520101000000",
    )
    data.households.update(
        {"t_only": t_only, "both_s": both_s, "both_n": both_n, "low_r": low_r, "ended": ended, "other": other}
    )
    return data


def figures(world: World, role: str, region: str = "") -> Any:
    return dashboard_figures(user=world.users[role], region_code=region, year=2025, today=TODAY, now=NOW)


def test_overlap_by_region_equals_the_hand_count(data: World) -> None:
    d = figures(data, "county", "520101000000")
    table = d.tables["low_income"]
    assert table.columns[1:3] == ["防止返贫致贫对象（户）", "农村低收入户（户）"]
    by_name = {row[0]: row[1:] for row in table.rows}
    # columns: targets, low-income, 低保, 特困, 低保边缘, 刚性支出困难, both, both ÷ targets (%)
    assert by_name["区划520101001000"] == [3, 2, 1, 1, 1, 0, 2, Decimal("66.67")]
    assert by_name["区划520101002000"] == [0, 1, 0, 0, 0, 1, 0, None]
    categories = {row[0]: row[1:] for row in d.tables["low_income_categories"].rows}
    assert categories == {
        "低保": [1, 1, Decimal("100.00")],
        "特困": [1, 1, Decimal("100.00")],
        "低保边缘": [1, 1, Decimal("100.00")],
        "刚性支出困难": [1, 0, Decimal("0.00")],
        "合计（户）": [3, 2, Decimal("66.67")],
    }


def test_province_rolls_up_and_scoping_holds(data: World) -> None:
    province = {row[0]: row[1:] for row in figures(data, "province", "520000000000").tables["low_income"].rows}
    # city 5201 = counties 520101 and 520102: targets 3 + 1, low 3 + 1, both 2 + 1
    assert province["区划520100000000"][:2] == [4, 4] and province["区划520100000000"][6] == 3
    county = figures(data, "county", "520101000000").tables["low_income_categories"].rows
    assert county[-1][1:3] == [3, 2]  # the other county's 特困 household is not counted


def test_work_list_targets_without_subsistence_below_their_line(data: World) -> None:
    """'Meeting their line': per-capita income of the year below the monitoring line of that year."""
    MonitoringLineFactory(year=2025, line=Decimal("7000.00"))
    h = data.households
    income(h["t_only"], 2025, "6999.99")  # below, no line: listed
    income(h["both_n"], 2025, "5000.00", size=1)  # below, 低保边缘 only (not 低保/特困): listed
    income(h["both_s"], 2025, "5000.00", size=2)  # below, but has 低保: not listed
    income(h["other"], 2025, "100.00")  # other county: not listed for the county user
    listed = targets_uncovered(user=data.users["county"], year=2025, today=TODAY)
    assert {t.household_id for t in listed} == {h["t_only"].pk, h["both_n"].pk}
    income(h["t_only"], 2024, "1.00")
    h["t_only"].incomes.filter(year=2025).update(wage_income=Decimal("7000.00"))  # exactly the line: not below
    listed = targets_uncovered(user=data.users["county"], year=2025, today=TODAY)
    assert {t.household_id for t in listed} == {h["both_n"].pk}


def test_work_list_low_income_never_visited(data: World) -> None:
    h = data.households
    VisitFactory(household=h["both_s"], visited_on=dt.date(2024, 12, 1))
    listed = {hh.pk for hh in low_income_unvisited(user=data.users["county"], today=TODAY)}
    assert listed == {h["both_n"].pk, h["low_r"].pk}


def test_due_list_counts_a_household_in_both_populations_once(data: World) -> None:
    h = data.households
    due = list(visits_due(user=data.users["county"], today=TODAY))
    ids = [hh.pk for hh in due]
    assert len(ids) == len(set(ids))
    # both populations: one row, flagged as both; low-income only: due too; not-yet/ended lines: not
    row = next(hh for hh in due if hh.pk == h["both_s"].pk)
    assert row.is_target and row.is_low_income
    assert h["low_r"].pk in ids and h["ended"].pk not in ids
    assert visits_due(user=data.users["county"], today=TODAY).count() == len(due) == 4
    # one visit serves both programmes: the household leaves the due list once, for both
    VisitFactory(household=h["both_s"], visited_on=TODAY)
    assert h["both_s"].pk not in {hh.pk for hh in visits_due(user=data.users["county"], today=TODAY)}
