"""The lead review workflow (SPEC §5): 待核实 → 村级已核实 → 乡镇已审核 → 县级已确定 / 未纳入.

``LEAD_WORKFLOW`` is the single place that says who may do which transition in which state;
every service below goes through ``LEAD_WORKFLOW.apply`` (row lock, role/state/region checks,
opinion, audit row).  ``lead_raise_or_merge`` is the entry point for new sources (visits,
applications, self-reports; department alerts call its batch form in ``review_bulk``); screening
writes its own leads in ``screening_leads``; all of them follow the one rule of ``lead_decision``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from fanpin.core.roles import Role, effective_role
from fanpin.core.terms import term
from fanpin.core.workflow import ObjectOutOfScope, Transition, TransitionNotAllowed, Workflow
from monitoring.models import (
    MAX_RISK_TYPES,
    AppraisalOutcome,
    Lead,
    LeadSource,
    LeadState,
    MonitoringTarget,
    RejectionCategory,
    RiskType,
    TargetCategory,
    TargetStatus,
)
from monitoring.selectors.comparisons import comparisons_refusal
from monitoring.services.acceptance import lead_accepted_by_home_check
from monitoring.services.accounting import income_accounting_keep
from monitoring.services.followups import follow_up_open
from monitoring.services.notices import notices_lead_decided
from monitoring.services.procedure_rules import publicity_errors, step_dates_errors
from monitoring.services.review_bulk import LeadRequest, leads_raise_or_merge_many
from monitoring.services.uploads import scan_upload_error

S = LeadState
LEAD_WORKFLOW: Workflow[Lead] = Workflow(
    object_type="lead",
    noun="线索",
    model=Lead,
    region_code=lambda lead: lead.household.village_id,
    state_labels=dict(LeadState.choices),
    transitions=[
        Transition("verify", "村级核实", sources=(S.NEW,), target=S.VERIFIED, roles={Role.VILLAGE}),
        Transition("review", "乡镇审核", sources=(S.VERIFIED,), target=S.REVIEWED, roles={Role.TOWNSHIP}),
        Transition("confirm", "县级确定", sources=(S.REVIEWED,), target=S.CONFIRMED, roles={Role.COUNTY}),
        Transition(
            "confirm_direct",
            "县级直接确定",
            sources=(S.NEW, S.VERIFIED),
            target=S.CONFIRMED,
            roles={Role.COUNTY},
            reason_required=True,
        ),
        # Each level rejects at its own step; the county at any step.
        Transition(
            "reject",
            "不予纳入",
            sources=(S.NEW, S.VERIFIED, S.REVIEWED),
            target=S.REJECTED,
            roles={Role.VILLAGE, Role.TOWNSHIP, Role.COUNTY},
            reason_required=True,
            roles_in_state={
                S.NEW: {Role.VILLAGE, Role.COUNTY},
                S.VERIFIED: {Role.TOWNSHIP, Role.COUNTY},
                S.REVIEWED: {Role.COUNTY},
            },
        ),
    ],
)
# Lead-related exceptions the views translate (404 / 403 / message).
WORKFLOW_ERRORS = (ObjectOutOfScope, PermissionDenied, TransitionNotAllowed, ValidationError)


def _now() -> dt.datetime:
    return timezone.now()


def _today() -> dt.date:
    return timezone.localdate()


# -- village verification ------------------------------------------------------------------------
@dataclass(frozen=True)
class Verification:
    """What the village records (SPEC §5); ``visit_id``: the cadre's visit the home check was made on."""

    home_checked_on: dt.date
    consent_signed: bool
    appraisal_on: dt.date
    appraisal_outcome: str
    publicity_start: dt.date
    publicity_end: dt.date
    consent_scan: UploadedFile | None = None
    visit_id: int | None = None


VERIFICATION_DATES = {
    "home_checked_on": "入户核实日期",
    "appraisal_on": "民主评议日期",
    "publicity_start": "公示开始日期",
}


def lead_raised_on(lead: Lead) -> dt.date:
    """The day a lead was raised (local date), whatever raised it (screening, visit, application, alert)."""
    return timezone.localdate(lead.raised_at)


