"""Boundaries of the three rules (SPEC §4), missing data (4.1) and suggestions (4.2)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from monitoring.models import ExpenditureCategory, HouseholdType, Labor, Lead, RunStatus
from tests.factories import ExpenditureFactory, IncomeFactory, MonitoringLineFactory, income, region
from tests.monitoring.screening_helpers import LINE, YEAR, household, screen, setup_lines

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def lines() -> None:
    setup_lines()
    MonitoringLineFactory(year=YEAR - 1, line=Decimal("6800.00"))


def rules_of(hh) -> list[str]:
    lead = Lead.objects.filter(household=hh).first()
    return lead.rules_fired if lead else []


@pytest.mark.parametrize("size", [1, 3, 7])
def test_low_income_exactly_at_line_does_not_fire_one_fen_below_fires(size: int) -> None:
    at_line = household()
    below = household()
    income(at_line, YEAR, LINE, size=size)
    income(below, YEAR, LINE - Decimal("0.01"), size=size)
    run = screen()
    assert rules_of(at_line) == []
    assert rules_of(below) == ["LOW_INCOME"]
    assert run.summary["rules"]["LOW_INCOME"]["fired"] == 1


def test_low_income_compares_exact_per_capita_not_rounded() -> None:
    # 20 999.99 / 3 = 6 999.996…: rounds to 7 000.00 but is below the line, so it fires.
    hh = household()
    IncomeFactory(
        household=hh,
        year=YEAR,
        family_size=3,
        wage_income=Decimal("20999.99"),
        business_income=Decimal("0"),
        property_income=Decimal("0"),
        transfer_income=Decimal("0"),
    )
    screen()
    lead = Lead.objects.get(household=hh)
    assert lead.rules_fired == ["LOW_INCOME"]
    evidence = lead.evidence["SCREENING"]["rules"]["LOW_INCOME"]
    assert evidence == {"per_capita_income": "6999.99", "line": "7000.00", "total_income": "20999.99", "family_size": 3}


def test_low_income_sums_all_four_components_including_negative_business() -> None:
    hh = household()
    IncomeFactory(
        household=hh,
        year=YEAR,
        family_size=2,
        wage_income=Decimal("12000.00"),
        business_income=Decimal("-1000.50"),
        property_income=Decimal("500.25"),
        transfer_income=Decimal("2500.25"),
    )  # total 14 000.00 → exactly 7 000.00 per head
    screen()
    assert rules_of(hh) == []


def test_provincial_line_overrides_national() -> None:
    MonitoringLineFactory(year=YEAR, province=region("520000000000"), line=Decimal("8700.00"))
    hh = household()
    elsewhere = household(village="530101001001")
    income(hh, YEAR, "8000.00")
    income(elsewhere, YEAR, "8000.00")
    screen()
    screen("530101000000")
    assert rules_of(hh) == ["LOW_INCOME"]  # below Guizhou's (52) own 8 700
    assert rules_of(elsewhere) == []  # above the national 7 000 that province 53 uses
    assert Lead.objects.get(household=hh).evidence["SCREENING"]["rules"]["LOW_INCOME"]["line"] == "8700.00"


def _spike_household(expenditure: Decimal, reimbursed: Decimal = Decimal("0")) -> object:
    hh = household()
    income(hh, YEAR - 1, "10000.00", size=2)  # total last year 20 000.00
    income(hh, YEAR, "9000.00", size=2)
    ExpenditureFactory(household=hh, occurred_on=dt.date(YEAR, 5, 1), amount=expenditure, reimbursed=reimbursed)
    return hh


def test_expenditure_spike_boundary_on_out_of_pocket() -> None:
    equal = _spike_household(Decimal("25000.00"), Decimal("5000.00"))  # out-of-pocket 20 000.00
    above = _spike_household(Decimal("25000.01"), Decimal("5000.00"))  # 20 000.01
    screen()
    assert rules_of(equal) == []
    assert rules_of(above) == ["EXPENDITURE_SPIKE"]
    evidence = Lead.objects.get(household=above).evidence["SCREENING"]["rules"]["EXPENDITURE_SPIKE"]
    assert evidence["out_of_pocket_by_category"] == {"MEDICAL": "20000.01"}
    assert evidence["previous_total_income"] == "20000.00"


def test_expenditure_spike_counts_only_year_y_and_never_negative_out_of_pocket() -> None:
    hh = household()
    income(hh, YEAR - 1, "5000.00", size=2)  # 10 000.00
    income(hh, YEAR, "9000.00", size=2)
    ExpenditureFactory(household=hh, occurred_on=dt.date(YEAR - 1, 12, 31), amount=Decimal("9000"))
    ExpenditureFactory(household=hh, occurred_on=dt.date(YEAR + 1, 1, 1), amount=Decimal("9000"))
    # over-reimbursed: out-of-pocket is 0, not −1 000
    ExpenditureFactory(
        household=hh, occurred_on=dt.date(YEAR, 3, 1), amount=Decimal("1000"), reimbursed=Decimal("2000")
    )
    ExpenditureFactory(
        household=hh,
        category=ExpenditureCategory.EDUCATION,
        occurred_on=dt.date(YEAR, 1, 1),
        amount=Decimal("10000.00"),
    )
    screen()
    assert rules_of(hh) == []  # 10 000.00 is not > 10 000.00
    ExpenditureFactory(
        household=hh, category=ExpenditureCategory.DISASTER, occurred_on=dt.date(YEAR, 12, 31), amount=Decimal("0.01")
    )
    screen()
    assert rules_of(hh) == ["EXPENDITURE_SPIKE"]


def test_spike_ratio_parameter_is_used() -> None:
    from monitoring.services.parameters import screening_parameters_set

    hh = _spike_household(Decimal("10000.00"))  # half of last year's 20 000
    screening_parameters_set(actor=None, spike_ratio=Decimal("0.5"))
    screen()
    assert rules_of(hh) == []
    screening_parameters_set(actor=None, spike_ratio=Decimal("0.4999"))
    screen()
    assert rules_of(hh) == ["EXPENDITURE_SPIKE"]


def test_income_drop_ratio_boundary() -> None:
    # last year 12 000.00 per head; 70 % is 8 400.00 (< 2 × 7 000 line)
    exactly = household()
    income(exactly, YEAR - 1, "12000.00", size=3)
    income(exactly, YEAR, "8400.00", size=3)
    above = household()
    income(above, YEAR - 1, "12000.00", size=3)
    income(above, YEAR, "8400.01", size=3)
    screen()
    assert rules_of(exactly) == ["INCOME_DROP"]  # ≤ fires at the boundary
    assert rules_of(above) == []
    evidence = Lead.objects.get(household=exactly).evidence["SCREENING"]["rules"]["INCOME_DROP"]
    assert evidence["per_capita_income"] == "8400.00"
    assert evidence["previous_per_capita_income"] == "12000.00"


def test_income_drop_needs_income_below_twice_the_line() -> None:
    at_twice = household()
    income(at_twice, YEAR - 1, "30000.00")
    income(at_twice, YEAR, "14000.00")  # dropped by more than 30 % but = 2 × 7 000
    below = household()
    income(below, YEAR - 1, "30000.00")
    income(below, YEAR, "13999.99")
    screen()
    assert rules_of(at_twice) == []
    assert rules_of(below) == ["INCOME_DROP"]


def test_income_drop_with_changed_family_size_compares_per_capita() -> None:
    hh = household()
    income(hh, YEAR - 1, "10000.00", size=2)  # total 20 000
    income(hh, YEAR, "7500.00", size=4)  # total 30 000 (more), but per head −25 %
    screen()
    assert rules_of(hh) == []


def test_missing_records_are_counted_never_fired() -> None:
    no_income = household()
    only_this_year = household()
    income(only_this_year, YEAR, "9000.00")
    spending_without_last_year = household()
    income(spending_without_last_year, YEAR, "9000.00")
    ExpenditureFactory(household=spending_without_last_year, occurred_on=dt.date(YEAR, 2, 1), amount=Decimal("90000"))
    run = screen()
    assert run.status == RunStatus.SUCCEEDED
    assert Lead.objects.count() == 0
    rules = run.summary["rules"]
    assert rules["LOW_INCOME"]["missing"] == 1  # no_income
    assert rules["INCOME_DROP"]["missing"] == 3  # all three lack last year's income
    assert rules["EXPENDITURE_SPIKE"]["missing"] == 1  # spending, but no income of Y−1 to compare with
    assert run.summary["households"] == 3
    assert no_income.pk


def test_missing_monitoring_line_counts_income_rules_as_missing() -> None:
    hh = household()
    income(hh, YEAR + 1, "100.00")
    run = screen(year=YEAR + 1)
    assert run.status == RunStatus.SUCCEEDED
    assert rules_of(hh) == []
    assert run.summary["rules"]["LOW_INCOME"]["missing"] == 1
    assert "未设置" in run.error


def test_suggested_category_per_spec_4_2() -> None:
    exited = household(kind=HouseholdType.EXITED)
    income(exited, YEAR, "100.00")
    edge = household(kind=HouseholdType.EDGE)
    income(edge, YEAR, "100.00")
    sudden = _spike_household(Decimal("50000"))
    screen()
    assert Lead.objects.get(household=exited).suggested_category == "UNSTABLE_EXITED"
    assert Lead.objects.get(household=edge).suggested_category == "EDGE_AT_RISK"
    assert Lead.objects.get(household=sudden).suggested_category == "SUDDEN_HARDSHIP"


def test_suggested_risk_types_from_expenditure_health_and_labor_capped_at_five() -> None:
    hh = household(labor=Labor.WEAK, health="CHRONIC")
    income(hh, YEAR - 1, "1000.00")
    income(hh, YEAR, "600.00")
    for category in ("DISABILITY", "DISASTER", "EPIDEMIC", "ACCIDENT", "EDUCATION"):
        ExpenditureFactory(household=hh, category=category, occurred_on=dt.date(YEAR, 4, 1), amount=Decimal("500"))
    screen()
    lead = Lead.objects.get(household=hh)
    assert set(lead.rules_fired) == {"LOW_INCOME", "EXPENDITURE_SPIKE", "INCOME_DROP"}
    # 因病 (chronic), 因残, 因学, 因灾, 因意外事故 — 因疫 and 缺劳动力 are cut by the cap of 5
    assert lead.suggested_risk_types == ["ILLNESS", "DISABILITY", "EDUCATION", "DISASTER", "ACCIDENT"]


def test_no_labor_capacity_suggests_lack_of_labor() -> None:
    weak = household(labor=Labor.WEAK)
    able = household(labor=Labor.SKILLED)
    income(weak, YEAR, "100.00")
    income(able, YEAR, "100.00")
    screen()
    assert Lead.objects.get(household=weak).suggested_risk_types == ["LACK_OF_LABOR"]
    assert Lead.objects.get(household=able).suggested_risk_types == []


def test_only_the_county_is_screened() -> None:
    inside = household()
    outside = household(village="520102001001")
    income(inside, YEAR, "100.00")
    income(outside, YEAR, "100.00")
    run = screen()
    assert run.summary["households"] == 1
    assert rules_of(outside) == []
