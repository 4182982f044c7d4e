"""SPEC 4.4: active targets ÷ members of 脱贫户 households, per county; caps and floor flagged.

Both sides in persons: the members of the active target households ÷ 建档立卡人口."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from monitoring.models import HouseholdType, Relation
from monitoring.selectors.scale import scale_check
from monitoring.services.parameters import screening_parameters_set
from tests.factories import HouseholdFactory, MemberFactory, TargetFactory, region

pytestmark = pytest.mark.django_db


def exited_household(village: str, members: int):  # type: ignore[no-untyped-def]
    region(village)
    hh = HouseholdFactory(village_id=village, household_type=HouseholdType.EXITED, exit_year=2019)
    MemberFactory(household=hh, relation=Relation.HEAD)
    for _ in range(members - 1):
        MemberFactory(household=hh)
    return hh


def row_of(code: str, rows):  # type: ignore[no-untyped-def]
    return next(r for r in rows if r.county_code == code)


def test_ratio_caps_and_floor() -> None:
    region("520101000000", "普通县")
    region("520102000000", "深度贫困县", deep=True)
    normal = [exited_household("520101001001", 5) for _ in range(4)]  # 20 registered people
    deep = [exited_household("520102001001", 5) for _ in range(4)]
    general = HouseholdFactory(village_id="520101001001")  # not 脱贫户: not in the denominator
    MemberFactory(household=general, relation=Relation.HEAD)
    TargetFactory(household=general)  # 1 person / 20 = 5 % → at the cap, not above
    TargetFactory(
        household=normal[1], status="ELIMINATED", elimination_method="NATURAL", eliminated_on=dt.date(2025, 1, 1)
    )
    TargetFactory(household=deep[0])  # 5 persons / 20 = 25 % → above the deep-poverty cap of 10 %
    rows = scale_check(prefix="52")
    n, d = row_of("520101000000", rows), row_of("520102000000", rows)
    assert (n.active_targets, n.target_population, n.registered_population, n.ratio) == (1, 1, 20, Decimal("0.05"))
    assert not n.above_cap and not n.below_floor
    # one household, five persons: persons ÷ persons (households ÷ persons would say 5 %, not flagged)
    assert (d.active_targets, d.target_population, d.ratio) == (1, 5, Decimal("0.25"))
    assert d.cap == Decimal("0.1000") and d.above_cap

    screening_parameters_set(actor=None, scale_cap_normal=Decimal("0.04"), scale_floor=Decimal("0.01"))
    assert row_of("520101000000", scale_check(prefix="52")).above_cap


def test_floor_and_empty_county() -> None:
    region("520103000000", "空县")
    [exited_household("520101001001", 4) for _ in range(30)]  # 120 people
    TargetFactory(household=exited_household("520101001001", 1))  # 1 person / 121 < 1 %
    rows = scale_check(prefix="52")
    assert row_of("520101000000", rows).below_floor
    empty = row_of("520103000000", rows)
    assert empty.ratio is None and not empty.below_floor and not empty.above_cap


def test_scoped_to_user(world) -> None:  # type: ignore[no-untyped-def]
    rows = scale_check(user=world.users["county"])
    assert [r.county_code for r in rows] == ["520101000000"]