def _cn(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def verification_errors(v: Verification, *, raised_on: dt.date | None = None) -> dict[str, str]:
    """What is wrong with a village verification (field → Chinese message).

    The home check, the appraisal and the start of the posting lie between the lead's raising
    (``raised_on``) and today (a posting back-dated before the lead existed would skip the 5 days).
    A household that has not signed the consent, or a democratic appraisal that disagreed, cannot be
    verified: the village rejects the lead with the reason instead.
    """
    errors: dict[str, str] = {}
    if not v.consent_signed:
        errors["consent_signed"] = "农户未签署承诺授权书，不能核实通过；如农户不同意授权，请“不予纳入”并写明理由。"
    if v.appraisal_outcome not in (AppraisalOutcome.AGREED, AppraisalOutcome.DISAGREED):
        errors["appraisal_outcome"] = "请选择民主评议结果。"
    elif v.appraisal_outcome == AppraisalOutcome.DISAGREED:
        errors["appraisal_outcome"] = "民主评议未通过，不能核实通过；请“不予纳入”并写明理由。"
    # the date rules the green channel's follow-up shares (monitoring.services.procedure_rules)
    errors |= publicity_errors(
        appraisal_on=v.appraisal_on, publicity_start=v.publicity_start, publicity_end=v.publicity_end
    )
    dates = {name: (label, getattr(v, name)) for name, label in VERIFICATION_DATES.items()}
    errors |= step_dates_errors(dates=dates, today=_today(), raised_on=raised_on)
    if v.consent_scan is not None:
        message = scan_upload_error(v.consent_scan, what="承诺授权书扫描件")
        if message:
            errors["consent_scan"] = message
    return errors


def lead_verify(*, lead_id: int, actor: Any, opinion: str, verification: Verification) -> Lead:
    """村级核实: records the home check, consent, appraisal and posting; NEW → VERIFIED.

    Checked after the lead is locked (scope, role, state first), against the lead's raising day.
    """

    def on_apply(lead: Lead) -> list[str]:
        errors = verification_errors(verification, raised_on=lead_raised_on(lead))
        if errors:
            raise ValidationError(errors)
        lead.verified_at = _now()
        lead.home_checked_on = verification.home_checked_on
        lead.consent_signed = verification.consent_signed
        lead.appraisal_on = verification.appraisal_on
        lead.appraisal_outcome = verification.appraisal_outcome
        lead.publicity_start = verification.publicity_start
        lead.publicity_end = verification.publicity_end
        accepted_before = lead.accepted_on
        accepted = lead_accepted_by_home_check(lead, checked_on=verification.home_checked_on)
        if accepted and accepted_before is not None:
            data["accepted_on_corrected"] = [accepted_before.isoformat(), verification.home_checked_on.isoformat()]
        fields = [
            *accepted,
            "verified_at",
            "home_checked_on",
            "consent_signed",
            "appraisal_on",
            "appraisal_outcome",
            "publicity_start",
            "publicity_end",
        ]
        if verification.consent_scan is not None:
            lead.consent_scan.save(verification.consent_scan.name or "scan", verification.consent_scan, save=False)
            fields.append("consent_scan")
        return fields

    data = {
        "home_checked_on": verification.home_checked_on.isoformat(),
        "consent_signed": verification.consent_signed,
        "appraisal_on": verification.appraisal_on.isoformat(),
        "appraisal_outcome": verification.appraisal_outcome,
        "publicity": [verification.publicity_start.isoformat(), verification.publicity_end.isoformat()],
    }
    if verification.visit_id is not None:
        data["visit_id"] = verification.visit_id
    return LEAD_WORKFLOW.apply(
        pk=lead_id, name="verify", actor=actor, opinion=opinion or "已入户核实", on_apply=on_apply, data=data
    )


def verification_refusal(lead: Lead) -> str:
    """Why a verified lead may not go on to township review or county confirmation (consent not
    signed, appraisal disagreed, a 信息比对 有异常 not judged), or ``""``.  The county's direct
    confirmation (SPEC §5, green channel: help first, paperwork after, with a written reason) is
    not held back by this, except by a 有异常 not judged (``_confirm``)."""
    if lead.consent_signed is not True:
        return "该线索的农户承诺授权未签署，不能审核或确定；请补签授权书后重新核实，或“不予纳入”。"
    if lead.appraisal_outcome != AppraisalOutcome.AGREED:
        return "该线索的民主评议未通过，不能审核或确定；请“不予纳入”并写明理由。"
    # 信息比对: a 有异常 without the county's written judgement (the one rule)
    return comparisons_refusal(lead_id=lead.pk)


# -- township review -----------------------------------------------------------------------------
def lead_review(*, lead_id: int, actor: Any, opinion: str) -> Lead:
    """乡镇审核: only after the public posting has ended; VERIFIED → REVIEWED."""

    def on_apply(lead: Lead) -> list[str]:
        refusal = verification_refusal(lead)
        if refusal:
            raise ValidationError(refusal)
        if lead.publicity_end is not None and _today() <= lead.publicity_end:
            end = lead.publicity_end
            raise ValidationError(
                f"公示期至{end.year}年{end.month}月{end.day}日结束，"
                f"请于{(end + dt.timedelta(days=1)).year}年{(end + dt.timedelta(days=1)).month}月"
                f"{(end + dt.timedelta(days=1)).day}日及以后审核。"
            )
        lead.reviewed_at = _now()  # 办理时限: the township's step ends, the county's starts
        return ["reviewed_at"]

    return LEAD_WORKFLOW.apply(pk=lead_id, name="review", actor=actor, opinion=opinion or "审核通过", on_apply=on_apply)


# -- county decision -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Decision:
    category: str
    risk_types: Sequence[str] = field(default_factory=tuple)
    identified_on: dt.date | None = None


def decision_errors(d: Decision) -> dict[str, str]:
    errors: dict[str, str] = {}
    if d.category not in TargetCategory.values:
        errors["category"] = f"请选择{term('target')}类别。"
    risks = list(dict.fromkeys(d.risk_types))
    if not risks:
        errors["risk_types"] = "请至少选择一种风险类型。"
    elif len(risks) > MAX_RISK_TYPES:
        errors["risk_types"] = f"风险类型最多选择 {MAX_RISK_TYPES} 项。"
    elif any(r not in RiskType.values for r in risks):
        errors["risk_types"] = "风险类型无效。"
    if d.identified_on is not None and d.identified_on > _today():
        errors["identified_on"] = "识别日期不能晚于今天。"
    return errors


def identified_on_error(identified_on: dt.date, *, lead: Lead) -> str:
    """识别日期 lies between the lead's raising and today (a date of 1900 would make a target look
    monitored for a century and meet the six-month rule of risk elimination at once)."""
    raised_on = lead_raised_on(lead)
    if identified_on < raised_on:
        return f"识别日期不能早于线索发现日期（{_cn(raised_on)}）。"
    if identified_on > _today():
        return "识别日期不能晚于今天。"
    return ""


def appeal_unverified_refusal(lead: Lead) -> str:
    """An appeal (申诉) is looked at again: the county decides it only after the village's 入户核实
    (and 评议公示), not seconds after it was filed; ``""`` when the lead may be decided."""
    if LeadSource.APPEAL in (lead.sources or []) and lead.verified_at is None:
        return "申诉线索须先由村级入户核实、民主评议和公示，核实后县级才能审定。"
    return ""


def _confirm(*, lead_id: int, actor: Any, opinion: str, decision: Decision, name: str) -> Lead:
    errors = decision_errors(decision)
    if errors:
        raise ValidationError(errors)
    risks = [r for r in RiskType.values if r in set(decision.risk_types)]

    def on_apply(lead: Lead) -> list[str]:
        now = _now()
        refusal = appeal_unverified_refusal(lead)
        if refusal:
            raise TransitionNotAllowed(refusal)
        if name == "confirm":  # the direct confirmation (green channel) owes the paperwork
            refusal = verification_refusal(lead)
            if refusal:
                raise ValidationError(refusal)
        elif refusal := comparisons_refusal(lead_id=lead.pk):  # a 有异常 unjudged holds the direct one too
            raise ValidationError(refusal)
        identified_on = decision.identified_on or _today()
        wrong_date = identified_on_error(identified_on, lead=lead)
        if wrong_date:
            raise ValidationError({"identified_on": wrong_date})
        if MonitoringTarget.objects.filter(household_id=lead.household_id, status=TargetStatus.ACTIVE).exists():
            raise ValidationError(f"该户已是监测中的{term('target')}，不能重复确定。")
        try:
            with transaction.atomic():
                target = MonitoringTarget.objects.create(
                    household_id=lead.household_id,
                    lead=lead,
                    category=decision.category,
                    risk_types=risks,
                    identified_on=identified_on,
                    sources=list(lead.sources or []),
                    confirmed_at=now,
                    confirmed_by=actor if getattr(actor, "pk", None) else None,
                    direct=name == "confirm_direct",
                )
        except IntegrityError:
            raise ValidationError(f"该户已是监测中的{term('target')}，不能重复确定。") from None
        # the 12-month 家庭收支核算 the county decided on stays with the target
        income_accounting_keep(lead=lead, target=target, actor=actor)
        if name == "confirm_direct":  # the green channel owes the steps the lead lacked (SPEC §5.6)
            follow_up_open(target=target, lead=lead, actor=actor, today=_today())
        lead.decided_at = now
        lead.decided_by = actor
        notices_lead_decided(lead=lead, category=decision.category)
        return ["decided_at", "decided_by"]

    data = {"category": decision.category, "risk_types": risks}
    return LEAD_WORKFLOW.apply(pk=lead_id, name=name, actor=actor, opinion=opinion, on_apply=on_apply, data=data)


def lead_confirm(*, lead_id: int, actor: Any, decision: Decision, opinion: str = "") -> Lead:
    """县级确定: REVIEWED → CONFIRMED, creating the monitoring target."""
    return _confirm(
        lead_id=lead_id, actor=actor, opinion=opinion or f"确定为{term('target')}", decision=decision, name="confirm"
    )


def lead_confirm_direct(*, lead_id: int, actor: Any, decision: Decision, reason: str) -> Lead:
    """县级直接确定 (urgent: help first, paperwork after): NEW/VERIFIED → CONFIRMED, reason required."""
    return _confirm(lead_id=lead_id, actor=actor, opinion=reason, decision=decision, name="confirm_direct")


def lead_reject(*, lead_id: int, actor: Any, reason: str, category: str = RejectionCategory.OTHER) -> Lead:
    """未纳入, with a written reason (for the staff) and its category (what the household is told),
    at the actor's step.  A lead carrying an appeal (申诉) is decided by the county only."""
    reason = (reason or "").strip()
    if category not in RejectionCategory.values:
        raise ValidationError({"category": "请选择未纳入原因类别。"})

    def on_apply(lead: Lead) -> list[str]:
        if LeadSource.APPEAL in (lead.sources or []) and effective_role(actor) not in (Role.COUNTY, Role.ADMIN):
            raise TransitionNotAllowed("申诉线索须由县级审定：村、乡镇不能不予纳入，请核实后报县级。")
        refusal = appeal_unverified_refusal(lead)
        if refusal:
            raise TransitionNotAllowed(refusal)
        lead.rejection_reason = reason
        lead.rejection_category = category
        lead.decided_at = _now()
        lead.decided_by = actor if getattr(actor, "pk", None) else None
        notices_lead_decided(lead=lead)
        return ["rejection_reason", "rejection_category", "decided_at", "decided_by"]

    return LEAD_WORKFLOW.apply(pk=lead_id, name="reject", actor=actor, opinion=reason, on_apply=on_apply)


# -- bulk ----------------------------------------------------------------------------------------
@dataclass
class BulkOutcome:
    done: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)  # lead id → message


