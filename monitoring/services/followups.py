"""Writes of the green channel's follow-up (绿色通道补办, SPEC §5.6; decision record
2026-12-04-green-channel-follow-up).

``follow_up_open`` is called by the county's direct confirmation (``review._confirm``) in its
transaction: the steps the lead lacked are owed. The village records each owed step
(``follow_up_step_record``: row locked, scope, role, order and the identification's own date rules
of ``procedure_rules``); each record is audited, and the last one closes the follow-up (``DONE``,
audited). A 不同意 appraisal closes it too, flagged for the county to look at the target again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from fanpin.core.audit import audit_record
from fanpin.core.roles import Role, effective_role
from fanpin.core.workflow import ObjectOutOfScope, TransitionNotAllowed
from monitoring.models import (
    CHECKLIST_FIELDS,
    AppraisalOutcome,
    FollowUp,
    FollowUpState,
    FollowUpStep,
    Lead,
    MonitoringTarget,
    TargetStatus,
)
from monitoring.services.procedure_rules import publicity_errors, step_dates_errors

OBJECT_TYPE = "follow_up"
DISAGREED_REVIEW_REASON = "补办民主评议结果为“不同意纳入”，请县级复核该户。"
COUNTY_REVIEW_NOTE_MAX = 500
ROLE_REFUSALS: dict[str, str] = {
    Role.VILLAGE: "绿色通道补办的入户核实、民主评议和公示由村级登记。",
    Role.COUNTY: "补办民主评议不同意的监测对象由县级复核。",
}


def follow_up_owed(lead: Lead) -> dict[str, bool]:
    """What a lead lacks for identification: 入户核实 with the household's 承诺授权, an agreeing
    民主评议, a 公示 (the steps ``review.lead_verify`` records)."""
    return {
        "owes_home_check": lead.home_checked_on is None or lead.consent_signed is not True,
        "owes_appraisal": lead.appraisal_on is None or lead.appraisal_outcome != AppraisalOutcome.AGREED,
        "owes_publicity": lead.publicity_start is None,
    }


def _region(follow_up: FollowUp) -> str:
    return str(follow_up.target.household.village_id)


def follow_up_open(
    *, target: MonitoringTarget, lead: Lead, actor: Any, today: dt.date | None = None
) -> FollowUp | None:
    """Open the follow-up of a directly confirmed target (None when the lead lacked nothing).

    Runs inside the confirmation's transaction (the caller's atomic block): both or neither."""
    owed = follow_up_owed(lead)
    if not any(owed.values()):
        return None
    now = timezone.now()
    with transaction.atomic():
        follow_up = FollowUp.objects.create(
            target=target,
            lead=lead,
            opened_on=today or timezone.localdate(now),
            opened_at=now,
            opened_by=actor if getattr(actor, "pk", None) else None,
            **owed,
        )
        audit_record(
            actor=actor,
            object_type=OBJECT_TYPE,
            object_id=follow_up.pk,
            region_code=str(target.household.village_id),
            action="follow_up_open",
            to_state=FollowUpState.OPEN,
            reason="县级直接确定，须补办：" + "、".join(FollowUpStep(s).label for s in follow_up.owed_steps),
            data={"target": target.pk, "lead": lead.pk, "owed": follow_up.owed_steps},
        )
    return follow_up


# -- the village's records -----------------------------------------------------------------------
@dataclass(frozen=True)
class HomeCheckRecord:
    checked_on: dt.date
    checked_by: str
    checklist: dict[str, bool]  # CHECKLIST_FIELDS name → secured
    consent_signed: bool


@dataclass(frozen=True)
class AppraisalRecord:
    appraisal_on: dt.date
    outcome: str


@dataclass(frozen=True)
class PublicityRecord:
    start: dt.date
    end: dt.date


StepRecord = HomeCheckRecord | AppraisalRecord | PublicityRecord
STEP_OF: dict[type, str] = {
    HomeCheckRecord: FollowUpStep.HOME_CHECK,
    AppraisalRecord: FollowUpStep.APPRAISAL,
    PublicityRecord: FollowUpStep.PUBLICITY,
}


def _locked(*, follow_up_id: int, actor: Any, role: str = Role.VILLAGE) -> FollowUp:
    """The row, locked, if it is in the actor's scope (404 otherwise); the role is checked after
    the scope so that nobody learns which rows exist outside their region."""
    if not FollowUp.objects.for_user(actor).filter(pk=follow_up_id).exists():
        raise ObjectOutOfScope("绿色通道补办")
    if effective_role(actor) != role:
        raise PermissionDenied(ROLE_REFUSALS[role])
    return (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("target__household", "lead")
        .get(pk=follow_up_id)
    )


def _home_check_date(follow_up: FollowUp) -> dt.date | None:
    if follow_up.owes_home_check:
        return follow_up.home_checked_on
    return follow_up.lead.home_checked_on if follow_up.lead else None


def _appraisal_date(follow_up: FollowUp) -> dt.date | None:
    if follow_up.owes_appraisal:
        return follow_up.appraisal_on
    return follow_up.lead.appraisal_on if follow_up.lead else None


def _home_check_errors(record: HomeCheckRecord) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not record.checked_by.strip():
        errors["checked_by"] = "请填写核实人。"
    missing = [label for name, label in CHECKLIST_FIELDS if name not in record.checklist]
    if missing:
        errors["checklist"] = "请逐项填写两不愁三保障核实结果：" + "、".join(missing) + "。"
    if not record.consent_signed:
        errors["consent_signed"] = "农户未签署承诺授权书，不能登记入户核实；农户拒绝授权的，请报县级复核该监测对象。"
    return errors


def _record_errors(follow_up: FollowUp, record: StepRecord, *, today: dt.date) -> dict[str, str]:
    raised_on = timezone.localdate(follow_up.lead.raised_at) if follow_up.lead else None
    if isinstance(record, HomeCheckRecord):
        errors = _home_check_errors(record)
        dates = {"checked_on": ("入户核实日期", record.checked_on)}
    elif isinstance(record, AppraisalRecord):
        errors = {}
        if record.outcome not in (AppraisalOutcome.AGREED, AppraisalOutcome.DISAGREED):
            errors["outcome"] = "请选择民主评议结果。"
        checked = _home_check_date(follow_up)
        if checked is not None and record.appraisal_on < checked:
            errors["appraisal_on"] = f"民主评议日期不能早于入户核实日期（{checked:%Y-%m-%d}）。"
        dates = {"appraisal_on": ("民主评议日期", record.appraisal_on)}
    else:
        errors = publicity_errors(
            appraisal_on=_appraisal_date(follow_up), publicity_start=record.start, publicity_end=record.end
        )
        if "appraisal_on" in errors:  # the appraisal is recorded already: name the field of this form
            errors["start"] = errors.pop("appraisal_on")
        if "publicity_end" in errors:
            errors["end"] = errors.pop("publicity_end")
        if "end" not in errors and record.end >= today:
            errors["end"] = f"公示期满后再登记（公示至{record.end.year}年{record.end.month}月{record.end.day}日）。"
        dates = {"start": ("公示开始日期", record.start)}
    for name, message in step_dates_errors(dates=dates, today=today, raised_on=raised_on).items():
        errors.setdefault(name, message)
    return errors


def _order_refusal(follow_up: FollowUp, step: str) -> str:
    """The steps go in order: 入户核实 → 民主评议 → 公示 (only the owed ones wait for each other)."""
    if step == FollowUpStep.APPRAISAL and follow_up.owes_home_check and not follow_up.home_check_recorded_at:
        return "请先登记入户核实，再登记民主评议。"
    if step == FollowUpStep.PUBLICITY and follow_up.owes_appraisal and not follow_up.appraisal_recorded_at:
        return "请先登记民主评议，再登记公示。"
    if step == FollowUpStep.PUBLICITY and follow_up.owes_home_check and not follow_up.home_check_recorded_at:
        return "请先登记入户核实，再登记公示。"
    return ""


@transaction.atomic
def follow_up_step_record(
    *, follow_up_id: int, actor: Any, record: StepRecord, today: dt.date | None = None
) -> FollowUp:
    """The village records one owed step; the last one (or a 不同意 appraisal) closes the follow-up.

    A second submission of the same step (a double click, a second cadre) is refused with 409
    after the first one's lock is released: nothing is written twice."""
    today = today or timezone.localdate()
    step = STEP_OF[type(record)]
    follow_up = _locked(follow_up_id=follow_up_id, actor=actor)
    label = FollowUpStep(step).label
    if follow_up.state != FollowUpState.OPEN:
        raise TransitionNotAllowed("该绿色通道补办已完成，不能再登记。")
    if step not in follow_up.owed_steps:
        raise TransitionNotAllowed(f"该对象不欠{label}（直接确定前已在线索上登记）。")
    if follow_up.step_recorded(step):
        raise TransitionNotAllowed(f"{label}已登记，不能重复登记。")
    refusal = _order_refusal(follow_up, step)
    if refusal:
        raise TransitionNotAllowed(refusal)
    errors = _record_errors(follow_up, record, today=today)
    if errors:
        raise ValidationError(errors)

    now = timezone.now()
    fields: list[str]
    data: dict[str, Any]
    if isinstance(record, HomeCheckRecord):
        follow_up.home_checked_on = record.checked_on
        follow_up.home_checked_by = record.checked_by.strip()[:100]
        follow_up.home_checklist = {name: bool(record.checklist[name]) for name, _label in CHECKLIST_FIELDS}
        follow_up.consent_signed = record.consent_signed
        follow_up.home_check_recorded_at, follow_up.home_check_recorded_by = now, actor
        fields = ["home_checked_on", "home_checked_by", "home_checklist", "consent_signed"]
        fields += ["home_check_recorded_at", "home_check_recorded_by"]
        data = {"checked_on": record.checked_on.isoformat(), "checklist": follow_up.home_checklist}
    elif isinstance(record, AppraisalRecord):
        follow_up.appraisal_on, follow_up.appraisal_outcome = record.appraisal_on, record.outcome
        follow_up.appraisal_recorded_at, follow_up.appraisal_recorded_by = now, actor
        fields = ["appraisal_on", "appraisal_outcome", "appraisal_recorded_at", "appraisal_recorded_by"]
        data = {"appraisal_on": record.appraisal_on.isoformat(), "outcome": record.outcome}
    else:
        follow_up.publicity_start, follow_up.publicity_end = record.start, record.end
        follow_up.publicity_recorded_at, follow_up.publicity_recorded_by = now, actor
        fields = ["publicity_start", "publicity_end", "publicity_recorded_at", "publicity_recorded_by"]
        data = {"publicity": [record.start.isoformat(), record.end.isoformat()]}
    region = _region(follow_up)
    audit_record(
        actor=actor,
        object_type=OBJECT_TYPE,
        object_id=follow_up.pk,
        region_code=region,
        action=f"follow_up_{step.lower()}",
        from_state=follow_up.state,
        to_state=follow_up.state,
        reason=f"补办{label}",
        data={"target": follow_up.target_id, **data},
    )
    disagreed = isinstance(record, AppraisalRecord) and record.outcome == AppraisalOutcome.DISAGREED
    if disagreed or not follow_up.steps_outstanding:
        follow_up.state, follow_up.completed_at = FollowUpState.DONE, now
        fields += ["state", "completed_at"]
        if disagreed:
            follow_up.county_review, follow_up.county_review_reason = True, DISAGREED_REVIEW_REASON
            fields += ["county_review", "county_review_reason"]
        audit_record(
            actor=actor,
            object_type=OBJECT_TYPE,
            object_id=follow_up.pk,
            region_code=region,
            action="follow_up_complete",
            from_state=FollowUpState.OPEN,
            to_state=FollowUpState.DONE,
            reason=DISAGREED_REVIEW_REASON if disagreed else "补办程序已全部登记",
            data={"target": follow_up.target_id, "county_review": disagreed},
        )
    follow_up.save(update_fields=fields)
    return follow_up


