"""A screening rule is one declaration (``monitoring.models.screening_rules``).

The fixture below adds a fourth rule — 教育支出负担过重, with its own parameter and its own figure —
as the only change, and the tests see it everywhere a rule shows: it fires in a run (a lead with its
evidence, its counts and 数据缺失 in the summary), on the lead page, in the queue's filter, the lead
export, the 公示 reason, the run page, the ``screen`` command, the parameters page (saved and
audited) and the what-if preview.  Then the registry's own checks, and the lead rule's writers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from fanpin.core.models import AuditEntry
from monitoring.models import Lead, LeadState, Member, ScreeningParameters
from monitoring.models.screening_rules import (
    PREVIOUS_TOTAL_INCOME,
    Figure,
    RuleParameter,
    RuleSettings,
    ScreeningRuleDeclaration,
    rule_register,
    rule_unregister,
    screening_rules,
    yuan,
)
from monitoring.selectors.leads import lead_reason
from monitoring.services.exports_leads import leads_export
from tests.conftest import World
from tests.factories import ExpenditureFactory, TargetFactory, income
from tests.monitoring.screening_helpers import COUNTY, YEAR, household, screen, setup_lines
from tests.monitoring.xlsx import read_sheet

pytestmark = pytest.mark.django_db

CODE = "EDUCATION_BURDEN"
LABEL = "教育支出负担过重"


def _education_evidence(f: Any, s: RuleSettings) -> dict[str, Any]:
    return {
        "education_out_of_pocket": str(yuan(f["x_education"])),
        "previous_total_income": str(yuan(f["p_total"])),
        "education_ratio": str(s.value("education_ratio")),
        "member_count": f["member_count"],
    }


EDUCATION_BURDEN = ScreeningRuleDeclaration(
    code=CODE,
    label=LABEL,
    reason="子女教育支出负担重",
    # education > r × previous total income  ⇔  education_fen × 10000 > r_bp × prev_total_fen
    fires="{p_total} IS NOT NULL AND {x_education} > 0 AND {x_education} * 10000 > {education_ratio} * {p_total}",
    missing="{p_total} IS NULL AND {x_education} > 0",
    columns={"member_count": f"SELECT COUNT(*) FROM {Member._meta.db_table} m WHERE m.household_id = h.id"},
    evidence=_education_evidence,
    figures=(
        Figure("education_out_of_pocket", "教育自付支出（元）", money=True),
        PREVIOUS_TOTAL_INCOME,
        Figure("education_ratio", "教育支出/收入阈值"),
        Figure("member_count", "家庭成员数"),
    ),
    parameters=(
        RuleParameter(
            name="education_ratio",
            label="教育支出负担比例",
            help_text="当年教育自付支出 > 比例 × 上年家庭总收入",
            default=Decimal("0.5"),
            valid=lambda v: 0 < v < 10,
            error="教育支出负担比例必须在 0 和 10 之间。",
        ),
    ),
)


@pytest.fixture
def fourth_rule() -> Iterator[ScreeningRuleDeclaration]:
    rule_register(EDUCATION_BURDEN)
    yield EDUCATION_BURDEN
    rule_unregister(CODE)


@pytest.fixture
def burdened(world: World, fourth_rule: ScreeningRuleDeclaration) -> Any:
    """One household where only the fourth rule fires (6 000 元 of school fees against 10 000 元 of
    last year's income: not a 刚性支出骤增 at ratio 1, but more than half), and one whose school
    fees cannot be judged (no income of last year)."""
    setup_lines()
    hh = household()
    income(hh, YEAR - 1, "10000.00")
    income(hh, YEAR, "10000.00")
    ExpenditureFactory(household=hh, category="EDUCATION", occurred_on=dt.date(YEAR, 9, 1), amount=Decimal("6000"))
    unknown = household()
    income(unknown, YEAR, "10000.00")
    ExpenditureFactory(household=unknown, category="EDUCATION", occurred_on=dt.date(YEAR, 9, 1), amount=Decimal("100"))
    return hh


def _fields(**changes: str) -> dict[str, str]:
    """The parameters form as the page posts it (current values)."""
    base = {
        "kind": "params",
        "spike_ratio": "1",
        "drop_ratio": "0.3",
        "drop_line_multiple": "2",
        "education_ratio": "0.5",
        "scale_cap_normal": "0.05",
        "scale_cap_deep": "0.1",
        "scale_floor": "0.01",
        "medical_alert_supported": "5000",
        "medical_alert_general": "20000",
    }
    return {**base, **changes}


def test_a_fourth_rule_fires_with_its_evidence_and_counts(burdened: Any) -> None:
    run = screen()
    lead = Lead.objects.get(household=burdened)
    assert lead.rules_fired == [CODE]
    assert lead.village_id == burdened.village_id  # the leads' scope: the household's village, copied
    assert lead.evidence["SCREENING"]["rules"] == {
        CODE: {
            "education_out_of_pocket": "6000.00",
            "previous_total_income": "10000.00",
            "education_ratio": "0.5",
            "member_count": 1,
        }
    }
    assert lead.suggested_category == "SUDDEN_HARDSHIP"  # the rule suggests no category of its own
    assert lead.suggested_risk_types == ["EDUCATION"]
    assert run.summary["rules"][CODE] == {
        "fired": 1,
        "raised": 1,
        "refreshed": 0,
        "skipped_target": 0,
        "skipped_rejected": 0,
        "missing": 1,
    }
    assert run.summary["rules"]["EXPENDITURE_SPIKE"]["fired"] == 0
    # idempotent like the others: a second run refreshes the lead
    again = screen()
    assert again.summary["rules"][CODE]["refreshed"] == 1
    assert Lead.objects.filter(household=burdened).count() == 1


def test_a_fourth_rule_parameter_is_used(burdened: Any) -> None:
    from monitoring.services.parameters import screening_parameters_set

    screening_parameters_set(actor=None, education_ratio=Decimal("0.6"))  # 6 000 is not > 6 000
    assert ScreeningParameters.objects.get().rule_values == {"education_ratio": "0.6"}
    screen()
    assert not Lead.objects.filter(household=burdened).exists()
    screening_parameters_set(actor=None, education_ratio=Decimal("0.5999"))
    screen()
    assert Lead.objects.get(household=burdened).evidence["SCREENING"]["rules"][CODE]["education_ratio"] == "0.5999"


def test_a_fourth_rule_shows_on_the_lead_page_queue_and_export(
    client: Any, world: World, burdened: Any, tmp_path: Path
) -> None:
    screen()
    lead = Lead.objects.get(household=burdened)
    client.force_login(world.users["county"])
    page = client.get(reverse("monitoring:lead_detail", args=[lead.pk])).content.decode()
    assert f'<dd class="col-sm-4">{LABEL}</dd>' in page  # 触发规则
    assert f"<td>{LABEL}</td>" in page  # the evidence table's rule column
    assert "教育自付支出（元）：6,000.00" in page
    assert "上年家庭纯收入（元）：10,000.00" in page
    assert "教育支出/收入阈值：0.5" in page
    assert "家庭成员数：1" in page

    queue = client.get(reverse("monitoring:lead_queue"), {"state": "ALL", "rule": CODE}).content.decode()
    assert f'<option value="{CODE}" selected>{LABEL}</option>' in queue
    assert burdened.household_no in queue
    api = client.get("/api/v1/leads/", {"rule": CODE})
    assert api.status_code == 200
    assert [row["id"] for row in api.json()["results"]] == [lead.pk]

    output = tmp_path / "leads.xlsx"
    leads_export(user=world.users["county"], output=str(output))
    header, *rows = read_sheet(output)
    exported = [dict(zip(header, row, strict=True)) for row in rows]
    assert [r["触发规则"] for r in exported if r["户编号"] == burdened.household_no] == [LABEL]
    assert "子女教育支出负担重" in lead_reason(lead)  # the 公示名单's words


def test_a_fourth_rule_shows_on_the_run_page_and_in_the_command(client: Any, world: World, burdened: Any) -> None:
    run = screen()
    client.force_login(world.users["county"])
    page = client.get(reverse("monitoring:screening_run", args=[run.pk])).content.decode()
    assert f'<th scope="row">{LABEL}</th>' in page
    home = client.get(reverse("monitoring:screening")).content.decode()
    assert f"刚性支出骤增、收入骤减、{LABEL}" in home
    out = StringIO()
    call_command("screen", "--year", str(YEAR), "--region", COUNTY, stdout=out)
    assert f"{LABEL}：触发 1 户，数据缺失 1 户" in out.getvalue()


def test_a_fourth_rule_parameter_on_the_page_and_in_the_what_if_preview(
    client: Any, world: World, burdened: Any
) -> None:
    client.force_login(world.users["admin"])
    page = client.get(reverse("monitoring:parameters")).content.decode()
    assert '<label for="id_education_ratio" class="form-label">教育支出负担比例</label>' in page
    assert "当年教育自付支出 &gt; 比例 × 上年家庭总收入（默认 0.5）" in page

    def preview(**changes: str) -> str:
        data = {**_fields(**changes), "preview_year": str(YEAR)}
        return client.post(reverse("monitoring:parameters_preview"), data).content.decode()

    # 520101: the burdened household is in scope now; at a ratio of 0.6 it would leave it
    assert '<td class="text-end">1</td><td class="text-end">0</td><td class="text-end">-1</td>' in preview(
        education_ratio="0.6"
    )
    assert '<td class="text-end">1</td><td class="text-end">1</td><td class="text-end">0</td>' in preview()
    refused = client.post(reverse("monitoring:parameters"), _fields(education_ratio="12"))
    assert refused.status_code == 400
    assert "教育支出负担比例必须在 0 和 10 之间。" in refused.content.decode()
    saved = client.post(reverse("monitoring:parameters"), _fields(education_ratio="0.6", reason="省里文件"))
    assert saved.status_code == 302
    entry = AuditEntry.objects.get(object_type="screening_parameter")
    assert (entry.object_id, entry.from_state, entry.to_state) == ("education_ratio", "0.5", "0.6")
    assert ScreeningParameters.objects.get().rule_values == {"education_ratio": "0.6"}


def test_without_the_fourth_rule_nothing_of_it_shows(world: World) -> None:
    assert [rule.code for rule in screening_rules()] == ["LOW_INCOME", "EXPENDITURE_SPIKE", "INCOME_DROP"]
    setup_lines()
    run = screen()
    assert set(run.summary["rules"]) == {"LOW_INCOME", "EXPENDITURE_SPIKE", "INCOME_DROP"}


# -- the registry refuses what it could not generate -------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"code": "LOW_INCOME"}, "already registered"),
        ({"code": "bad code"}, "upper-case"),
        ({"fires": "{c_total} < {nowhere}"}, "unknown names"),
        ({"missing": "{spike_ratio} = 0"}, "unknown names"),  # another rule's parameter
        ({"columns": {"c_total": "1"}}, "column name"),
        ({"category": "NOT_A_CATEGORY"}, "unknown category"),
    ],
)
def test_registry_refuses_a_declaration_it_cannot_use(changes: dict[str, Any], message: str) -> None:
    from dataclasses import replace

    with pytest.raises(ValueError, match=message):
        rule_register(replace(EDUCATION_BURDEN, **changes))
    assert CODE not in [rule.code for rule in screening_rules()]


# -- one lead rule: every writer skips targets and merges into the open lead -------------------------
def test_other_sources_and_screening_follow_the_same_lead_rule(world: World) -> None:
    from monitoring.services.review import lead_raise_or_merge
    from monitoring.services.review_bulk import LeadRequest, leads_raise_or_merge_many

    setup_lines()
    hh = household()
    income(hh, YEAR, "100.00")
    visit = lead_raise_or_merge(
        household_id=hh.pk, source="VISIT", evidence={"note": "住房漏雨"}, suggested_risk_types=["HOUSING"]
    )
    assert visit is not None and visit.suggested_category == "SUDDEN_HARDSHIP"
    screen()  # merges: rules and category from screening, the visit's risk type kept
    lead = Lead.objects.get(household=hh)
    assert lead.pk == visit.pk
    assert lead.sources == ["SCREENING", "VISIT"]
    assert lead.rules_fired == ["LOW_INCOME"]
    assert lead.suggested_category == "EDGE_AT_RISK"
    assert lead.suggested_risk_types == ["HOUSING"]
    outcome = leads_raise_or_merge_many(
        requests=[LeadRequest(hh.pk, [{"alert": 1}], {"ILLNESS"})], source="DEPARTMENT_ALERT"
    )
    assert (outcome.raised, outcome.merged) == (0, 1)
    lead.refresh_from_db()
    assert lead.rules_fired == ["LOW_INCOME"] and lead.suggested_category == "EDGE_AT_RISK"  # kept
    assert lead.suggested_risk_types == ["ILLNESS", "HOUSING"]
    assert lead.evidence["VISIT"][0]["note"] == "住房漏雨" and "at" in lead.evidence["VISIT"][0]
    assert lead.evidence["DEPARTMENT_ALERT"][0]["alert"] == 1
    assert lead.evidence["SCREENING"]["rules"]["LOW_INCOME"]["per_capita_income"] == "100.00"

    target = household()
    income(target, YEAR, "100.00")
    TargetFactory(household=target)
    assert lead_raise_or_merge(household_id=target.pk, source="VISIT", evidence={}) is None
    assert leads_raise_or_merge_many(requests=[LeadRequest(target.pk, [{}])], source="VISIT").skipped_targets == 1
    assert screen().summary["leads"]["skipped_target"] == 1
    assert not Lead.objects.filter(household=target).exists()
    assert Lead.objects.filter(state=LeadState.NEW).count() == 1
