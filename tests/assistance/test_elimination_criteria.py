"""风险消除 criteria (SPEC §5), each at its boundary; ``today`` is passed explicitly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assistance.models import MeasureStatus
from assistance.selectors.elimination import add_months, elimination_candidates, elimination_criteria
from monitoring.models import Labor, MonitoringTarget
from tests.assistance.factories import TargetMeasureFactory, measure
from tests.assistance.helpers import LINE, LINE_YEAR, TODAY, eligible_target
from tests.conftest import World
from tests.factories import MonitoringLineFactory, VisitFactory, income

pytestmark = pytest.mark.django_db


def _met(target: MonitoringTarget, today: dt.date = TODAY) -> dict[str, bool]:
    return {c.code: c.met for c in elimination_criteria(target=target, today=today).criteria}


@pytest.fixture
def target(world: World) -> MonitoringTarget:
    return eligible_target(world.households["520101001001"])


def test_the_baseline_meets_every_criterion(target: MonitoringTarget) -> None:
    assessment = elimination_criteria(target=target, today=TODAY)
    assert assessment.eligible, assessment.unmet
    values = {c.code: c.value for c in assessment.criteria}
    assert values["INCOME"] == (
        "依据最近年度收入记录（2024 年；未录入 12 个月收支核算）：家庭纯收入 7,000.00 元，1 人，"
        "人均可支配收入 7,000.00 元，不低于 2024 年监测标准 7,000.00 元"
    )
    assert values["SPIKE"] == (
        "2024-09-02 至 2025-09-01 自付刚性支出 0.00 元，未超过家庭纯收入 7,000.00 元的 1 倍"
        "（收入依据最近年度收入记录（2024 年；未录入 12 个月收支核算））"
    )
    assert values["VISIT"] == "走访 2025-08-25（7 天前），各项均有保障"
    assert values["NO_NEW_RISK"].startswith("无未办结线索")
    assert values["DURATION"] == "2025-03-01 识别，2025-09-01 满 6 个月"


def test_income_equal_to_the_line_is_met_a_cent_below_is_not(target: MonitoringTarget) -> None:
    assert _met(target)["INCOME"]
    target.household.incomes.update(wage_income=LINE - Decimal("0.01"))
    assert not _met(target)["INCOME"]


def test_income_of_the_latest_year_counts(target: MonitoringTarget) -> None:
    MonitoringLineFactory(year=LINE_YEAR + 1, line=LINE)
    income(target.household, LINE_YEAR + 1, "6999.99")
    assessment = elimination_criteria(target=target, today=TODAY)
    assert not {c.code: c.met for c in assessment.criteria}["INCOME"]
    assert "2025 年" in {c.code: c.value for c in assessment.criteria}["INCOME"]
    assert (
        "人均可支配收入 6,999.99 元，低于 2025 年监测标准" in {c.code: c.value for c in assessment.criteria}["INCOME"]
    )


def test_province_line_overrides_the_national_one(target: MonitoringTarget) -> None:
    from tests.factories import region

    region("520000000000")
    MonitoringLineFactory(year=LINE_YEAR, province_id="520000000000", line=LINE + 1)
    assert not _met(target)["INCOME"]


def test_missing_income_or_line_is_not_met(world: World) -> None:
    target = eligible_target(world.households["520101001001"], with_line=False)
    assessment = elimination_criteria(target=target, today=TODAY)
    assert "未设置 2024 年监测标准" in assessment.criteria[0].value and not assessment.criteria[0].met
    target.household.incomes.all().delete()
    assert elimination_criteria(target=target, today=TODAY).criteria[0].value.startswith("无收入记录")


def test_visit_90_days_old_is_recent_enough_91_is_too_old(target: MonitoringTarget) -> None:
    target.household.visits.update(visited_on=TODAY - dt.timedelta(days=90))
    assert _met(target)["VISIT"]
    target.household.visits.update(visited_on=TODAY - dt.timedelta(days=91))
    assert not _met(target)["VISIT"]


@pytest.mark.parametrize(
    "field",
    ["food_secure", "clothing_secure", "education_secure", "medical_secure", "housing_secure", "water_secure"],
)
def test_latest_visit_must_show_every_item_secured(target: MonitoringTarget, field: str) -> None:
    VisitFactory(household=target.household, visited_on=TODAY - dt.timedelta(days=1), **{field: False})
    assessment = elimination_criteria(target=target, today=TODAY)
    assert not {c.code: c.met for c in assessment.criteria}["VISIT"]
    assert "未保障" in {c.code: c.value for c in assessment.criteria}["VISIT"]


def test_only_the_latest_visit_counts(target: MonitoringTarget) -> None:
    VisitFactory(household=target.household, visited_on=TODAY - dt.timedelta(days=30), water_secure=False)
    assert _met(target)["VISIT"]  # the one 7 days ago is later and all secure


def test_no_visit_is_not_met(target: MonitoringTarget) -> None:
    target.household.visits.all().delete()
    assert not _met(target)["VISIT"]


@pytest.mark.parametrize(
    ("status", "met"),
    [
        (MeasureStatus.PLANNED, False),
        (MeasureStatus.IN_PROGRESS, True),
        (MeasureStatus.COMPLETED, True),
        (MeasureStatus.TERMINATED, False),
    ],
)
def test_a_measure_in_progress_or_completed(target: MonitoringTarget, status: str, met: bool) -> None:
    target.measures.update(status=status)
    assert _met(target)["MEASURES"] is met


def test_six_months_to_the_day(target: MonitoringTarget) -> None:
    assert target.identified_on == dt.date(2025, 3, 1)
    assert _met(target, TODAY)["DURATION"]
    assert not _met(target, TODAY - dt.timedelta(days=1))["DURATION"]


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(dt.date(2024, 8, 31), 6) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2025, 3, 1), -6) == dt.date(2024, 9, 1)


def test_no_labor_household_living_on_comprehensive_protection_is_not_proposed(
    world: World, target: MonitoringTarget
) -> None:
    target.household.members.update(labor=Labor.NONE)
    assert _met(target)["NOT_PROTECTIVE"]  # no labor, but no 综合保障 measure: may be proposed
    (shown,) = [c for c in elimination_criteria(target=target, today=TODAY).criteria if c.code == "NOT_PROTECTIVE"]
    assert shown.value == "无劳动能力，但没有综合保障兜底措施"  # not a bare 「无劳动能力」 beside a ✓
    TargetMeasureFactory(target=target, measure=measure("MINIMUM_LIVING_ALLOWANCE"), status=MeasureStatus.IN_PROGRESS)
    assessment = elimination_criteria(target=target, today=TODAY)
    assert not assessment.eligible
    assert "依靠最低生活保障兜底" in assessment.criteria[-1].value
    assert elimination_candidates(user=world.users["county"], today=TODAY) == []


def test_weak_labor_with_protection_is_still_proposed(world: World, target: MonitoringTarget) -> None:
    target.household.members.update(labor=Labor.WEAK)
    TargetMeasureFactory(target=target, measure=measure("MINIMUM_LIVING_ALLOWANCE"), status=MeasureStatus.IN_PROGRESS)
    assert [a.target for a in elimination_candidates(user=world.users["county"], today=TODAY)] == [target]


def test_candidates_are_scoped_and_list_only_eligible_targets(world: World, target: MonitoringTarget) -> None:
    other = eligible_target(world.households["520101001002"], with_line=False)
    other.household.visits.all().delete()
    county = world.users["county"]
    assert [a.target for a in elimination_candidates(user=county, today=TODAY)] == [target]
    everything = elimination_candidates(user=county, today=TODAY, include_all=True)
    assert {a.target for a in everything} == {target, other}
    assert elimination_candidates(user=world.users["village"], today=TODAY)[0].target == target
    assert elimination_candidates(user=world.users["dept"], today=TODAY) == []
    assert elimination_candidates(user=world.users["county"], today=TODAY, region_code="520101001002") == []


def test_candidates_use_a_fixed_number_of_queries(world: World) -> None:
    for code in ("520101001001", "520101001002", "520101002001"):
        eligible_target(world.households[code], with_line=code == "520101001001")
    with CaptureQueriesContext(connection) as few:
        elimination_candidates(user=world.users["county"], today=TODAY)
    eligible_target(world.households["520102001001"], with_line=False)
    with CaptureQueriesContext(connection) as more:
        assert len(elimination_candidates(user=world.users["city"], today=TODAY)) == 4
    assert len(few) == len(more) <= 14
