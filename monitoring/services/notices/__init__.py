"""Notices to households and 帮扶责任人 (受理, 纳入/未纳入, 风险消除, a measure falling due).

The services that change a case call one function here at the point of the change, inside their
transaction: ``notices_application_received`` (an application is received), ``notices_lead_decided``
(a lead is confirmed or rejected), ``notices_target_eliminated`` (风险消除 confirmed), and
``notice_create`` for a measure falling due (``assistance.services.measure_reminders``).  Each makes
at most one ``Notice`` row per event and recipient (``dedupe_key``) and enqueues
``notice_send_task`` on commit; the task calls ``notice_send``, which sends through the channel's
sender (``senders``) and records the outcome.  A failed send is retried by Celery with exponential
backoff until ``NOTICE_MAX_ATTEMPTS``, then recorded as 发送失败.

Households receive notices only when they opted in (``NoticePreference``: a cadre records the
household's consent and phone).  A public self-report is unverified (anyone who knows a 身份证号 can
file one with any phone), so the phone typed in the public form (``Application.notice_opt_in``) only
ever receives the 受理 notice of that report; decisions, 风险消除 and other results go to the
household's own preference only.  A 帮扶责任人's reminder goes to the work phone recorded on the
measure.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from fanpin.core.audit import audit_record
from fanpin.core.idcard import phone_mask
from fanpin.core.terms import term
from monitoring.models import (
    FINISHED_NOTICE_STATUSES,
    Application,
    ApplicationChannel,
    Household,
    Lead,
    LeadSource,
    LeadState,
    MonitoringTarget,
    Notice,
    NoticeChannel,
    NoticeKind,
    NoticePreference,
    NoticeRecipient,
    NoticeStatus,
    RejectionCategory,
)
from monitoring.services.notices.senders import Message, SendFailed, configured_channel, sender_for
from monitoring.services.notices.templates import notice_text

__all__ = [
    "NoticeRetry",
    "notice_create",
    "notice_preference_set",
    "notice_send",
    "notices_application_received",
    "notices_lead_decided",
    "notices_target_eliminated",
]

# a 未纳入 is told only to a household that asked (an application or an appeal), never to one that
# a screening run or a department alert raised without its knowledge
ASKED_SOURCES = {LeadSource.SELF_APPLICATION, LeadSource.APPEAL}
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
OPENID = re.compile(r"^[A-Za-z0-9_-]{10,64}$")


class NoticeRetry(Exception):
    """A send failed and will be tried again (the Celery task retries on it)."""


def _digest(address: str) -> str:
    return hashlib.sha256(f"{settings.SECRET_KEY}:{address}".encode()).hexdigest()[:16]


def _masked(address: str, channel: str) -> str:
    if channel == NoticeChannel.WECHAT:
        return f"微信用户 {address[:4]}…" if address else "—"
    return phone_mask(address)


def _status_url(receipt_no: str = "") -> str:
    url = str(getattr(settings, "NOTICE_STATUS_URL", "") or "")
    if not url:
        return ""
    return f"（{url}?receipt={receipt_no}）" if receipt_no else f"（{url}）"


def notice_create(
    *,
    kind: str,
    village_id: str,
    household_id: int | None,
    recipient: str,
    address: str,
    subject_type: str,
    subject_id: int,
    text_values: dict[str, Any],
    occasion: str = "",
    channel: str | None = None,
) -> Notice | None:
    """Record one notice and enqueue its send after the commit; ``None`` when this event was already
    noticed to this address (same kind, subject, ``occasion`` such as a due date, and address) or
    there is no address.  Call inside the transaction of the change it tells about."""
    from monitoring.tasks import notice_send_task

    address = address.strip()
    if not address:
        return None
    channel = channel or configured_channel()
    key = f"{kind}:{subject_type}:{subject_id}:{occasion}:{_digest(address)}"
    if Notice.objects.filter(dedupe_key=key).exists():
        return None
    try:
        with transaction.atomic():
            notice = Notice.objects.create(
                kind=kind,
                channel=channel,
                status=NoticeStatus.PENDING,
                village_id=village_id,
                household_id=household_id,
                recipient=recipient,
                recipient_masked=_masked(address, channel),
                address=address,
                text=notice_text(kind, **text_values),
                subject_type=subject_type,
                subject_id=subject_id,
                dedupe_key=key,
            )
    except IntegrityError:  # the same event noticed at the same moment by another transaction
        return None
    notice_send_task.delay_on_commit(notice.pk)
    return notice


def _household_address(household_id: int | None, channel: str) -> str:
    if household_id is None:
        return ""
    preference = NoticePreference.objects.filter(household_id=household_id, opted_in=True).first()
    if preference is None:
        return ""
    return preference.wechat_openid if channel == NoticeChannel.WECHAT else preference.phone


def _recipients(*, household_id: int | None, applications: list[Application]) -> list[tuple[str, str]]:
    """(recipient kind, address) for a household's notice: the household if it opted in, and each
    public applicant who asked for notices (by SMS: the form gives a phone, no openid); one per address."""
    channel = configured_channel()
    found: dict[str, str] = {}
    household = _household_address(household_id, channel)
    if household:
        found[household] = NoticeRecipient.HOUSEHOLD
    if channel != NoticeChannel.WECHAT:
        for application in applications:
            if application.notice_opt_in and application.phone:
                found.setdefault(application.phone.strip(), NoticeRecipient.APPLICANT)
    return [(kind, address) for address, kind in found.items()]


def notices_application_received(*, application: Application) -> list[Notice]:
    """受理: the application is recorded (a cadre's entry or a public report)."""
    household_id = application.household_id if application.channel == ApplicationChannel.CADRE else None
    made = []
    for recipient, address in _recipients(household_id=household_id, applications=[application]):
        notice = notice_create(
            kind=NoticeKind.RECEIVED,
            village_id=application.village_id,
            household_id=application.household_id,
            recipient=recipient,
            address=address,
            subject_type="application",
            subject_id=application.pk,
            text_values={"receipt_no": application.receipt_no, "status_url": _status_url(application.receipt_no)},
        )
        if notice is not None:
            made.append(notice)
    return made


def notices_lead_decided(*, lead: Lead, category: str = "") -> list[Notice]:
    """纳入 (confirmed; ``category`` the target's) or 未纳入 (rejected, with its reason category), told
    to the household's opted-in preference only (a public applicant's phone is unverified)."""
    if lead.state == LeadState.CONFIRMED:
        kind = NoticeKind.INCLUDED
    elif lead.state == LeadState.REJECTED and ASKED_SOURCES & set(lead.sources or []):
        kind = NoticeKind.NOT_INCLUDED
    else:
        return []
    reason = RejectionCategory(lead.rejection_category or RejectionCategory.OTHER).label
    village_id = Household.objects.values_list("village_id", flat=True).get(pk=lead.household_id)
    # the household has no receipt in hand here: it appeals through the village (a cadre files it), and
    # after a rejected appeal it raises the matter further with the township or county
    if LeadSource.APPEAL in (lead.sources or []) or lead.appeal_of_id is not None:
        next_step = "如仍有异议，可向乡镇或县乡村振兴部门反映。"
    else:
        next_step = "如有异议，可向村委会提出申诉。"
    made = []
    # results go only to the household's own opted-in preference, never to a phone typed in a public form
    for recipient, address in _recipients(household_id=lead.household_id, applications=[]):
        notice = notice_create(
            kind=kind,
            village_id=village_id,
            household_id=lead.household_id,
            recipient=recipient,
            address=address,
            subject_type="lead",
            subject_id=lead.pk,
            text_values={
                "category": MonitoringTarget.Category(category).label if category else term("target"),
                "reason": reason,
                "next_step": next_step,
            },
        )
        if notice is not None:
            made.append(notice)
    return made


def notices_target_eliminated(*, target: MonitoringTarget) -> list[Notice]:
    """风险消除 confirmed by the county: the household's opted-in preference is told."""
    village_id = Household.objects.values_list("village_id", flat=True).get(pk=target.household_id)
    made = []
    for recipient, address in _recipients(household_id=target.household_id, applications=[]):
        notice = notice_create(
            kind=NoticeKind.ELIMINATED,
            village_id=village_id,
            household_id=target.household_id,
            recipient=recipient,
            address=address,
            subject_type="target",
            subject_id=target.pk,
            text_values={"method": target.get_elimination_method_display()},
        )
        if notice is not None:
            made.append(notice)
    return made


@dataclass(frozen=True)
class _Attempt:
    status: str
    error: str


def notice_send(*, notice_id: int) -> Notice | None:
    """Send one notice through its channel and record the outcome; safe to call twice (a sent or
    finally failed notice is left alone).  Raises ``NoticeRetry`` after a failed attempt that will
    be retried (the row says 重试中 and why); the last allowed attempt records 发送失败 instead.

    The row stays locked while the gateway answers (``NOTICE_HTTP_TIMEOUT`` at most), so two
    deliveries of the task never send the same notice twice.
    """
    with transaction.atomic():
        notice = Notice.objects.select_for_update().filter(pk=notice_id).first()
        if notice is None or notice.status in FINISHED_NOTICE_STATUSES:
            return notice
        notice.attempts += 1
        message = Message(
            address=notice.address, text=notice.text, kind=notice.kind, kind_label=notice.get_kind_display()
        )
        try:
            sender_for(notice.channel).send(message)
        except SendFailed as exc:
            notice.last_error = str(exc)[:300]
            if notice.attempts >= int(settings.NOTICE_MAX_ATTEMPTS):
                notice.status = NoticeStatus.FAILED
                notice.address = ""
            else:
                notice.status = NoticeStatus.RETRYING
        else:
            notice.status = NoticeStatus.SENT
            notice.sent_at = timezone.now()
            notice.address = ""
            notice.last_error = ""
        notice.save(update_fields=["attempts", "status", "address", "last_error", "sent_at", "updated_at"])
    if notice.status == NoticeStatus.RETRYING:
        raise NoticeRetry(notice.last_error)
    return notice


@transaction.atomic
def notice_preference_set(
    *, actor: Any, household_id: int, opted_in: bool, phone: str = "", wechat_openid: str = ""
) -> NoticePreference:
    """A cadre records a household's consent to notices and where they go (audited, masked).
    A blank ``phone`` keeps the number on record (the page shows it masked, never in the input: the
    preference's, else the household's); opting out clears the phone and openid (no address is kept
    for a household that does not want notices).  ``Household.DoesNotExist`` outside the actor's scope."""
    household = Household.objects.for_user(actor).get(pk=household_id)  # DoesNotExist outside the scope
    phone = re.sub(r"[\s\u3000-]", "", phone or "")
    wechat_openid = (wechat_openid or "").strip()
    if not opted_in:
        phone = wechat_openid = ""
    elif not phone:
        kept = NoticePreference.objects.filter(household=household).values_list("phone", flat=True).first()
        phone = kept or re.sub(r"[\s\u3000-]", "", household.phone or "")
    errors: dict[str, str] = {}
    if phone and not MOBILE.match(phone):
        errors["phone"] = "请填写 11 位手机号码（短信通知只能发到手机）。"
    if wechat_openid and not OPENID.match(wechat_openid):
        errors["wechat_openid"] = "微信 openid 格式不正确。"
    if opted_in and not (phone or wechat_openid):
        errors["phone"] = "接收通知须填写手机号码。"
    if errors:
        raise ValidationError(errors)
    preference, _created = NoticePreference.objects.select_for_update().get_or_create(household=household)
    before = preference.opted_in
    preference.opted_in = opted_in
    preference.phone = phone
    preference.wechat_openid = wechat_openid
    preference.updated_by = actor if getattr(actor, "pk", None) else None
    preference.save()
    audit_record(
        actor=actor,
        object_type="notice_preference",
        object_id=household.pk,
        region_code=household.village_id,
        action="opt_in" if opted_in else "opt_out",
        from_state="OPTED_IN" if before else "",
        to_state="OPTED_IN" if opted_in else "OPTED_OUT",
        data={"phone": phone_mask(phone), "wechat": bool(wechat_openid)},
    )
    return preference
