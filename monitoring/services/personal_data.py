"""Revealing personal data: every unmasked view is written to the access log."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from fanpin.core.audit import access_log_record
from fanpin.core.idcard import id_number_mask, id_search_whole
from fanpin.core.models import AccessLog, User
from monitoring.models import Household, Lead, Member


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


def consent_scan_read(*, lead: Lead, actor: Any, ip_address: str | None = None) -> tuple[bytes, str]:
    """The scanned 承诺授权书 of a lead (≤ 5 MB, read whole) and its file name; every download is
    written to the access log (the scan carries the household's identity data)."""
    if not lead.consent_scan:
        raise FileNotFoundError("未上传扫描件。")
    with lead.consent_scan.open("rb") as handle:
        content = handle.read()
    access_log_record(
        actor=actor,
        action=AccessLog.Action.EXPORT,
        what=f"线索 {lead.pk}（{lead.household.household_no}）的承诺授权书扫描件",
        object_id=lead.pk,
        region_code=lead.household.village_id,
        rows=1,
        ip_address=ip_address,
    )
    return content, str(lead.consent_scan.name).rsplit("/", 1)[-1]


def id_number_search_record(*, user: Any, search: str, ip_address: str | None = None) -> AccessLog | None:
    """Write a search by a whole 身份证号 to the access log, whatever the role (SPEC §1: a
    whole-number search is written to the access log; for a role that may not see full numbers it
    confirms a number the mask hides).  Every search box, filter and API that takes a 身份证号 calls
    this with the term it searched; other terms write nothing.

    The log keeps no full number: a hit in the user's scope names the household and member (and is
    filed under its village), a miss keeps the masked number under the user's own region.  One
    INSERT, no transaction of its own: any other search costs no query at all.
    """
    number = id_search_whole(search)
    if number is None:
        return None
    member = (
        Member.objects.select_related("household")
        .filter(id_number=number, household__in=Household.objects.for_user(user))
        .first()
    )
    object_id: object = ""
    region_code = str(getattr(user, "region_id", None) or "")
    rows = 0
    if member is not None:
        what = f"按完整身份证号搜索：{member.household.household_no} {member.name}"
        region_code, object_id, rows = member.household.village_id, member.pk, 1
    else:
        what = f"按完整身份证号搜索（未找到）：{id_number_mask(number)}"
    return access_log_record(
        actor=user,
        action=AccessLog.Action.VIEW_ID,
        what=what,
        object_id=object_id,
        region_code=region_code,
        rows=rows,
        ip_address=ip_address,
    )
