"""The 12-month 家庭收支核算 at 入户核实 (issue 19, item 5).

A June application after a March shock is judged on the 12 months before it while the calendar-year
data (batch screening, unchanged) finds nothing; a province's deduction setting moves the verdict
exactly at its boundary; the village records (and changes, with a reason) the figures, the county
reads the judgement beside the screening evidence, and it stays with the target.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fanpin.core.models import AuditEntry
from fanpin.core.roles import Role
from fanpin.core.scoping import ObjectOutOfScope
from fanpin.core.workflow import TransitionNotAllowed
from monitoring.models import (
    Application,
    ExpenditureCategory,
    IncomeAccounting,
    IncomeAccountingSetting,
    Lead,
    LeadState,
    MonitoringLine,
    WindowBasis,
)
from monitoring.selectors.accounting import accounting_window, judgement_stored, window_start_for
from monitoring.services import review
from monitoring.services.accounting import (
    AccountingInput,
    accounting_deduction_set,
    income_accounting_record,
)
from monitoring.services.lines import monitoring_line_set
from tests.factories import ExpenditureFactory, LeadFactory, income, user
from tests.monitoring.review_helpers import decision, lead_in
from tests.monitoring.screening_helpers import screen

pytestmark = pytest.mark.django_db

VILLAGE = "520101001001"
COUNTY = "520101000000"
PROVINCE = "520000000000"
LINE = Decimal("7000.00")
CATEGORIES = ExpenditureCategory.values


def _aware(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime(day.year, day.month, day.day, hour))


def _lines(*years: int, line: Decimal = LINE) -> None:
    for year in years:
        if not MonitoringLine.objects.filter(year=year, province=None).exists():
            monitoring_line_set(year=year, line=line)


def _data(
    *,
    size: Any = 4,
    wage: Any = "0",
    business: Any = "0",
    prop: Any = "0",
    transfer: Any = "0",
    oop: dict[str, Any] | None = None,
    reason: str = "",
) -> AccountingInput:
    return AccountingInput(
        family_size=size,
        wage_income=wage,
        business_income=business,
        property_income=prop,
        transfer_income=transfer,
        out_of_pocket=dict.fromkeys(CATEGORIES, "0") | (oop or {}),
        reason=reason,
    )


def _application_lead(household: Any, *, applied: dt.date, raised: dt.date) -> Lead:
    lead = LeadFactory(
        household=household, sources=["APPLICATION"], rules_fired=[], year=applied.year, raised_at=_aware(raised)
    )
    app = Application.objects.create(
        receipt_no=f"R{household.pk:08d}",
        channel=Application.Channel.CADRE,
        source=Application.Source.CADRE,
        status=Application.Status.MATCHED,
        village_id=household.village_id,
        household=household,
        reason="ILLNESS",
        description="3 月户主患大病住院",
        lead=lead,
    )
    Application.objects.filter(pk=app.pk).update(created_at=_aware(applied))
    return lead


# -- the window ----------------------------------------------------------------------------------
def test_window_is_the_twelve_months_up_to_the_date() -> None:
    assert window_start_for(dt.date(2026, 6, 12)) == dt.date(2025, 6, 13)
    assert window_start_for(dt.date(2024, 2, 29)) == dt.date(2023, 3, 1)
    assert window_start_for(dt.date(2026, 1, 1)) == dt.date(2025, 1, 2)


def test_window_ends_on_the_application_else_the_lead(world: Any) -> None:
    hh = world.households[VILLAGE]
    lead = _application_lead(hh, applied=dt.date(2026, 6, 12), raised=dt.date(2026, 6, 15))
    window = accounting_window(lead=lead)
    assert (window.basis, window.start, window.end) == (
        WindowBasis.APPLICATION,
        dt.date(2025, 6, 13),
        dt.date(2026, 6, 12),
    )
    other = LeadFactory(household=world.households["520101001002"], raised_at=_aware(dt.date(2026, 3, 1)))
    window = accounting_window(lead=other)
    assert (window.basis, window.start, window.end) == (WindowBasis.LEAD, dt.date(2025, 3, 2), dt.date(2026, 3, 1))


# -- Acceptance: a June application with a March shock -------------------------------------------
def test_june_application_after_march_shock_fires_on_12_months_not_on_calendar_years(world: Any) -> None:
    """Last year's annual income is fine and batch screening of 2025 and 2026 raises nothing; the 12
    months up to the June application hold the March hospital bill and a smaller income: the spike
    rule fires on them."""
    _lines(2024, 2025, 2026)
    hh = world.households[VILLAGE]
    income(hh, 2024, "20000.00", size=4)
    income(hh, 2025, "20000.00", size=4)  # 80 000 a year: far above the line
    # the shock: March 2026, 70 000 billed, 10 000 reimbursed → 60 000 out of pocket
    ExpenditureFactory(
        household=hh,
        category="MEDICAL",
        occurred_on=dt.date(2026, 3, 10),
        amount=Decimal("70000.00"),
        reimbursed=Decimal("10000.00"),
    )
    # before the window (calendar 2025, but not in the 12 months before June 2026)
    ExpenditureFactory(household=hh, category="EDUCATION", occurred_on=dt.date(2025, 5, 20), amount=Decimal("3000.00"))

    for year in (2025, 2026):
        screen(COUNTY, year)
    assert not Lead.objects.filter(household=hh).exists(), "calendar-year data must not fire"

    lead = _application_lead(hh, applied=dt.date(2026, 6, 12), raised=dt.date(2026, 6, 12))
    village = world.client_for("village")
    page = village.get(reverse("monitoring:lead_accounting", args=[lead.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "2025-06-13 至 2026-06-12" in text
    assert 'data-testid="ledger-oop_MEDICAL">60,000.00<' in text  # March is inside the window
    assert 'data-testid="ledger-oop_EDUCATION">0.00<' in text  # May 2025 is not

    form = {
        "family_size": "4",
        "wage_income": "40000",
        "business_income": "8000",
        "property_income": "0",
        "transfer_income": "2000",
        "reason": "",
    }
    form |= {f"oop_{code}": page.context["form"].initial.get(f"oop_{code}", "0") for code in CATEGORIES}
    done = village.post(reverse("monitoring:lead_accounting", args=[lead.pk]), form)
    assert done.status_code == 302, done.content.decode()[:2000]

    acc = IncomeAccounting.objects.get(lead=lead)
    assert acc.rules_fired == ["EXPENDITURE_SPIKE"]
    assert acc.line == LINE and acc.line_year == 2026
    assert acc.expenditures.get(category="MEDICAL").amount == Decimal("60000.00")

    # the county sees the judgement on the lead page, beside the screening evidence
    county_page = world.client_for("county").get(reverse("monitoring:lead_detail", args=[lead.pk])).content.decode()
    assert 'data-testid="accounting-panel"' in county_page
    spike = county_page.split('data-testid="accounting-rule-EXPENDITURE_SPIKE"')[1].split("</li>")[0]
    assert "触发" in spike and "未触发" not in spike
    low = county_page.split('data-testid="accounting-rule-LOW_INCOME"')[1].split("</li>")[0]
    assert "未触发" in low
    assert county_page.index('data-testid="evidence-table"') < county_page.index('data-testid="accounting-panel"')


# -- Acceptance: the deduction setting at its boundary -------------------------------------------
@pytest.mark.parametrize(
    ("out_of_pocket", "deduct", "fires", "judged"),
    [
        # 38 000 − 10 000 = 28 000 = 4 × 7 000: per capita exactly the line — not below
        ("10000.00", True, False, "7000.00"),
        # 4 fen more out of pocket: per capita 6 999.99, one fen below the line
        ("10000.04", True, True, "6999.99"),
        # without the deduction income alone is judged: 9 500 per capita either way
        ("10000.00", False, False, "9500.00"),
        ("10000.04", False, False, "9500.00"),
    ],
)
def test_deduction_setting_moves_the_verdict_exactly_at_its_boundary(
    world: Any, out_of_pocket: str, deduct: bool, fires: bool, judged: str
) -> None:
    _lines(2026)
    hh = world.households[VILLAGE]
    ExpenditureFactory(household=hh, category="MEDICAL", occurred_on=dt.date(2026, 4, 1), amount=Decimal(out_of_pocket))
    accounting_deduction_set(actor=world.users["admin"], province_code=PROVINCE, deduct=deduct, reason="按民政方法")
    lead = LeadFactory(household=hh, raised_at=_aware(dt.date(2026, 6, 1)))
    acc = income_accounting_record(
        lead_id=lead.pk,
        actor=world.users["village"],
        data=_data(size=4, wage="30000.00", transfer="8000.00", oop={"MEDICAL": out_of_pocket}),
    )
    assert ("LOW_INCOME" in acc.rules_fired) is fires
    assert "EXPENDITURE_SPIKE" not in acc.rules_fired  # 10 000 is far below 38 000
    assert acc.deduct_out_of_pocket is deduct
    assert judgement_stored(acc).per_capita_judged == Decimal(judged)


def test_deduction_setting_is_off_by_default_changed_by_admins_with_a_reason_audited(world: Any) -> None:
    assert not IncomeAccountingSetting.objects.exists()
    admin = world.users["admin"]
    with pytest.raises(ValidationError) as no_reason:
        accounting_deduction_set(actor=admin, province_code=PROVINCE, deduct=True)
    assert "原因" in no_reason.value.message_dict["reason"][0]
    with pytest.raises(PermissionDenied):
        accounting_deduction_set(actor=world.users["province"], province_code=PROVINCE, deduct=True, reason="x")
    assert not IncomeAccountingSetting.objects.exists()

    client = world.client_for("admin")
    assert "收支核算省级设置" in client.get(reverse("monitoring:parameters")).content.decode()
    answer = client.post(
        reverse("monitoring:accounting_settings"), {"province": PROVINCE, "deduct": "on", "reason": "省民政厅通知"}
    )
    assert answer.status_code == 302
    assert IncomeAccountingSetting.objects.get(province_id=PROVINCE).deduct_out_of_pocket is True
    entry = AuditEntry.objects.get(object_type="income_accounting_setting", object_id=PROVINCE)
    assert (entry.from_state, entry.to_state, entry.reason, entry.actor) == (
        "不扣减",
        "扣减自付刚性支出",
        "省民政厅通知",
        admin,
    )
    page = client.get(reverse("monitoring:accounting_settings")).content.decode()
    assert "省民政厅通知" in page
    # the other province is untouched
    assert not IncomeAccountingSetting.objects.filter(province_id="530000000000").exists()
    assert world.client_for("county").get(reverse("monitoring:accounting_settings")).status_code == 403


# -- scoping --------------------------------------------------------------------------------------
def test_other_regions_can_neither_read_nor_write(world: Any) -> None:
    _lines(2026)
    lead = LeadFactory(household=world.households[VILLAGE], raised_at=_aware(dt.date(2026, 6, 1)))
    income_accounting_record(lead_id=lead.pk, actor=world.users["village"], data=_data(wage="50000"))
    neighbour = user("village2", Role.VILLAGE, "520101001002")
    other_province = user("county53", Role.COUNTY, "530101000000")

    with pytest.raises(ObjectOutOfScope):
        income_accounting_record(lead_id=lead.pk, actor=neighbour, data=_data(wage="1", reason="改"))
    for account in (neighbour, other_province):
        client = Client()
        client.force_login(account)
        assert client.get(reverse("monitoring:lead_accounting", args=[lead.pk])).status_code in (403, 404)
        assert client.post(reverse("monitoring:lead_accounting", args=[lead.pk]), {"wage_income": "1"}).status_code in (
            403,
            404,
        )
        assert client.get(reverse("monitoring:lead_detail", args=[lead.pk])).status_code == 404
    assert IncomeAccounting.objects.get(lead=lead).wage_income == Decimal("50000.00")

    # the county reads it but does not write it (the village records it)
    county = world.client_for("county")
    assert "accounting-panel" in county.get(reverse("monitoring:lead_detail", args=[lead.pk])).content.decode()
    assert county.get(reverse("monitoring:lead_accounting", args=[lead.pk])).status_code == 403
    with pytest.raises(PermissionDenied):
        income_accounting_record(lead_id=lead.pk, actor=world.users["county"], data=_data(wage="1", reason="改"))


# -- changes with a reason, audited --------------------------------------------------------------
def test_changes_need_a_reason_and_are_audited(world: Any) -> None:
    _lines(2026)
    hh = world.households[VILLAGE]
    ExpenditureFactory(household=hh, category="MEDICAL", occurred_on=dt.date(2026, 2, 1), amount=Decimal("5000.00"))
    lead = LeadFactory(household=hh, raised_at=_aware(dt.date(2026, 6, 1)))
    village = world.users["village"]

    # departing from the ledger on the first recording needs a reason
    with pytest.raises(ValidationError) as departed:
        income_accounting_record(lead_id=lead.pk, actor=village, data=_data(wage="50000", oop={"MEDICAL": "3000"}))
    assert "医疗" in departed.value.message_dict["reason"][0]
    assert not IncomeAccounting.objects.exists()

    acc = income_accounting_record(lead_id=lead.pk, actor=village, data=_data(wage="50000", oop={"MEDICAL": "5000"}))
    first = AuditEntry.objects.get(object_type="income_accounting", object_id=str(acc.pk))
    assert first.action == "record" and first.actor == village

    with pytest.raises(ValidationError) as no_reason:
        income_accounting_record(lead_id=lead.pk, actor=village, data=_data(wage="30000", oop={"MEDICAL": "5000"}))
    assert "修改原因" in no_reason.value.message_dict["reason"][0]
    assert IncomeAccounting.objects.get(pk=acc.pk).wage_income == Decimal("50000.00")

    income_accounting_record(
        lead_id=lead.pk,
        actor=village,
        data=_data(wage="30000", oop={"MEDICAL": "4200"}, reason="户主 3 月后停工；医疗票据复核后为 4200 元"),
    )
    edit = AuditEntry.objects.filter(object_type="income_accounting", object_id=str(acc.pk)).latest("id")
    assert edit.action == "edit" and edit.reason.startswith("户主 3 月后停工")
    assert edit.data["changes"]["wage_income"] == ["50000.00", "30000.00"]
    assert edit.data["ledger_departed"] == {"MEDICAL": ["5000.00", "4200.00"]}
    row = IncomeAccounting.objects.get(pk=acc.pk).expenditures.get(category="MEDICAL")
    assert (row.ledger_amount, row.amount) == (Decimal("5000.00"), Decimal("4200.00"))
    page = world.client_for("county").get(reverse("monitoring:lead_detail", args=[lead.pk])).content.decode()
    assert "已修改" in page and "户主 3 月后停工" in page


# -- bad input -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("family_size", "abc", "家庭人口数须为"),
        ("family_size", "0", "家庭人口数须为"),
        ("wage_income", "-1", "工资性收入不能为负数"),
        ("transfer_income", "12.345", "转移净收入最多保留 2 位小数"),
        ("business_income", "", "请填写生产经营净收入"),
        ("oop_EDUCATION", "一千", "教育自付支出必须是数字"),
        ("wage_income", "1e9", "工资性收入必须是数字"),
        ("wage_income", "1_000", "工资性收入必须是数字"),
        ("wage_income", "10000000.01", "工资性收入不能超过 10,000,000 元"),
        ("oop_MEDICAL", "20000000", "医疗自付支出不能超过 10,000,000 元"),
    ],
)
def test_bad_input_is_refused_with_a_chinese_message_naming_the_field(
    world: Any, field: str, value: str, message: str
) -> None:
    _lines(2026)
    lead = LeadFactory(household=world.households[VILLAGE], raised_at=_aware(dt.date(2026, 6, 1)))
    form = {
        "family_size": "3",
        "wage_income": "1000",
        "business_income": "-200",
        "property_income": "0",
        "transfer_income": "500",
        "reason": "",
    } | {f"oop_{code}": "0" for code in CATEGORIES}
    form[field] = value
    answer = world.client_for("village").post(reverse("monitoring:lead_accounting", args=[lead.pk]), form)
    assert answer.status_code == 400
    assert message in answer.content.decode()
    assert not IncomeAccounting.objects.exists()


def test_a_decided_lead_is_not_recorded(world: Any) -> None:
    lead = lead_in(world.households[VILLAGE], LeadState.REJECTED)
    with pytest.raises(TransitionNotAllowed):
        income_accounting_record(lead_id=lead.pk, actor=world.users["village"], data=_data(wage="1"))


# -- kept with the target ------------------------------------------------------------------------
def test_confirmation_keeps_the_judgement_with_the_target(world: Any) -> None:
    year = timezone.localdate().year
    _lines(year)
    lead = lead_in(world.households[VILLAGE], LeadState.REVIEWED)
    Lead.objects.filter(pk=lead.pk).update(state=LeadState.NEW)  # recorded at 入户核实, then reviewed
    income_accounting_record(lead_id=lead.pk, actor=world.users["village"], data=_data(size=2, wage="10000"))
    Lead.objects.filter(pk=lead.pk).update(state=LeadState.REVIEWED)
    assert IncomeAccounting.objects.get(lead=lead).rules_fired == ["LOW_INCOME"]  # 5 000 per capita

    review.lead_confirm(lead_id=lead.pk, actor=world.users["county"], decision=decision())
    acc = IncomeAccounting.objects.get(lead=lead)
    assert acc.target is not None and acc.target.lead_id == lead.pk
    assert AuditEntry.objects.filter(object_type="income_accounting", object_id=str(acc.pk), action="keep").exists()

    # a line changed later does not rewrite what the county decided on
    monitoring_line_set(year=year, line=Decimal("4000.00"))
    page = world.client_for("county").get(reverse("monitoring:target_detail", args=[acc.target.pk])).content.decode()
    assert 'data-testid="accounting-panel"' in page and "确定时留存" in page
    low = page.split('data-testid="accounting-rule-LOW_INCOME"')[1].split("</li>")[0]
    assert "触发" in low and "未触发" not in low and "7000.00" in low


# -- one rule, one place -------------------------------------------------------------------------
def test_the_window_is_judged_with_the_stored_rule_parameters(world: Any) -> None:
    """The spike's ratio is the screening rule's own parameter: raising it changes the judgement an
    open lead shows (with a note that it differs from the one made when the 核算 was saved)."""
    from monitoring.services.parameters import screening_parameters_set

    _lines(2026)
    lead = LeadFactory(household=world.households[VILLAGE], raised_at=_aware(dt.date(2026, 6, 1)))
    ExpenditureFactory(household=lead.household, category="ACCIDENT", occurred_on=dt.date(2026, 1, 5),
                       amount=Decimal("60000.00"))  # fmt: skip
    acc = income_accounting_record(
        lead_id=lead.pk, actor=world.users["village"], data=_data(wage="50000", oop={"ACCIDENT": "60000.00"})
    )
    assert acc.rules_fired == ["EXPENDITURE_SPIKE"] and acc.rule_values == {"spike_ratio": "1.0000"}

    screening_parameters_set(actor=world.users["admin"], spike_ratio=Decimal("1.5"), reason="试行")
    page = world.client_for("county").get(reverse("monitoring:lead_detail", args=[lead.pk])).content.decode()
    spike = page.split('data-testid="accounting-rule-EXPENDITURE_SPIKE"')[1].split("</li>")[0]
    assert "未触发" in spike and "1.5" in spike
    assert "录入后监测标准、规则参数或省级设置已变化" in page
    assert IncomeAccounting.objects.get(pk=acc.pk).rules_fired == ["EXPENDITURE_SPIKE"]  # the saved one is kept


def test_full_width_digits_read_as_digits(world: Any) -> None:
    _lines(2026)
    lead = LeadFactory(household=world.households[VILLAGE], raised_at=_aware(dt.date(2026, 6, 1)))
    acc = income_accounting_record(lead_id=lead.pk, actor=world.users["village"], data=_data(wage="１０００"))
    assert acc.wage_income == Decimal("1000.00")


# -- 入户核实 only -------------------------------------------------------------------------------------
@pytest.mark.parametrize("state", [LeadState.VERIFIED, LeadState.REVIEWED])
def test_after_the_village_verified_the_accounting_is_closed_409(world: Any, state: str) -> None:
    _lines(2026)
    lead = lead_in(world.households[VILLAGE], state)
    Lead.objects.filter(pk=lead.pk).update(state=LeadState.NEW)  # recorded at 入户核实, then moved on
    income_accounting_record(lead_id=lead.pk, actor=world.users["village"], data=_data(size=2, wage="10000"))
    Lead.objects.filter(pk=lead.pk).update(state=state)
    village = world.client_for("village")
    url = reverse("monitoring:lead_accounting", args=[lead.pk])
    form = {"family_size": "2", "wage_income": "90000", "business_income": "0", "property_income": "0",
            "transfer_income": "0", "reason": "改"} | {f"oop_{code}": "0" for code in CATEGORIES}  # fmt: skip
    answer = village.post(url, form)
    assert answer.status_code == 409
    text = answer.content.decode()
    assert "只能在入户核实（待核实）时录入或修改" in text and "已已" not in text
    assert IncomeAccounting.objects.get(lead=lead).wage_income == Decimal("10000.00")
    assert village.get(url).status_code == 409
    page = village.get(reverse("monitoring:lead_detail", args=[lead.pk])).content.decode()
    assert 'data-testid="accounting-panel"' in page and 'data-testid="accounting-link"' not in page


def test_closed_message_names_the_state_once(world: Any) -> None:
    lead = lead_in(world.households[VILLAGE], LeadState.CONFIRMED)
    with pytest.raises(TransitionNotAllowed) as closed:
        income_accounting_record(lead_id=lead.pk, actor=world.users["village"], data=_data(wage="1"))
    assert "“县级已确定”" in closed.value.messages[0] and "已县级" not in closed.value.messages[0]


# -- a double submit ------------------------------------------------------------------------------
def test_the_same_figures_sent_twice_change_nothing(world: Any) -> None:
    _lines(2026)
    lead = LeadFactory(household=world.households[VILLAGE], raised_at=_aware(dt.date(2026, 6, 1)))
    village = world.client_for("village")
    url = reverse("monitoring:lead_accounting", args=[lead.pk])
    form = {"family_size": "3", "wage_income": "12000", "business_income": "-200", "property_income": "0",
            "transfer_income": "500.5", "reason": ""} | {f"oop_{code}": "0" for code in CATEGORIES}  # fmt: skip
    assert village.post(url, form).status_code == 302
    again = village.post(url, form | {"wage_income": "12,000.00"})
    assert again.status_code == 302
    assert AuditEntry.objects.filter(object_type="income_accounting").count() == 1


# -- the line of the end year, or the latest before it -------------------------------------------
def test_judged_with_the_end_years_line_else_the_latest_before_it(world: Any) -> None:
    monitoring_line_set(year=2025, line=Decimal("6000.00"))
    lead = LeadFactory(household=world.households[VILLAGE], raised_at=_aware(dt.date(2026, 6, 1)))
    acc = income_accounting_record(lead_id=lead.pk, actor=world.users["village"], data=_data(size=2, wage="11000"))
    assert (acc.line_year, acc.line, acc.rules_fired) == (2025, Decimal("6000.00"), ["LOW_INCOME"])
    page = world.client_for("county").get(reverse("monitoring:lead_detail", args=[lead.pk])).content.decode()
    assert "2026 年监测标准未设置，按 2025 年标准判断" in page
    assert "人均可支配收入" in page.split('data-testid="accounting-panel"')[1]
    assert "人均纯收入" not in page

    monitoring_line_set(year=2026, line=Decimal("5000.00"))
    acc = income_accounting_record(
        lead_id=lead.pk, actor=world.users["village"], data=_data(size=2, wage="11000", reason="标准公布后复核")
    )
    # same figures: nothing written; the panel judges live with 2026's line
    page = world.client_for("county").get(reverse("monitoring:lead_detail", args=[lead.pk])).content.decode()
    assert "按 2025 年标准判断" not in page
    low = page.split('data-testid="accounting-rule-LOW_INCOME"')[1].split("</li>")[0]
    assert "未触发" in low and "2026 年监测标准 5000.00" in low