# -- the county's answer to a 不同意 appraisal ------------------------------------------------------
@transaction.atomic
def follow_up_county_review(*, follow_up_id: int, actor: Any, note: str) -> FollowUp:
    """县级复核: the county keeps the directly confirmed target although the follow-up's 民主评议 did
    not agree, with its written opinion (required, audited). From then on the identification stands:
    the follow-up no longer waits for the county (待办, 需县级复核), the 公告 of the period lists the
    household, and the elimination criterion of the green channel is met. A county that agrees
    with the village ends the monitoring through 风险消除 (a target has no third state, SPEC §3).
    """
    follow_up = _locked(follow_up_id=follow_up_id, actor=actor, role=Role.COUNTY)
    if not follow_up.county_review:
        raise TransitionNotAllowed("该绿色通道补办没有提请县级复核。")
    if follow_up.county_reviewed_at is not None:
        raise TransitionNotAllowed("该绿色通道补办已经县级复核，不能重复复核。")
    if follow_up.target.status != TargetStatus.ACTIVE:
        raise TransitionNotAllowed("该监测对象已风险消除，不再复核。")
    # a line break is one character, as the textarea's maxlength counts it (browsers send CRLF)
    note = (note or "").replace("\r\n", "\n").strip()
    if not note:
        raise ValidationError({"note": "请填写县级复核意见（维持认定的理由）。"})
    if len(note) > COUNTY_REVIEW_NOTE_MAX:
        raise ValidationError({"note": f"县级复核意见不能超过 {COUNTY_REVIEW_NOTE_MAX} 个字。"})
    follow_up.county_reviewed_at, follow_up.county_reviewed_by = timezone.now(), actor
    follow_up.county_review_note = note
    follow_up.save(update_fields=["county_reviewed_at", "county_reviewed_by", "county_review_note"])
    audit_record(
        actor=actor,
        object_type=OBJECT_TYPE,
        object_id=follow_up.pk,
        region_code=_region(follow_up),
        action="follow_up_county_review",
        from_state=follow_up.state,
        to_state=follow_up.state,
        reason=f"县级复核，维持认定：{note}",
        data={"target": follow_up.target_id, "outcome": "KEEP"},
    )
    return follow_up
