"""The database itself refuses invalid registry rows (acceptance: on PostgreSQL; SQLite too)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from monitoring.models import Household, Member, Region
from tests.factories import ExpenditureFactory, HouseholdFactory, IncomeFactory, MemberFactory, region

pytestmark = pytest.mark.django_db


def refused(fn) -> bool:  # type: ignore[no-untyped-def]
    try:
        with transaction.atomic():
            fn()
    except IntegrityError:
        return True
    return False


def test_duplicate_household_no_refused() -> None:
    HouseholdFactory(household_no="5201010010010001")
    assert refused(lambda: HouseholdFactory(household_no="5201010010010001"))


def test_duplicate_id_number_refused_across_households() -> None:
    member = MemberFactory()
    other = HouseholdFactory()
    assert refused(lambda: MemberFactory(household=other, id_number=member.id_number))


def test_two_heads_in_one_household_refused_but_heads_of_two_households_fine() -> None:
    household = HouseholdFactory()
    MemberFactory(household=household, relation=Member.Relation.HEAD)
    assert refused(lambda: MemberFactory(household=household, relation=Member.Relation.HEAD))
    MemberFactory(household=HouseholdFactory(), relation=Member.Relation.HEAD)


@pytest.mark.parametrize("field", ["wage_income", "transfer_income"])
def test_negative_wage_or_transfer_income_refused(field: str) -> None:
    assert refused(lambda: IncomeFactory(**{field: Decimal("-0.01")}))


@pytest.mark.parametrize("field", ["business_income", "property_income"])
def test_negative_business_or_property_income_allowed(field: str) -> None:
    IncomeFactory(**{field: Decimal("-2000.00")})


def test_one_income_row_per_household_and_year() -> None:
    income = IncomeFactory(year=2024)
    assert refused(lambda: IncomeFactory(household=income.household, year=2024))
    IncomeFactory(household=income.household, year=2025)


def test_family_size_must_be_positive() -> None:
    assert refused(lambda: IncomeFactory(family_size=0))


@pytest.mark.parametrize("field", ["amount", "reimbursed"])
def test_negative_expenditure_amounts_refused(field: str) -> None:
    assert refused(lambda: ExpenditureFactory(**{field: Decimal("-1.00")}))


def test_choice_values_are_checked_by_the_database() -> None:
    assert refused(lambda: HouseholdFactory(household_type="脱贫户"))
    assert refused(lambda: MemberFactory(labor="STRONG"))


def test_exit_year_only_for_exited_households() -> None:
    assert refused(lambda: HouseholdFactory(household_type=Household.Type.GENERAL, exit_year=2018))
    assert refused(lambda: HouseholdFactory(household_type=Household.Type.EXITED, exit_year=None))
    HouseholdFactory(exited=True)


def test_id_number_format_checked_by_the_database() -> None:
    assert refused(lambda: MemberFactory(id_number="52010119800517001x"))
    assert refused(lambda: MemberFactory(id_number="5201011980051700"))


def test_region_level_must_match_code() -> None:
    region("520000000000")
    assert refused(
        lambda: Region.objects.create(
            code="520100000000", name="x", level=Region.Level.VILLAGE, parent_id="520000000000"
        )
    )
    assert refused(
        lambda: Region.objects.create(code="52010000000", name="x", level=Region.Level.CITY, parent_id="520000000000")
    )
    assert refused(
        lambda: Region.objects.create(
            code="520100000000", name="x", level=Region.Level.CITY, parent_id="520000000000", is_deep_poverty=True
        )
    )
