"""The one lead rule (``monitoring.services.lead_decision.lead_decide``), without a database."""

from __future__ import annotations

from monitoring.services.lead_decision import LeadAction, OpenLead, Rejection, Signal, lead_decide

AT = "2024-05-01T08:00:00+00:00"


def visit(**changes: object) -> Signal:
    fields: dict[str, object] = {
        "source": "VISIT",
        "household_type": "GENERAL",
        "evidence": [{"note": "走访"}],
        "risk_types": {"HOUSING"},
        "at": AT,
    }
    return Signal(**{**fields, **changes})  # type: ignore[arg-type]


def screening(rules: list[str], household_type: str = "GENERAL") -> Signal:
    return Signal(
        source="SCREENING",
        household_type=household_type,
        evidence=[{"year": 2024, "run": 2, "rules": {r: {} for r in rules}}],
        risk_types={"ILLNESS"},
        rules_fired=rules,
    )


def test_an_active_target_gets_nothing_whatever_else_holds() -> None:
    opened = OpenLead(sources=["VISIT"], evidence={})
    for signal in (visit(), screening(["LOW_INCOME"])):
        assert lead_decide(signal=signal, active_target=True, open_lead=opened).action == LeadAction.SKIP_TARGET


def test_a_new_lead_from_a_source_and_from_screening() -> None:
    new = lead_decide(signal=visit(), active_target=False, open_lead=None)
    assert new.action == LeadAction.CREATE
    assert (new.sources, new.rules_fired, new.category) == (["VISIT"], [], "SUDDEN_HARDSHIP")
    assert new.evidence == {"VISIT": [{"note": "走访", "at": AT}]}
    assert new.risk_types == ["HOUSING"]
    screened = lead_decide(signal=screening(["LOW_INCOME"]), active_target=False, open_lead=None)
    assert (screened.rules_fired, screened.category) == (["LOW_INCOME"], "EDGE_AT_RISK")
    assert screened.evidence == {"SCREENING": {"year": 2024, "run": 2, "rules": {"LOW_INCOME": {}}}}  # no stamp
    exited = lead_decide(signal=screening(["LOW_INCOME"], "EXITED"), active_target=False, open_lead=None)
    assert exited.category == "UNSTABLE_EXITED"


def test_merge_appends_entries_replaces_the_snapshot_and_unites_risks() -> None:
    opened = OpenLead(
        sources=["SCREENING"],
        evidence={"SCREENING": {"year": 2023, "run": 1, "rules": {}}, "VISIT": {"note": "旧格式"}},
        risk_types=["DISABILITY"],
        category="EDGE_AT_RISK",
        rules_fired=["LOW_INCOME"],
    )
    merged = lead_decide(signal=visit(), active_target=False, open_lead=opened)
    assert merged.action == LeadAction.MERGE
    assert merged.sources == ["SCREENING", "VISIT"]
    assert merged.evidence["VISIT"] == [{"note": "旧格式"}, {"note": "走访", "at": AT}]
    assert merged.evidence["SCREENING"] == opened.evidence["SCREENING"]
    assert (merged.rules_fired, merged.category) == (["LOW_INCOME"], "EDGE_AT_RISK")  # a visit judges no rule
    assert merged.risk_types == ["DISABILITY", "HOUSING"]
    refreshed = lead_decide(signal=screening(["EXPENDITURE_SPIKE"]), active_target=False, open_lead=opened)
    assert refreshed.evidence["SCREENING"]["run"] == 2
    assert (refreshed.rules_fired, refreshed.category) == (["EXPENDITURE_SPIKE"], "SUDDEN_HARDSHIP")


def test_risk_types_keep_the_spec_order_and_at_most_five() -> None:
    opened = OpenLead(sources=["VISIT"], evidence={}, risk_types=["OTHER", "HOUSING", "DISASTER", "EDUCATION"])
    merged = lead_decide(signal=visit(risk_types={"ILLNESS", "DISABILITY"}), active_target=False, open_lead=opened)
    assert merged.risk_types == ["ILLNESS", "DISABILITY", "EDUCATION", "DISASTER", "HOUSING"]


def test_a_rejection_of_this_year_holds_screening_back_until_something_is_new() -> None:
    before = Rejection(rules_fired=["LOW_INCOME", "INCOME_DROP"], new_expenditure=False)
    same = lead_decide(signal=screening(["LOW_INCOME"]), active_target=False, open_lead=None, rejection=before)
    assert same.action == LeadAction.SKIP_REJECTED
    new_rule = lead_decide(
        signal=screening(["EXPENDITURE_SPIKE"]), active_target=False, open_lead=None, rejection=before
    )
    assert new_rule.action == LeadAction.CREATE
    spent = Rejection(rules_fired=["LOW_INCOME"], new_expenditure=True)
    assert (
        lead_decide(signal=screening(["LOW_INCOME"]), active_target=False, open_lead=None, rejection=spent).action
        == LeadAction.CREATE
    )
    # an open lead (raised since by another source) is refreshed, whatever was rejected
    opened = OpenLead(sources=["VISIT"], evidence={})
    assert (
        lead_decide(signal=screening(["LOW_INCOME"]), active_target=False, open_lead=opened, rejection=before).action
        == LeadAction.MERGE
    )
