"""Recommendation from labor capacity (SPEC §2) and risk types; the only-developmental warning."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from assistance.models import Measure
from assistance.selectors.recommendation import (
    LaborCapacity,
    household_labor_capacity,
    labor_capacity_of,
    measures_recommend,
    plan_check,
)
from monitoring.models import Labor, Relation
from tests.assistance.factories import TargetMeasureFactory, measure, target_for
from tests.conftest import World
from tests.factories import HouseholdFactory, MemberFactory

pytestmark = pytest.mark.django_db

DEVELOPMENTAL = {"INDUSTRY", "EMPLOYMENT", "FINANCE"}


@pytest.mark.parametrize(
    ("labors", "expected"),
    [
        (["NORMAL"], LaborCapacity.FULL),
        (["SKILLED", "NONE"], LaborCapacity.FULL),
        (["WEAK", "LOST", "NORMAL"], LaborCapacity.FULL),
        (["WEAK"], LaborCapacity.PARTIAL),
        (["WEAK", "LOST", "NONE"], LaborCapacity.PARTIAL),
        (["LOST"], LaborCapacity.NONE),
        (["NONE", "LOST"], LaborCapacity.NONE),
        ([], LaborCapacity.NONE),
    ],
)
def test_labor_capacity_classes(labors: list[str], expected: str) -> None:
    assert labor_capacity_of(labors=labors) == expected


def test_household_labor_capacity_reads_members() -> None:
    hh = HouseholdFactory()
    MemberFactory(household=hh, relation=Relation.HEAD, labor=Labor.LOST)
    MemberFactory(household=hh, labor=Labor.WEAK)
    assert household_labor_capacity(household_id=hh.pk) == LaborCapacity.PARTIAL


def _categories(codes: list[str]) -> list[str]:
    by_code = {m.code: m.category for m in Measure.objects.all()}
    return [by_code[c] for c in codes]


def test_full_labor_gets_developmental_measures_first() -> None:
    rec = measures_recommend(labor_capacity=LaborCapacity.FULL, risk_types=[])
    cats = _categories(rec.codes)
    assert cats and set(cats) <= DEVELOPMENTAL
    assert "SOCIAL_SECURITY" not in cats
    assert "开发式" in rec.explanation


def test_no_labor_gets_comprehensive_protection() -> None:
    rec = measures_recommend(labor_capacity=LaborCapacity.NONE, risk_types=[])
    assert set(_categories(rec.codes)) == {"SOCIAL_SECURITY"}
    assert "MINIMUM_LIVING_ALLOWANCE" in rec.codes
    assert "综合保障" in rec.explanation


def test_partial_labor_gets_both_developmental_first() -> None:
    rec = measures_recommend(labor_capacity=LaborCapacity.PARTIAL, risk_types=[])
    cats = _categories(rec.codes)
    assert set(cats) >= DEVELOPMENTAL and "SOCIAL_SECURITY" in cats
    first_protective = cats.index("SOCIAL_SECURITY")
    assert all(c in DEVELOPMENTAL for c in cats[:first_protective])
    assert all(c == "SOCIAL_SECURITY" for c in cats[first_protective:])


@pytest.mark.parametrize(
    ("risk", "expected"),
    [
        ("ILLNESS", {"MEDICAL_ASSISTANCE", "SERIOUS_ILLNESS_TREATMENT"}),
        ("DISABILITY", {"DISABILITY_ALLOWANCE"}),
        ("EDUCATION", {"COMPULSORY_EDUCATION", "YULU_PLAN"}),
        ("DISASTER", {"DISASTER_RELIEF"}),
        ("ACCIDENT", {"TEMPORARY_RELIEF"}),
        ("EPIDEMIC", {"MEDICAL_ASSISTANCE", "TEMPORARY_RELIEF"}),
        ("INDUSTRY_FAILURE", {"INDUSTRY_SUBSIDY", "MICROCREDIT"}),
        ("UNSTABLE_EMPLOYMENT", {"LABOR_TRANSFER", "WORKSHOP_EMPLOYMENT"}),
        ("LACK_OF_LABOR", {"MINIMUM_LIVING_ALLOWANCE", "PUBLIC_WELFARE_POST"}),
        ("HOUSING", {"DILAPIDATED_HOUSING_RENOVATION", "RELOCATION"}),
        ("DRINKING_WATER", {"DRINKING_WATER_SAFETY"}),
        ("OTHER", {"TEMPORARY_RELIEF", "PAIRED_ASSISTANCE"}),
    ],
)
@pytest.mark.parametrize("capacity", [LaborCapacity.FULL, LaborCapacity.PARTIAL, LaborCapacity.NONE])
def test_risk_type_measures_are_recommended_first(capacity: str, risk: str, expected: set[str]) -> None:
    rec = measures_recommend(labor_capacity=capacity, risk_types=[risk])
    assert expected <= set(rec.codes)
    matched = [r for r in rec.measures if any(reason.startswith("针对风险类型") for reason in r.reasons)]
    # every risk-matched measure comes before every other one
    assert rec.measures[: len(matched)] == tuple(matched)
    assert expected <= {r.measure.code for r in matched}


def test_inactive_measures_are_not_recommended() -> None:
    Measure.objects.filter(code="MEDICAL_ASSISTANCE").update(is_active=False)
    rec = measures_recommend(labor_capacity=LaborCapacity.FULL, risk_types=["ILLNESS"])
    assert "MEDICAL_ASSISTANCE" not in rec.codes


def _measures(*codes: str) -> list[Measure]:
    return [measure(c) for c in codes]


def test_only_developmental_plan_for_household_without_labor_is_warned() -> None:
    check = plan_check(
        labor_capacity=LaborCapacity.NONE, risk_types=[], measures=_measures("MICROCREDIT", "LABOR_TRANSFER")
    )
    assert check.warnings and "无劳动能力" in check.warnings[0]


@pytest.mark.parametrize(
    ("capacity", "codes"),
    [
        (LaborCapacity.NONE, ("MICROCREDIT", "MINIMUM_LIVING_ALLOWANCE")),
        (LaborCapacity.PARTIAL, ("MICROCREDIT",)),
        (LaborCapacity.FULL, ("MICROCREDIT",)),
    ],
)
def test_no_warning_otherwise(capacity: str, codes: tuple[str, ...]) -> None:
    assert plan_check(labor_capacity=capacity, risk_types=[], measures=_measures(*codes)).warnings == ()


def test_plan_page_explains_the_recommendation_and_shows_the_warning(world: World) -> None:
    household = world.households["520101001001"]
    household.members.update(labor=Labor.NONE)
    target = target_for(household, risk_types=["LACK_OF_LABOR"])
    TargetMeasureFactory(target=target, measure=measure("MICROCREDIT"))
    client = Client()
    client.force_login(world.users["county"])
    page = client.get(reverse("assistance:target_plan", args=[target.pk])).content.decode()
    assert "家庭无劳动能力：推荐低保、特困供养等综合保障措施兜底" in page
    assert "最低生活保障" in page and "针对风险类型：缺劳动力" in page
    assert "该户无劳动能力，但帮扶计划只有开发式措施" in page
