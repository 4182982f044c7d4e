"""The review workflow's services: each step, its records and refusals, merging new sources."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from fanpin.core.models import AuditEntry
from fanpin.core.terms import term
from fanpin.core.workflow import TransitionNotAllowed
from monitoring.models import Lead, LeadState, MonitoringTarget
from monitoring.services import review
from tests.conftest import World
from tests.factories import LeadFactory, TargetFactory
from tests.monitoring.review_helpers import VILLAGE, decision, lead_in, today, verification

pytestmark = pytest.mark.django_db


def test_full_path_village_township_county_creates_target_and_audits_each_step(world: World) -> None:
    hh = world.households[VILLAGE]
    lead = lead_in(hh)
    review.lead_verify(
        lead_id=lead.pk, actor=world.users["village"], opinion="入户核实属实", verification=verification()
    )
    review.lead_review(lead_id=lead.pk, actor=world.users["township"], opinion="同意")
    review.lead_confirm(
        lead_id=lead.pk,
        actor=world.users["county"],
        decision=decision(category="SUDDEN_HARDSHIP", risk_types=["DISASTER", "ILLNESS"]),
    )
    lead.refresh_from_db()
    assert lead.state == LeadState.CONFIRMED
    assert lead.decided_by == world.users["county"]
    assert lead.consent_signed is True and lead.appraisal_outcome == "AGREED"
    target = MonitoringTarget.objects.get(lead=lead)
    assert (target.category, target.risk_types, target.status, target.identified_on) == (
        "SUDDEN_HARDSHIP",
        ["ILLNESS", "DISASTER"],  # SPEC order
        "ACTIVE",
        today(),
    )
    assert target.sources == ["SCREENING"]
    trail = list(AuditEntry.objects.filter(object_type="lead", object_id=str(lead.pk)).order_by("id"))
    assert [(a.action, a.from_state, a.to_state, a.actor.username) for a in trail] == [
        ("verify", "NEW", "VERIFIED", "village"),
        ("review", "VERIFIED", "REVIEWED", "township"),
        ("confirm", "REVIEWED", "CONFIRMED", "county"),
    ]
    assert trail[0].reason == "入户核实属实"
    assert trail[0].data["publicity"] == [
        verification().publicity_start.isoformat(),
        verification().publicity_end.isoformat(),
    ]


def test_township_review_refused_while_posting_runs_with_the_end_date(world: World) -> None:
    lead = lead_in(world.households[VILLAGE])
    v = verification(ended=False)
    review.lead_verify(lead_id=lead.pk, actor=world.users["village"], opinion="", verification=v)
    end = v.publicity_end
    with pytest.raises(ValidationError, match=f"公示期至{end.year}年{end.month}月{end.day}日结束"):
        review.lead_review(lead_id=lead.pk, actor=world.users["township"], opinion="同意")
    lead.refresh_from_db()
    assert lead.state == LeadState.VERIFIED
    assert not AuditEntry.objects.filter(action="review").exists()


@pytest.mark.parametrize("days", [1, 4])
def test_posting_shorter_than_five_days_is_refused(world: World, days: int) -> None:
    lead = lead_in(world.households[VILLAGE])
    with pytest.raises(ValidationError) as exc:
        review.lead_verify(
            lead_id=lead.pk, actor=world.users["village"], opinion="", verification=verification(days=days)
        )
    assert "公示期不少于 5 天" in exc.value.message_dict["publicity_end"][0]


def test_reject_needs_a_reason_and_records_it(world: World) -> None:
    lead = lead_in(world.households[VILLAGE])
    with pytest.raises(ValidationError, match="必须填写理由"):
        review.lead_reject(lead_id=lead.pk, actor=world.users["village"], reason="  ")
    review.lead_reject(lead_id=lead.pk, actor=world.users["village"], reason="入户核实收入已恢复")
    lead.refresh_from_db()
    assert (lead.state, lead.rejection_reason) == (LeadState.REJECTED, "入户核实收入已恢复")


def test_direct_confirm_needs_reason_and_skips_the_steps(world: World) -> None:
    lead = lead_in(world.households[VILLAGE])
    with pytest.raises(ValidationError, match="必须填写理由"):
        review.lead_confirm_direct(lead_id=lead.pk, actor=world.users["county"], decision=decision(), reason="")
    review.lead_confirm_direct(
        lead_id=lead.pk, actor=world.users["county"], decision=decision(), reason="突发火灾，先帮扶后补手续"
    )
    target = MonitoringTarget.objects.get(lead=lead)
    assert target.direct is True
    assert AuditEntry.objects.get(action="confirm_direct").reason == "突发火灾，先帮扶后补手续"


def test_confirm_checks_category_and_at_most_five_risk_types(world: World) -> None:
    lead = lead_in(world.households[VILLAGE], LeadState.REVIEWED)
    with pytest.raises(ValidationError) as exc:
        review.lead_confirm(
            lead_id=lead.pk,
            actor=world.users["county"],
            decision=decision(risk_types=["ILLNESS", "DISABILITY", "EDUCATION", "DISASTER", "ACCIDENT", "EPIDEMIC"]),
        )
    assert "最多选择 5 项" in exc.value.message_dict["risk_types"][0]
    with pytest.raises(ValidationError):
        review.lead_confirm(lead_id=lead.pk, actor=world.users["county"], decision=decision(category="X"))
    with pytest.raises(ValidationError, match="晚于今天"):
        review.lead_confirm(
            lead_id=lead.pk,
            actor=world.users["county"],
            decision=decision(identified_on=today() + dt.timedelta(days=1)),
        )
    assert not MonitoringTarget.objects.exists()


def test_confirm_refused_when_household_already_an_active_target(world: World) -> None:
    hh = world.households[VILLAGE]
    TargetFactory(household=hh)
    lead = lead_in(hh, LeadState.REVIEWED)
    with pytest.raises(ValidationError, match=f"已是监测中的{term('target')}"):
        review.lead_confirm(lead_id=lead.pk, actor=world.users["county"], decision=decision())
    lead.refresh_from_db()
    assert lead.state == LeadState.REVIEWED


def test_decided_lead_cannot_be_decided_again(world: World) -> None:
    lead = lead_in(world.households[VILLAGE], LeadState.REVIEWED)
    review.lead_confirm(lead_id=lead.pk, actor=world.users["county"], decision=decision())
    with pytest.raises(TransitionNotAllowed, match="县级已确定"):
        review.lead_reject(lead_id=lead.pk, actor=world.users["county"], reason="重复")
    assert MonitoringTarget.objects.count() == 1


def test_raise_or_merge_accumulates_sources_and_evidence(world: World) -> None:
    hh = world.households[VILLAGE]
    first = review.lead_raise_or_merge(household_id=hh.pk, source="VISIT", evidence={"note": "走访发现住房漏雨"})
    assert first is not None and first.state == LeadState.NEW
    second = review.lead_raise_or_merge(
        household_id=hh.pk,
        source="DEPARTMENT_ALERT",
        evidence={"note": "医保：大额医疗支出"},
        suggested_risk_types=["ILLNESS"],
    )
    third = review.lead_raise_or_merge(household_id=hh.pk, source="VISIT", evidence={"note": "再次走访"})
    assert first.pk == second.pk == third.pk  # type: ignore[union-attr]
    lead = Lead.objects.get()
    assert lead.sources == ["DEPARTMENT_ALERT", "VISIT"]
    assert [e["note"] for e in lead.evidence["VISIT"]] == ["走访发现住房漏雨", "再次走访"]
    assert lead.suggested_risk_types == ["ILLNESS"]
    assert [a.action for a in AuditEntry.objects.filter(object_type="lead").order_by("id")] == [
        "raise",
        "merge",
        "merge",
    ]


def test_raise_or_merge_keeps_screening_evidence_and_skips_active_targets(world: World) -> None:
    hh = world.households[VILLAGE]
    lead = LeadFactory(household=hh, evidence={"SCREENING": {"year": 2024, "rules": {"LOW_INCOME": {}}}})
    review.lead_raise_or_merge(household_id=hh.pk, source="SELF_APPLICATION", evidence={"note": "农户申报"})
    lead.refresh_from_db()
    assert lead.sources == ["SCREENING", "SELF_APPLICATION"]
    assert lead.evidence["SCREENING"]["year"] == 2024
    other = world.households["520101001002"]
    TargetFactory(household=other)
    assert review.lead_raise_or_merge(household_id=other.pk, source="VISIT", evidence={}) is None
    # a decided lead is not reopened: a new lead is raised
    lead.state, lead.decided_at, lead.rejection_reason = LeadState.REJECTED, timezone.now(), "x"
    lead.save()
    new = review.lead_raise_or_merge(household_id=hh.pk, source="VISIT", evidence={"note": "新情况"})
    assert new is not None and new.pk != lead.pk


def test_bulk_decide_reports_each_lead(world: World) -> None:
    a = lead_in(world.households[VILLAGE], LeadState.REVIEWED)
    b = lead_in(world.households["520101001002"], LeadState.REVIEWED)
    c = lead_in(world.households["530101001001"], LeadState.REVIEWED)  # outside the county
    outcome = review.leads_bulk_decide(lead_ids=[a.pk, b.pk, c.pk], actor=world.users["county"], decision="confirm")
    assert outcome.done == [a.pk, b.pk]
    assert "不在您的管辖范围" in outcome.failed[c.pk]
    assert MonitoringTarget.objects.get(lead=a).risk_types == ["ILLNESS", "LACK_OF_LABOR"]
    with pytest.raises(ValidationError, match="必须填写理由"):
        review.leads_bulk_decide(lead_ids=[c.pk], actor=world.users["county"], decision="reject")
    d = lead_in(world.households["520101002001"])
    outcome = review.leads_bulk_decide(
        lead_ids=[a.pk, d.pk], actor=world.users["county"], decision="reject", reason="不符合"
    )
    assert outcome.done == [d.pk] and "县级已确定" in outcome.failed[a.pk]
