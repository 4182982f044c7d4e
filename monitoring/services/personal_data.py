"""Revealing personal data: every unmasked view is written to the access log."""

from __future__ import annotations

from django.db import transaction

from fanpin.audit import access_log_record
from fanpin.models import AccessLog, User
from monitoring.models import Member


@transaction.atomic
def member_id_number_reveal(*, member: Member, actor: User, ip_address: str | None = None) -> str:
    access_log_record(
        actor=actor,
        action=AccessLog.Action.VIEW_ID,
        what=f"{member.household.household_no} {member.name} 的身份证号",
        object_id=member.pk,
        region_code=member.household.village_id,
        rows=1,
        ip_address=ip_address,
    )
    return member.id_number
