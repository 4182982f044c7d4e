"""农户申报 (household applications) → ``SELF_APPLICATION`` leads (SPEC §3).

A cadre enters one for a household; anyone may send one through the public self-report page.  A
public report is stored as 待匹配 in the chosen village and matched by a task after the request; one
whose 身份证号 matches no member of that village stays 待匹配 for the county, never dropped.  The
public page learns nothing but a receipt number, whatever the outcome, in the same time.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from fanpin.core.audit import audit_record
from fanpin.core.idcard import id_number_normalize
from fanpin.core.regions import RegionLevel
from monitoring.models import (
    EVENT_RISK_TYPES,
    Application,
    ApplicationChannel,
    ApplicationSource,
    ApplicationStatus,
    Household,
    LeadSource,
    Member,
    Region,
    VisitEvent,
)
from monitoring.services.notices import MOBILE, notices_application_received
from monitoring.services.review import lead_raise_or_merge
from monitoring.services.visits import _household_in_scope

RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud over the phone


class RateLimited(Exception):
    """Too many self-reports from one address or for one 身份证号."""


def receipt_no_new() -> str:
    day = timezone.localdate().strftime("%Y%m%d")
    return "SB" + day + "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(8))


def _application_errors(*, reason: str, description: str, amount: Decimal | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if reason not in VisitEvent.values:
        errors["reason"] = "请选择申报事由。"
    if not description.strip():
        errors["description"] = "请说明遇到的困难。"
    if amount is not None and amount < 0:
        errors["amount"] = "金额不能为负数。"
    return errors


def _raise_lead(application: Application, *, actor: Any) -> None:
    assert application.household_id is not None
    lead = lead_raise_or_merge(
        household_id=application.household_id,
        source=LeadSource.SELF_APPLICATION,
        evidence={
            "application": application.receipt_no,
            "channel": application.get_channel_display(),
            "reason": application.get_reason_display(),
            "description": application.description,
            "amount": str(application.amount) if application.amount is not None else None,
        },
        actor=actor,
        suggested_risk_types=[EVENT_RISK_TYPES[application.reason]],
    )
    if lead is not None:
        application.lead = lead
        application.save(update_fields=["lead"])


@dataclass(frozen=True)
class ApplicationOutcome:
    application: Application
    created: bool  # False: the client_uuid was already recorded (a resend of an application saved offline)


@transaction.atomic
def application_record(
    *,
    actor: Any,
    household_id: int,
    reason: str,
    description: str,
    amount: Decimal | None = None,
    client_uuid: uuid.UUID | None = None,
) -> ApplicationOutcome:
    """A cadre enters a household's application: a SELF_APPLICATION lead is raised or merged.

    Idempotent on ``client_uuid`` (made by the phone): a resend returns the recorded application and
    writes nothing, no second lead evidence either.
    """
    household = _household_in_scope(actor=actor, household_id=household_id)
    if client_uuid is not None:
        existing = Application.objects.filter(client_uuid=client_uuid).first()
        if existing is not None:
            return _resent(existing, household_id=household.pk)
    errors = _application_errors(reason=reason, description=description, amount=amount)
    if errors:
        raise ValidationError(errors)
    application = Application(
        receipt_no=receipt_no_new(),
        channel=ApplicationChannel.CADRE,
        source=ApplicationSource.CADRE,
        status=ApplicationStatus.MATCHED,
        village_id=household.village_id,
        household=household,
        reason=reason,
        description=description.strip(),
        amount=amount,
        submitted_by=actor,
        client_uuid=client_uuid,
    )
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError:  # the same client_uuid arrived twice at once: the first one wins
        if client_uuid is None:
            raise
        return _resent(Application.objects.get(client_uuid=client_uuid), household_id=household.pk)
    audit_record(
        actor=actor,
        object_type="application",
        object_id=application.pk,
        region_code=household.village_id,
        action="create",
        to_state=application.status,
    )
    _raise_lead(application, actor=actor)
    notices_application_received(application=application)
    return ApplicationOutcome(application=application, created=True)


def _resent(existing: Application, *, household_id: int) -> ApplicationOutcome:
    if existing.household_id != household_id:
        raise ValidationError({"client_uuid": "客户端编号已被另一条农户申报使用。"})
    return ApplicationOutcome(application=existing, created=False)


def application_create(
    *, actor: Any, household_id: int, reason: str, description: str, amount: Decimal | None = None
) -> Application:
    """A cadre enters a household's application (no client_uuid): ``application_record``'s row."""
    return application_record(
        actor=actor, household_id=household_id, reason=reason, description=description, amount=amount
    ).application


def _hit(key: str, limit: int, window: int) -> bool:
    """Count one try under ``key``; True while within ``limit`` tries per ``window`` seconds."""
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count <= limit


def self_report_rate_check(*, ip: str | None, id_number: str | None) -> None:
    """Raise ``RateLimited`` past the configured tries per address / per 身份证号 (Django's cache)."""
    window = int(settings.SELF_REPORT_RATE_WINDOW)
    ok = _hit(f"selfreport:ip:{ip or '-'}", int(settings.SELF_REPORT_RATE_PER_IP), window)
    if ok and id_number:
        digest = hashlib.sha256(f"{settings.SECRET_KEY}:{id_number}".encode()).hexdigest()[:32]
        ok = _hit(f"selfreport:id:{digest}", int(settings.SELF_REPORT_RATE_PER_ID), window)
    if not ok:
        raise RateLimited("提交过于频繁，请稍后再试。如有急事，请直接联系村委会或乡镇。")


def status_rate_check(*, ip: str | None, receipt_no: str) -> None:
    """The public status page and its appeal form: ``RateLimited`` past the configured tries per
    address / per receipt number (the self-report's counter, other keys): guessing names for one
    receipt, or receipts from one address, is cut short."""
    window = int(settings.SELF_REPORT_RATE_WINDOW)
    ok = _hit(f"status:ip:{ip or '-'}", int(settings.STATUS_RATE_PER_IP), window)
    if ok and receipt_no:
        # a shorter window: others typing wrong names for this receipt lock the household out only
        # for these minutes (the village cadre can tell the stage meanwhile)
        digest = hashlib.sha256(f"{settings.SECRET_KEY}:{receipt_no}".encode()).hexdigest()[:32]
        receipt_window = int(getattr(settings, "STATUS_RATE_RECEIPT_WINDOW", 900))
        ok = _hit(f"status:receipt:{digest}", int(settings.STATUS_RATE_PER_RECEIPT), receipt_window)
    if not ok:
        raise RateLimited("查询过于频繁，请 15 分钟后再试。如急需了解办理进度，请向村干部（村委会）询问，或联系乡镇。")


@dataclass(frozen=True)
class SelfReport:
    name: str
    id_number: str
    village_code: str
    phone: str
    reason: str
    description: str
    # the page was opened directly or through a village's QR poster (its link says source=poster)
    source: str = ApplicationSource.DIRECT
    notice_opt_in: bool = False  # the applicant asked for 办理进度 notices at ``phone``


def self_report_errors(report: SelfReport) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not report.name.strip():
        errors["name"] = "请填写姓名。"
    try:
        id_number_normalize(report.id_number)
    except ValidationError as exc:
        errors["id_number"] = exc.messages[0]
    if not Region.objects.filter(code=report.village_code, level=RegionLevel.VILLAGE).exists():
        errors["village"] = "请选择所在村。"
    digits = report.phone.strip()
    if not (digits.isdigit() and 7 <= len(digits) <= 15):
        errors["phone"] = "请填写有效的联系电话（7 到 15 位数字）。"
    elif report.notice_opt_in and not MOBILE.match(digits):
        errors["phone"] = "接收短信通知须填写 11 位手机号码。"
    errors.update(_application_errors(reason=report.reason, description=report.description, amount=None))
    return errors


@transaction.atomic
def self_report_submit(*, report: SelfReport) -> Application:
    """The public self-report: stored as 待匹配 in the chosen village; returns the row.

    The request does the same work whatever the 身份证号 (its timing tells nothing): the row, its audit
    row and ``self_report_match_task`` enqueued on commit, which matches and raises the lead
    (``self_report_match``).  Callers show only ``receipt_no``.
    """
    from monitoring.tasks import self_report_match_task

    errors = self_report_errors(report)
    if errors:
        raise ValidationError(errors)
    application = Application.objects.create(
        receipt_no=receipt_no_new(),
        channel=ApplicationChannel.PUBLIC,
        source=ApplicationSource.POSTER if report.source == ApplicationSource.POSTER else ApplicationSource.DIRECT,
        status=ApplicationStatus.PENDING_MATCH,
        village_id=report.village_code,
        applicant_name=report.name.strip(),
        id_number=id_number_normalize(report.id_number),
        phone=report.phone.strip(),
        notice_opt_in=report.notice_opt_in,
        reason=report.reason,
        description=report.description.strip(),
    )
    audit_record(
        actor=None,
        object_type="application",
        object_id=application.pk,
        region_code=application.village_id,
        action="create",
        to_state=application.status,
        data={"channel": ApplicationChannel.PUBLIC, "chosen_village": report.village_code},
    )
    notices_application_received(application=application)
    self_report_match_task.delay_on_commit(application.pk)
    return application


@transaction.atomic
def self_report_match(*, application_id: int) -> Application | None:
    """Match a public report to the member with its 身份证号 *in the chosen village* and raise the lead.

    A member of another village leaves the report 待匹配 in the chosen village, exactly like an unknown
    number, so the village's list never tells a cadre that a number exists elsewhere; the county
    resolves it.  Idempotent (the row is locked; only a public 待匹配 row is matched): safe to retry.
    Returns the row, or None when it no longer exists.
    """
    application = (
        Application.objects.select_for_update()
        .filter(pk=application_id, channel=ApplicationChannel.PUBLIC, status=ApplicationStatus.PENDING_MATCH)
        .first()
    )
    if application is None:
        return Application.objects.filter(pk=application_id).first()
    member = (
        Member.objects.current()
        .select_related("household")
        .filter(id_number=application.id_number, household__village_id=application.village_id)
        .first()
    )
    if member is None:
        return application
    return _matched(application, member=member, actor=None)


def _matched(
    application: Application, *, member: Member, actor: Any, data: dict[str, Any] | None = None
) -> Application:
    """A 待匹配 report matched to ``member``: it moves to the member's household (and village), is
    audited and raises or merges the household's 农户申报 lead."""
    application.household = member.household
    application.village_id = member.household.village_id
    application.status = ApplicationStatus.MATCHED
    application.save(update_fields=["household", "village", "status"])
    audit_record(
        actor=actor,
        object_type="application",
        object_id=application.pk,
        region_code=application.village_id,
        action="match",
        from_state=ApplicationStatus.PENDING_MATCH,
        to_state=application.status,
        data=data,
    )
    _raise_lead(application, actor=actor)
    return application


@transaction.atomic
def application_match(*, actor: Any, application_id: int) -> Application:
    """The county resolves a public 待匹配 report: the member with its 身份证号 anywhere in the actor's
    scope (the county sees full numbers); the report moves to that member's village and raises the lead.

    ``Application.DoesNotExist`` outside the actor's scope; ``ValidationError`` when the report is
    not a public 待匹配 one or no member in scope has the number.
    """
    application = Application.objects.for_user(actor).select_for_update().get(pk=application_id)
    if application.channel != ApplicationChannel.PUBLIC or application.status != ApplicationStatus.PENDING_MATCH:
        raise ValidationError("这条农户申报不是待匹配的群众申报。")
    member = (
        Member.objects.current()
        .select_related("household")
        .filter(id_number=application.id_number, household__in=Household.objects.for_user(actor))
        .first()
        if application.id_number
        else None
    )
    if member is None:
        raise ValidationError("在您的管辖范围内未找到该身份证号对应的农户成员，请电话联系申报人核实。")
    return _matched(application, member=member, actor=actor, data={"chosen_village": application.village_id})
