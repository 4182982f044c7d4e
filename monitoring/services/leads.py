"""Lead state changes available so far: rejection (the full review workflow is a later issue)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from fanpin.audit import audit_record
from fanpin.models import User
from monitoring.models import Lead, LeadState


def _lead_locked(lead_id: int) -> Lead:
    """The one helper that locks a lead row before a state change."""
    return Lead.objects.select_for_update().select_related("household").get(pk=lead_id)


@transaction.atomic
def lead_reject(*, lead_id: int, reason: str, actor: User | None) -> Lead:
    """未纳入: close an open lead with a reason (at any step, SPEC §5)."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "请填写未纳入原因。"})
    lead = _lead_locked(lead_id)
    if not lead.is_open:
        raise ValidationError(f"线索已是“{lead.get_state_display()}”状态，不能再作未纳入处理。")
    before = lead.state
    lead.state = LeadState.REJECTED
    lead.rejection_reason = reason
    lead.decided_at = timezone.now()
    lead.decided_by = actor if actor is not None and actor.pk else None
    lead.save(update_fields=["state", "rejection_reason", "decided_at", "decided_by"])
    audit_record(
        actor=actor,
        object_type="lead",
        object_id=lead.pk,
        region_code=lead.household.village_id,
        action="reject",
        from_state=before,
        to_state=lead.state,
        reason=reason,
    )
    return lead
