"""申诉 (appeals): a household that disagrees with a 未纳入 decision asks for it to be looked at again.

The applicant files it from the public status page (receipt number + name), or a cadre files it for
the household from the rejected lead's page.  An appeal is a lead with the source ``APPEAL`` linked
to the rejected one (``Lead.appeal_of``); like every new source it is merged into the household's
open lead if there is one.  It goes through the usual steps (入户核实, 评议公示, 审核), but only the
county may decide it (confirm, or reject again: ``review.lead_reject``).  One appeal per rejected
lead at a time (the constraint ``lead_one_open_appeal_per_lead``); the rejected lead's audit trail
records the appeal.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from fanpin.core.audit import audit_record
from fanpin.core.masking import free_text_mask
from fanpin.core.roles import Permission, effective_role, role_can
from fanpin.core.terms import term
from monitoring.models import Lead, LeadSource, LeadState, MonitoringTarget, RejectionCategory, TargetStatus
from monitoring.selectors.status import NOT_FOUND_TEXT, receipt_status
from monitoring.services.review import LEAD_WORKFLOW, lead_raise_or_merge

APPEAL_REASON_MAX = 1000
CHANNEL_LABELS = {"PUBLIC": "农户通过查询页面提出", "CADRE": "干部代为提出"}


class ReceiptNotFound(Exception):
    """The receipt number and name do not name an application (the status page's neutral answer)."""


def appeal_errors(*, reason: str) -> dict[str, str]:
    reason = (reason or "").strip()
    if not reason:
        return {"reason": "请写明申诉理由（家里的实际困难、不同意的地方）。"}
    if len(reason) > APPEAL_REASON_MAX:
        return {"reason": f"申诉理由不超过 {APPEAL_REASON_MAX} 字。"}
    return {}


def appeal_refusal(lead: Lead) -> str:
    """Why ``lead`` cannot be appealed now, or ``""``."""
    if lead.state != LeadState.REJECTED:
        return "只有“未纳入”的线索可以申诉。"
    if lead.appeal_of_id is not None:
        return "这是一条申诉线索，县级已审定；如有新的情况，请从原线索再次提出申诉。"
    if Lead.objects.open().filter(appeal_of=lead).exists():
        return "该线索已有申诉正在办理，请等待县级审定。"
    # the appeal would merge into the household's open lead, which already carries the appeal of
    # another rejected lead (a lead carries one appeal): the household waits for that outcome
    if Lead.objects.open().filter(household_id=lead.household_id, appeal_of__isnull=False).exists():
        return "该户已有正在办理的线索，请等待办理结果。"
    if MonitoringTarget.objects.filter(household_id=lead.household_id, status=TargetStatus.ACTIVE).exists():
        return f"该户已是{term('target')}，无需申诉。"
    return ""


def _file(*, lead: Lead, reason: str, actor: Any, channel: str, receipt_no: str = "") -> Lead:
    errors = appeal_errors(reason=reason)
    if errors:
        raise ValidationError(errors)
    refusal = appeal_refusal(lead)
    if refusal:
        raise ValidationError(refusal)
    evidence = {
        "appeal_of": lead.pk,
        "appeal_channel": CHANNEL_LABELS[channel],
        "rejection_category": RejectionCategory(lead.rejection_category or RejectionCategory.OTHER).label,
        "appeal_reason": reason.strip(),
    }
    if receipt_no:
        evidence["application"] = receipt_no
    appeal = lead_raise_or_merge(
        household_id=lead.household_id,
        source=LeadSource.APPEAL,
        evidence=evidence,
        actor=actor,
        suggested_risk_types=list(lead.suggested_risk_types or []),
    )
    if appeal is None:  # the household became a target meanwhile
        raise ValidationError(f"该户已是{term('target')}，无需申诉。")
    if appeal.appeal_of_id is None:
        appeal.appeal_of = lead
        try:
            with transaction.atomic():
                appeal.save(update_fields=["appeal_of"])
        except IntegrityError:  # another appeal of the same lead was filed at the same moment
            raise ValidationError("该线索已有申诉正在办理，请等待县级审定。") from None
    audit_record(
        actor=actor,
        object_type="lead",
        object_id=lead.pk,
        region_code=lead.household.village_id,
        action="appeal",
        from_state=lead.state,
        to_state=lead.state,
        reason=reason.strip(),
        data={"appeal_lead": appeal.pk, "channel": channel},
    )
    return appeal


@transaction.atomic
def lead_appeal_file(*, actor: Any, lead_id: int, reason: str) -> Lead:
    """A cadre (village, township, county) files the household's appeal against a rejected lead in
    their scope; returns the appeal lead.  ``ObjectOutOfScope`` outside the scope, ``PermissionDenied``
    for a role that does not enter applications for households."""
    if not role_can(effective_role(actor), Permission.RECORD_VISITS):
        raise PermissionDenied("您的角色不能代农户提出申诉。")
    lead = LEAD_WORKFLOW.lock(pk=lead_id, actor=actor)
    return _file(lead=lead, reason=reason, actor=actor, channel="CADRE")


@transaction.atomic
def appeal_file_public(*, receipt_no: str, name: str, reason: str) -> Lead:
    """The applicant files an appeal from the status page: the receipt and name must name an
    application whose answer is 未纳入 (``ReceiptNotFound`` otherwise, the page's neutral answer)."""
    status = receipt_status(receipt_no=receipt_no, name=name)
    if not status.found or status.lead_id is None:
        raise ReceiptNotFound(NOT_FOUND_TEXT)
    if not status.may_appeal:
        raise ValidationError("当前办理阶段不能提出申诉。")
    lead = LEAD_WORKFLOW.lock_for_system(pk=status.lead_id)
    # typed on a public page: 身份证号-like and phone-like runs are masked before they are stored
    reason = free_text_mask(reason or "")
    return _file(lead=lead, reason=reason, actor=None, channel="PUBLIC", receipt_no=status.receipt_no)
