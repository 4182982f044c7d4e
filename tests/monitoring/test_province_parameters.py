"""Issue 18, item 5: rule parameters per province, falling back to the national values — screening
(county, province and all-province runs), the lead evidence, the 12-month accounting judgement, the
医保 extracts and the scale check use the province's values; every change audited and validated."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from fanpin.core.models import AuditEntry
from fanpin.core.roles import Department, Role
from fanpin.core.scoping import ObjectOutOfScope
from monitoring.models import DepartmentAlert, Lead, ProvinceRuleParameters
from monitoring.selectors.accounting import accounting_judge
from monitoring.selectors.province_parameters import (
    parameter_values_by_province,
    parameter_values_for,
    province_parameter_rows,
)
from monitoring.selectors.scale import scale_check
from monitoring.selectors.screening import rule_settings_for, screening_preview
from monitoring.services.alerts.medical import medical_settlements_submit
from monitoring.services.parameters import screening_parameters_set
from monitoring.services.province_parameters import province_parameters_reset, province_parameters_set
from tests.factories import ExpenditureFactory, income, make_id_number, region, user
from tests.monitoring.screening_helpers import YEAR, household, screen, setup_lines

pytestmark = pytest.mark.django_db

P52, P53 = "520000000000", "530000000000"
V52, V53 = "520101001001", "530101001001"
C52, C53 = "520101000000", "530101000000"


@pytest.fixture
def admin():  # type: ignore[no-untyped-def]
    return user("admin", Role.ADMIN, None)


def spiking(village: str):  # type: ignore[no-untyped-def]
    """A household whose rigid spending of YEAR is 0.75 × last year's income: the spike rule fires
    at ratio 0.5, not at the national 1.0; its income stays far above the line (no other rule)."""
    hh = household(village=village)
    income(hh, YEAR - 1, "10000.00", size=2)
    income(hh, YEAR, "10000.00", size=2)
    ExpenditureFactory(household=hh, occurred_on=dt.date(YEAR, 5, 1), amount=Decimal("15000.00"))
    return hh


@pytest.fixture
def two_provinces(admin):  # type: ignore[no-untyped-def]
    setup_lines()
    region(V53)
    hh52, hh53 = spiking(V52), spiking(V53)
    province_parameters_set(
        actor=admin, province_code=P53, values={"spike_ratio": Decimal("0.5")}, reason="省里 2026 年文件"
    )
    return hh52, hh53


def lead_of(hh):  # type: ignore[no-untyped-def]
    return Lead.objects.filter(household=hh).first()


# -- resolution -----------------------------------------------------------------------------------
def test_values_fall_back_to_national_and_follow_it(admin) -> None:  # type: ignore[no-untyped-def]
    region(V52)
    region(V53)
    province_parameters_set(actor=admin, province_code=P53, values={"spike_ratio": "0.5"}, reason="文件")
    assert parameter_values_for(province_code=V53)["spike_ratio"] == Decimal("0.5")
    assert parameter_values_for(province_code=V53)["drop_ratio"] == Decimal("0.30")
    assert parameter_values_for(province_code=V52)["spike_ratio"] == Decimal("1.0")
    screening_parameters_set(actor=admin, drop_ratio=Decimal("0.25"), spike_ratio=Decimal("1.2"))
    in53 = parameter_values_for(province_code=V53)
    assert in53["drop_ratio"] == Decimal("0.25")  # inherited: follows the national value
    assert in53["spike_ratio"] == Decimal("0.5")  # its own: stays
    many = parameter_values_by_province(province_codes=[V52, V53])
    assert many.of(V52)["spike_ratio"] == Decimal("1.2") and many.of(V53)["spike_ratio"] == Decimal("0.5")
    assert many.of("")["spike_ratio"] == Decimal("1.2")  # no province: national
    rows = {r.name: r for r in province_parameter_rows(province_code=P53)}
    assert rows["spike_ratio"].own == Decimal("0.5") and not rows["spike_ratio"].inherited
    assert rows["drop_ratio"].inherited and rows["drop_ratio"].value == Decimal("0.25")


def test_rule_settings_resolve_in_one_query(admin, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    setup_lines()
    province_parameters_set(actor=admin, province_code=P52, values={"drop_ratio": "0.4"}, reason="文件")
    with django_assert_num_queries(2):  # the values (national and own together) and the line
        settings = rule_settings_for(county_code=C52, year=YEAR)
    assert settings.value("drop_ratio") == Decimal("0.4") and settings.value("spike_ratio") == Decimal("1.0")


# -- screening ------------------------------------------------------------------------------------
def test_two_provinces_screen_the_same_household_differently(two_provinces) -> None:  # type: ignore[no-untyped-def]
    hh52, hh53 = two_provinces
    screen(C52)
    screen(C53)
    assert lead_of(hh52) is None
    lead = lead_of(hh53)
    assert lead is not None and lead.rules_fired == ["EXPENDITURE_SPIKE"]
    # the evidence says which ratio judged it: the province's
    assert Decimal(lead.evidence["SCREENING"]["rules"]["EXPENDITURE_SPIKE"]["ratio"]) == Decimal("0.5")


def test_province_runs_and_a_run_over_every_province_use_each_province_values(two_provinces) -> None:  # type: ignore[no-untyped-def]
    hh52, hh53 = two_provinces
    for code in (P52, P53):  # the staged path: the province evaluated in one statement
        run = screen(code)
        assert run.status == "SUCCEEDED"
        assert run.summary["settings"]["values"]["spike_ratio"] == ("1.0000" if code == P52 else "0.5000")
    assert lead_of(hh52) is None and lead_of(hh53) is not None
    evidence = lead_of(hh53).evidence["SCREENING"]["rules"]["EXPENDITURE_SPIKE"]  # built in SQL from the stage
    assert Decimal(evidence["ratio"]) == Decimal("0.5")
    Lead.objects.all().delete()
    call_command("screen", year=YEAR, stdout=StringIO())  # every province with households
    assert lead_of(hh52) is None and lead_of(hh53) is not None


def test_a_county_run_stays_a_fixed_number_of_queries_with_own_values(admin, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    setup_lines()
    region(V53)
    province_parameters_set(actor=admin, province_code=P53, values={"spike_ratio": "0.5"}, reason="文件")
    households = [spiking(V53) for _ in range(6)]
    with django_assert_max_num_queries(25):  # as without own values (test_screening_idempotency)
        run = screen(C53)
    assert run.leads_raised == len(households)


def test_changing_a_province_value_refreshes_its_leads_evidence(two_provinces, admin) -> None:  # type: ignore[no-untyped-def]
    _hh52, hh53 = two_provinces
    screen(C53)
    province_parameters_set(actor=admin, province_code=P53, values={"spike_ratio": "0.6"}, reason="调整")
    run = screen(C53)
    assert run.leads_refreshed == 1
    assert Decimal(lead_of(hh53).evidence["SCREENING"]["rules"]["EXPENDITURE_SPIKE"]["ratio"]) == Decimal("0.6")


def test_reset_to_national_screens_as_before(two_provinces, admin) -> None:  # type: ignore[no-untyped-def]
    _hh52, hh53 = two_provinces
    province_parameters_reset(actor=admin, province_code=P53, reason="恢复全国口径")
    assert ProvinceRuleParameters.objects.get(province_code=P53).spike_ratio is None
    screen(C53)
    assert lead_of(hh53) is None


def test_a_province_row_without_values_behaves_as_national(admin) -> None:  # type: ignore[no-untyped-def]
    setup_lines()
    region(V53)
    hh = spiking(V53)
    ProvinceRuleParameters.objects.create(province_code=P53)
    screen(C53)
    assert lead_of(hh) is None
    screening_parameters_set(actor=admin, spike_ratio=Decimal("0.7"))
    screen(C53)
    assert lead_of(hh) is not None


def test_the_accounting_judgement_uses_the_province_ratio(two_provinces) -> None:  # type: ignore[no-untyped-def]
    figures = {
        "end_year": YEAR,
        "family_size": 2,
        "income": Decimal("20000"),
        "out_of_pocket": {"MEDICAL": Decimal("15000")},
    }
    in52 = accounting_judge(village_code=V52, **figures)
    in53 = accounting_judge(village_code=V53, **figures)
    assert "EXPENDITURE_SPIKE" not in in52.fired
    assert "EXPENDITURE_SPIKE" in in53.fired
    assert in53.values["spike_ratio"] == "0.5000"


# -- the what-if preview ---------------------------------------------------------------------------
def test_preview_of_a_province_counts_only_its_counties(two_provinces) -> None:  # type: ignore[no-untyped-def]
    rows = screening_preview(year=YEAR, values={"spike_ratio": Decimal("1.0")}, values_province_code=P53)
    assert [(r.county_code, r.current, r.proposed) for r in rows] == [(C53, 1, 0)]
    rows = screening_preview(year=YEAR, values={"spike_ratio": Decimal("0.5")}, values_province_code=P52)
    assert [(r.county_code, r.current, r.proposed) for r in rows] == [(C52, 0, 1)]


def test_national_preview_leaves_provinces_own_values_alone(two_provinces) -> None:  # type: ignore[no-untyped-def]
    rows = {r.county_code: r for r in screening_preview(year=YEAR, values={"spike_ratio": Decimal("2.0")})}
    assert (rows[C52].current, rows[C52].proposed) == (0, 0)
    assert (rows[C53].current, rows[C53].proposed) == (1, 1)  # 0.5 is its own
    rows = {r.county_code: r for r in screening_preview(year=YEAR, values={"spike_ratio": Decimal("0.7")})}
    assert (rows[C52].current, rows[C52].proposed) == (0, 1)


# -- 医保 extracts and the scale check ---------------------------------------------------------------
def test_medical_thresholds_per_province(admin) -> None:  # type: ignore[no-untyped-def]
    setup_lines()
    region(V53)
    people = {}
    for village in (V52, V53):
        hh = household(village=village)
        people[village] = hh.members.get().id_number
    province_parameters_set(
        actor=admin, province_code=P53, values={"medical_alert_general": "10000.00"}, reason="省医保局通知"
    )
    stranger = make_id_number()
    items = [
        {"id_number": people[V52], "year": 2024, "out_of_pocket": Decimal("12000.00")},
        {"id_number": people[V53], "year": 2024, "out_of_pocket": Decimal("12000.00")},
        {"id_number": people[V53], "year": 2023, "out_of_pocket": Decimal("9999.99")},
    ]
    medical_settlements_submit(user=admin, items=items)
    assert {(a.id_number, a.alert_date.year) for a in DepartmentAlert.objects.all()} == {(people[V53], 2024)}
    # a province's 医保 department: people not found get its province's threshold
    dept53 = user("dept53", Role.DEPT, P53, department=Department.MEDICAL_INSURANCE)
    medical_settlements_submit(
        user=dept53, items=[{"id_number": stranger, "year": 2024, "out_of_pocket": Decimal("10000.00")}]
    )
    assert DepartmentAlert.objects.filter(id_number=stranger).exists()


def test_scale_bounds_per_province(admin) -> None:  # type: ignore[no-untyped-def]
    region(V52)
    region(V53)
    province_parameters_set(actor=admin, province_code=P53, values={"scale_cap_normal": "0.08"}, reason="文件")
    rows = {r.county_code: r for r in scale_check(prefix="")}
    assert rows[C52].cap == Decimal("0.05") and rows[C53].cap == Decimal("0.08")
    assert rows[C53].floor == Decimal("0.01")


# -- the service: who, validation, audit -----------------------------------------------------------
def test_every_change_is_audited_from_to_with_reason(admin) -> None:  # type: ignore[no-untyped-def]
    region(V53)
    province_parameters_set(
        actor=admin,
        province_code=P53,
        values={"spike_ratio": "0.5", "medical_alert_supported": "4000", "drop_ratio": None},
        reason="省文件",
    )
    entries = {e.object_id: e for e in AuditEntry.objects.filter(object_type="province_rule_parameter")}
    assert set(entries) == {f"{P53}:spike_ratio", f"{P53}:medical_alert_supported"}  # drop_ratio unchanged
    spike = entries[f"{P53}:spike_ratio"]
    assert (spike.from_state, spike.to_state, spike.reason, spike.region_code) == (
        "沿用全国默认值",
        "0.5000",
        "省文件",
        P53,
    )
    assert spike.actor == admin and spike.data["national"] == "1.0000"
    assert entries[f"{P53}:medical_alert_supported"].to_state == "4000.00"
    province_parameters_set(actor=admin, province_code=P53, values={"spike_ratio": None}, reason="恢复")
    back = AuditEntry.objects.filter(object_id=f"{P53}:spike_ratio", action="reset").get()
    assert (back.from_state, back.to_state) == ("0.5000", "沿用全国默认值")
    # nothing changed: nothing written
    count = AuditEntry.objects.count()
    province_parameters_set(actor=admin, province_code=P53, values={"spike_ratio": ""}, reason="")
    assert AuditEntry.objects.count() == count


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"spike_ratio": "0"}, "spike_ratio", "刚性支出骤增倍数必须大于 0"),
        ({"drop_ratio": "1.2"}, "drop_ratio", "收入骤减比例必须在 0 和 1 之间"),
        ({"medical_alert_general": "-5"}, "medical_alert_general", "大额医疗支出预警线（其他人员）必须大于 0"),
        ({"spike_ratio": "500"}, "spike_ratio", "刚性支出骤增倍数数值过大"),
        ({"scale_floor": "0.06"}, "scale_floor", "下限必须不小于 0 且小于一般地区上限"),  # over the inherited cap
        ({"spike_ratio": "abc"}, "spike_ratio", "刚性支出骤增倍数必须是数字"),
    ],
)
def test_invalid_values_are_refused_naming_the_field(admin, values, field, words) -> None:  # type: ignore[no-untyped-def]
    region(V53)
    with pytest.raises(ValidationError) as exc:
        province_parameters_set(actor=admin, province_code=P53, values=values, reason="试")
    assert words in " ".join(exc.value.message_dict[field])
    assert not ProvinceRuleParameters.objects.filter(province_code=P53).exclude(spike_ratio=None).exists()
    assert not AuditEntry.objects.filter(object_type="province_rule_parameter").exists()


def test_a_reason_is_required(admin) -> None:  # type: ignore[no-untyped-def]
    region(V53)
    with pytest.raises(ValidationError) as exc:
        province_parameters_set(actor=admin, province_code=P53, values={"spike_ratio": "0.5"}, reason=" ")
    assert "reason" in exc.value.message_dict


def test_a_national_change_may_not_break_a_province(admin) -> None:  # type: ignore[no-untyped-def]
    region(V53)
    province_parameters_set(actor=admin, province_code=P53, values={"scale_floor": "0.03"}, reason="文件")
    with pytest.raises(ValidationError) as exc:
        screening_parameters_set(actor=admin, scale_cap_normal=Decimal("0.02"), scale_cap_deep=Decimal("0.1"))
    assert "区划530000000000" in " ".join(exc.value.messages)


def test_who_may_change_a_province(admin) -> None:  # type: ignore[no-untyped-def]
    region(V52)
    region(V53)
    own = user("p53", Role.PROVINCE, P53)
    province_parameters_set(actor=own, province_code=P53, values={"spike_ratio": "0.5"}, reason="本省文件")
    assert parameter_values_for(province_code=P53)["spike_ratio"] == Decimal("0.5")
    with pytest.raises(ObjectOutOfScope):
        province_parameters_set(actor=own, province_code=P52, values={"spike_ratio": "0.5"}, reason="越权")
    for role, code in ((Role.CITY, "530100000000"), (Role.COUNTY, C53)):
        with pytest.raises(PermissionDenied):
            province_parameters_set(
                actor=user(f"u{role}", role, code), province_code=P53, values={"spike_ratio": "0.6"}, reason="越权"
            )
    with pytest.raises(ObjectOutOfScope):
        province_parameters_set(actor=admin, province_code="999999999999", values={}, reason="")
    assert parameter_values_for(province_code=P53)["spike_ratio"] == Decimal("0.5")


def test_a_later_rule_parameter_is_kept_in_rule_values(admin) -> None:  # type: ignore[no-untyped-def]
    from monitoring.models.screening_rules import (
        Evidence,
        RuleParameter,
        ScreeningRuleDeclaration,
        rule_register,
        rule_unregister,
    )

    rule = ScreeningRuleDeclaration(
        code="TEST_FAMILY_SIZE",
        label="人口多",
        reason="人口多",
        fires="{c_size} >= {size_floor_test}",
        missing="{c_size} IS NULL",
        evidence=Evidence({}),
        parameters=(
            RuleParameter(
                name="size_floor_test",
                label="人口下限",
                help_text="",
                default=Decimal("6"),
                valid=lambda v: v >= 1,
                error="人口下限必须不小于 1。",
                unit="yuan",
            ),
        ),
    )
    rule_register(rule)
    try:
        region(V53)
        province_parameters_set(actor=admin, province_code=P53, values={"size_floor_test": "4"}, reason="文件")
        assert ProvinceRuleParameters.objects.get(province_code=P53).rule_values == {"size_floor_test": "4"}
        assert rule_settings_for(county_code=C53, year=YEAR).value("size_floor_test") == Decimal("4")
        assert rule_settings_for(county_code=C52, year=YEAR).value("size_floor_test") == Decimal("6")
        with pytest.raises(ValidationError) as exc:
            province_parameters_set(actor=admin, province_code=P53, values={"size_floor_test": "0"}, reason="文件")
        assert "人口下限必须不小于 1" in " ".join(exc.value.message_dict["size_floor_test"])
        province_parameters_set(actor=admin, province_code=P53, values={"size_floor_test": None}, reason="恢复")
        assert ProvinceRuleParameters.objects.get(province_code=P53).rule_values == {}
    finally:
        rule_unregister(rule.code)