def leads_bulk_decide(
    *, lead_ids: Iterable[int], actor: Any, decision: str, reason: str = "", category: str = RejectionCategory.OTHER
) -> BulkOutcome:
    """Bulk 确定 (with each lead's suggested category and risk types) or 未纳入 (one reason and one
    reason category for all).

    Each lead is its own transaction: one lead that fails (decided meanwhile, out of scope) does
    not undo the others; the outcome says which.
    """
    if decision not in ("confirm", "reject"):
        raise ValidationError("未知的批量操作。")
    if decision == "reject" and not reason.strip():
        raise ValidationError({"reason": "批量不予纳入必须填写理由。"})
    outcome = BulkOutcome()
    for lead_id in dict.fromkeys(lead_ids):
        try:
            if decision == "reject":
                lead_reject(lead_id=lead_id, actor=actor, reason=reason, category=category)
            else:
                lead = Lead.objects.for_user(actor).filter(pk=lead_id).first()
                if lead is None:
                    raise ObjectOutOfScope("线索")
                suggested = Decision(
                    category=lead.suggested_category or TargetCategory.SUDDEN_HARDSHIP,
                    risk_types=list(lead.suggested_risk_types or []) or [RiskType.OTHER.value],
                )
                lead_confirm(lead_id=lead_id, actor=actor, decision=suggested, opinion=reason.strip())
            outcome.done.append(lead_id)
        except WORKFLOW_ERRORS as exc:
            outcome.failed[lead_id] = error_text(exc)
    return outcome


def error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return str(exc) or "操作失败。"


# -- new sources ---------------------------------------------------------------------------------
def lead_raise_or_merge(
    *,
    household_id: int,
    source: str,
    evidence: dict[str, Any],
    year: int | None = None,
    actor: Any = None,
    suggested_risk_types: Sequence[str] = (),
) -> Lead | None:
    """Raise a lead for ``household_id`` from ``source``, or merge into its open lead: the batch
    call ``leads_raise_or_merge_many`` with one household (the rule: ``lead_decision``).

    Sources accumulate (a set); evidence accumulates per source as a list of entries (screening
    keeps its own ``{"SCREENING": {...}}`` snapshot).  A household that is an active monitoring
    target gets no lead (returns ``None``).  Audited as ``raise`` or ``merge``.
    """
    outcome = leads_raise_or_merge_many(
        requests=[LeadRequest(household_id, [evidence], set(suggested_risk_types))],
        source=source,
        actor=actor,
        year=year,
    )
    return outcome.leads.get(household_id)
