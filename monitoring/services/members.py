"""Corrections of a member's registry status by the county.

A death or removal (死亡 / 注销) is accepted by the county as a household change and keeps the member
as departed (``household_changes._removal_apply``). When that was a mistake (a wrong 身份证号 in the
department's list, a person reported dead by error), the county puts the member back in the
registry with a written reason (``member_restore``): status 正常 again, the departure's date and
change cleared from the member (the accepted change stays as history), audited. What the departure
released stays released: a 民政 roster line that became 未匹配 is matched again by the next roster
upload, as any unmatched line (decision record 2026-12-04-member-departure).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from fanpin.core.audit import audit_record
from fanpin.core.roles import Permission, effective_role, role_can
from fanpin.core.workflow import ObjectOutOfScope, TransitionNotAllowed
from monitoring.models import Member, MemberStatus, Relation

RESTORE_REASON_MAX = 300


@transaction.atomic
def member_restore(*, actor: Any, member_id: int, reason: str) -> Member:
    """Put a departed member back in the registry (恢复在册). County role (who decides household
    changes), in scope (404 otherwise), the member departed, a reason given; a 户主 only while the
    household has no other current 户主."""
    if not Member.objects.for_user(actor).filter(pk=member_id).exists():
        raise ObjectOutOfScope("家庭成员")
    if not role_can(effective_role(actor), Permission.DECIDE_HOUSEHOLD_CHANGES):
        raise PermissionDenied("只有县级乡村振兴部门可以恢复成员在册。")
    member = Member.objects.select_for_update().select_related("household").get(pk=member_id)
    if member.status == MemberStatus.ACTIVE:
        raise TransitionNotAllowed(f"{member.name}已在册，无需恢复。")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写恢复在册的理由（如误报死亡的核实情况）。"})
    if "\x00" in reason:  # PostgreSQL stores no NUL: a message, not a server error
        raise ValidationError({"reason": "恢复理由含有无法保存的控制字符，请重新输入。"})
    if len(reason) > RESTORE_REASON_MAX:
        raise ValidationError({"reason": f"恢复理由不能超过 {RESTORE_REASON_MAX} 个字。"})
    head_refusal = (
        f"户编号 {member.household.household_no} 已有在册户主，{member.name}不能以户主身份恢复在册；"
        "请先通过成员导入调整户主后再恢复。"
    )
    if (
        member.relation == Relation.HEAD
        and Member.objects.current().filter(household_id=member.household_id, relation=Relation.HEAD).exists()
    ):
        raise ValidationError({"reason": head_refusal})
    was, change_id = member.status, member.departure_change_id
    member.status, member.departed_on, member.departure_change = MemberStatus.ACTIVE, None, None
    try:
        with transaction.atomic():  # another 户主 named at the same moment: the constraint answers
            member.save(update_fields=["status", "departed_on", "departure_change"])
    except IntegrityError:
        raise ValidationError({"reason": head_refusal}) from None
    audit_record(
        actor=actor,
        object_type="member",
        object_id=member.pk,
        region_code=member.household.village_id,
        action="restore",
        from_state=was,
        to_state=MemberStatus.ACTIVE,
        reason=reason,
        data={"household_change": change_id, "household_id": member.household_id},
    )
    return member
