"""Notices to households (受理, 纳入/未纳入, 风险消除) and 帮扶责任人 (measures falling due): opt-in,
every send recorded, masked, never a 身份证号, sent (and retried) by the Celery task."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assistance.models import MeasureStatus
from assistance.services.elimination import elimination_act
from assistance.services.measure_reminders import measures_due_notify
from fanpin.core.models import AuditEntry
from monitoring.models import LeadState, Notice, NoticePreference, NoticeStatus
from monitoring.services.applications import application_create
from monitoring.services.notices import notice_preference_set, notices_lead_decided
from monitoring.services.review import lead_confirm_direct, lead_reject
from tests.assistance.factories import ProposalFactory, TargetMeasureFactory, target_for
from tests.assistance.helpers import eligible_target
from tests.conftest import World
from tests.factories import HouseholdFactory, MemberFactory, make_id_number
from tests.monitoring.notice_helpers import ID_LIKE, fake_gateway, queued_sends, run_sends
from tests.monitoring.review_helpers import decision, lead_in
from tests.monitoring.test_status_page import public_report

pytestmark = pytest.mark.django_db

VILLAGE = "520101001001"
PHONE = "13700002222"


def opt_in(world: World, household_key: str = VILLAGE, phone: str = PHONE, **extra: str) -> NoticePreference:
    return notice_preference_set(
        actor=world.users["village"] if household_key == VILLAGE else world.users["admin"],
        household_id=world.households[household_key].pk,
        opted_in=True,
        phone=phone,
        **extra,
    )


def assert_no_personal_numbers(world: World) -> None:
    """No notice text anywhere carries a 身份证号 (or any 18-digit run)."""
    numbers = {m.id_number for h in world.households.values() for m in h.members.all()}
    for notice in Notice.objects.all():
        assert not ID_LIKE.search(notice.text), notice.text
        assert not any(n in notice.text for n in numbers), notice.text


# -- what is sent, to whom -------------------------------------------------------------------------


def test_public_applicant_who_asked_is_told_of_receipt_by_the_log_sender(world: World) -> None:
    with queued_sends() as ids:
        app = public_report(world, opt_in=True)
    notice = Notice.objects.get()
    assert ids == [notice.pk]  # enqueued (on commit) for the task
    assert (notice.kind, notice.recipient, notice.channel, notice.status) == ("RECEIVED", "APPLICANT", "LOG", "PENDING")
    assert notice.recipient_masked == "138****1234" and notice.address == "13800001234"
    assert app.receipt_no in notice.text and "已受理" in notice.text
    run_sends(ids)
    notice.refresh_from_db()
    assert (notice.status, notice.attempts, notice.address) == (NoticeStatus.SENT, 1, "")
    assert notice.sent_at is not None
    run_sends(ids)  # a second delivery sends nothing again
    notice.refresh_from_db()
    assert notice.attempts == 1
    assert_no_personal_numbers(world)


def test_no_notice_without_consent(world: World) -> None:
    with queued_sends() as ids:
        app = public_report(world, opt_in=False)
        assert app.lead is not None
        lead_reject(lead_id=app.lead.pk, actor=world.users["village"], reason="收入达标", category="INCOME_ABOVE_LINE")
    assert ids == [] and not Notice.objects.exists()


def test_self_report_with_notices_needs_a_mobile_number(world: World) -> None:
    head = world.households[VILLAGE].members.get()
    data = {"name": head.name, "id_number": head.id_number, "village": VILLAGE, "phone": "0851123456"}
    data |= {"reason": "ILLNESS", "description": "住院", "notice_opt_in": "on"}
    response = Client().post(reverse("self_report"), data)
    assert response.status_code == 400 and "接收短信通知须填写 11 位手机号码" in response.content.decode()


def test_cadre_application_and_decisions_notify_the_opted_in_household(world: World) -> None:
    opt_in(world)
    household = world.households[VILLAGE]
    with queued_sends() as ids:
        app = application_create(
            actor=world.users["village"], household_id=household.pk, reason="ILLNESS", description="住院"
        )
        assert app.lead is not None
        lead_reject(lead_id=app.lead.pk, actor=world.users["county"], reason="有车", category="DATA_CHECK")
    received, rejected = Notice.objects.order_by("id")
    assert (received.kind, received.recipient, received.recipient_masked) == ("RECEIVED", "HOUSEHOLD", "137****2222")
    assert rejected.kind == "NOT_INCLUDED" and "原因类别：信息比对发现不符合条件" in rejected.text
    assert "有车" not in rejected.text  # the written reason stays with the staff
    assert len(ids) == 2
    run_sends(ids)
    assert set(Notice.objects.values_list("status", flat=True)) == {"SENT"}
    assert_no_personal_numbers(world)


def test_confirmation_is_noticed_and_a_screening_rejection_is_not(world: World) -> None:
    opt_in(world)
    household = world.households[VILLAGE]
    screened = lead_in(household, LeadState.NEW, sources=["SCREENING"])
    lead_reject(lead_id=screened.pk, actor=world.users["county"], reason="核实无风险", category="NO_RISK")
    assert not Notice.objects.exists()  # the household never asked: not told 未纳入
    lead = lead_in(household, LeadState.NEW, sources=["SCREENING"])
    lead_confirm_direct(lead_id=lead.pk, actor=world.users["county"], decision=decision(), reason="急需帮扶")
    notice = Notice.objects.get()
    assert notice.kind == "INCLUDED" and "边缘易致贫户" in notice.text
    assert notices_lead_decided(lead=lead) == []  # the same decision is never noticed twice
    assert Notice.objects.count() == 1


def test_risk_elimination_is_noticed(world: World) -> None:
    opt_in(world)
    target = eligible_target(world.households[VILLAGE], today=timezone.localdate())  # re-checked at 审定
    proposal = ProposalFactory(target=target, state="REVIEWED", proposed_by=world.users["village"])
    elimination_act(actor=world.users["county"], pk=proposal.pk, name="confirm", opinion="收入稳定")
    notice = Notice.objects.get()
    assert notice.kind == "ELIMINATED" and "风险已消除（帮扶消除）" in notice.text


def reminder_of(household_no: str) -> Notice:
    """The 帮扶提醒 of a household numbered ``household_no`` whose measure starts tomorrow."""
    household = HouseholdFactory(household_no=household_no, village_id=VILLAGE)
    MemberFactory(household=household, relation="HEAD", name="张三")
    today = timezone.localdate()
    TargetMeasureFactory(
        target=target_for(household), status=MeasureStatus.PLANNED, start_on=today + dt.timedelta(days=1)
    )
    measures_due_notify(today=today)
    return Notice.objects.get(kind="MEASURE_DUE")


def test_a_household_number_that_is_an_id_number_is_masked_in_every_message(world: World) -> None:
    id_number = make_id_number()
    notice = reminder_of(id_number)
    assert id_number not in notice.text and f"{id_number[:6]}********{id_number[-4:]}" in notice.text
    assert not ID_LIKE.search(notice.text)


@pytest.mark.parametrize(
    ("household_no", "shown"),
    [
        ("53990100100100001", "53990100100100001"),  # the demo's 17 digits: the cadre must recognise it
        ("H520101001009", "H520101001009"),
        ("13912345678", "139****5678"),  # a phone typed as 户编号
    ],
)
def test_a_reminder_names_the_household_unless_its_number_could_be_personal(
    world: World, household_no: str, shown: str
) -> None:
    """An attack found every 17-digit 户编号 starred in the 帮扶提醒 (the old rule masked any run of 15)."""
    assert f"户编号{shown}的帮扶措施" in reminder_of(household_no).text


# -- measures falling due --------------------------------------------------------------------------


def test_measures_due_are_reminded_once_per_due_date(world: World) -> None:
    today = timezone.localdate()
    target = target_for(world.households[VILLAGE])
    starting = TargetMeasureFactory(target=target, status=MeasureStatus.PLANNED, start_on=today + dt.timedelta(days=2))
    ending = TargetMeasureFactory(
        target=target, status=MeasureStatus.IN_PROGRESS, start_on=today - dt.timedelta(days=300), end_on=today
    )
    TargetMeasureFactory(target=target, status=MeasureStatus.PLANNED, start_on=today + dt.timedelta(days=10))
    TargetMeasureFactory(
        target=target, status=MeasureStatus.COMPLETED, start_on=today - dt.timedelta(days=9), end_on=today
    )
    with queued_sends() as ids:
        outcome = measures_due_notify(today=today, days=3)
    assert (outcome.due, outcome.noticed) == (2, 2) and len(ids) == 2
    texts = dict(Notice.objects.values_list("subject_id", "text"))
    assert "将于" in texts[starting.pk] and "开始实施" in texts[starting.pk]
    assert "到期" in texts[ending.pk]
    notice = Notice.objects.get(subject_id=starting.pk)
    assert (notice.recipient, notice.recipient_masked) == ("RESPONSIBLE", "139****1111")
    # the next run (the same day, or tomorrow) sends nothing again
    assert measures_due_notify(today=today, days=3).noticed == 0
    assert measures_due_notify(today=today + dt.timedelta(days=1), days=3).noticed == 0
    # a measure whose date moved is reminded of the new date
    starting.start_on = today + dt.timedelta(days=3)
    starting.save()
    assert measures_due_notify(today=today, days=3).noticed == 1
    assert Notice.objects.filter(subject_id=starting.pk).count() == 2


def test_command_prints_a_summary(world: World, capsys) -> None:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    TargetMeasureFactory(target=target_for(world.households[VILLAGE]), status=MeasureStatus.PLANNED, start_on=today)
    call_command("notify_measures_due", date=today.isoformat(), days=1)
    assert "即将开始或到期的帮扶措施 1 项，本次发出提醒 1 条" in capsys.readouterr().out
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("notify_measures_due", date="明天")


# -- the SMS gateway (a fake one on 127.0.0.1) -----------------------------------------------------


def test_sms_gateway_failure_is_retried_then_sent(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    with fake_gateway((502, {"code": "BUSY"}), (200, {"code": 0, "msgid": "1"})) as gateway:
        settings.NOTICE_SENDER, settings.NOTICE_SMS_URL, settings.NOTICE_SMS_KEY = "sms", gateway.url + "/send", "k-1"
        with queued_sends() as ids:
            public_report(world, opt_in=True)
        run_sends(ids)
    notice = Notice.objects.get()
    assert (notice.channel, notice.status, notice.attempts, notice.address) == ("SMS", "SENT", 2, "")
    assert len(gateway.requests) == 2
    request = gateway.requests[-1]
    assert request["method"] == "POST" and request["path"] == "/send"
    assert request["headers"]["Authorization"] == "Bearer k-1"
    assert request["json"]["phone"] == "13800001234" and request["json"]["template"] == "RECEIVED"
    assert request["json"]["text"].startswith("【防返贫监测】") and not ID_LIKE.search(request["json"]["text"])


def test_sms_gateway_failing_every_time_is_recorded_as_failed(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.NOTICE_MAX_ATTEMPTS = 3
    with fake_gateway((200, {"code": "E_SIGN"})) as gateway:
        settings.NOTICE_SENDER, settings.NOTICE_SMS_URL = "sms", gateway.url
        with queued_sends() as ids:
            public_report(world, opt_in=True)
        run_sends(ids)
    notice = Notice.objects.get()
    assert (notice.status, notice.attempts, notice.address) == ("FAILED", 3, "")
    assert notice.last_error == "短信网关拒绝发送（code=E_SIGN）。"
    assert len(gateway.requests) == 3


def test_unreachable_gateway_is_a_failure_with_a_reason(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    with fake_gateway() as gateway:
        url = gateway.url
    settings.NOTICE_SENDER, settings.NOTICE_SMS_URL, settings.NOTICE_MAX_ATTEMPTS = "sms", url, 1
    with queued_sends() as ids:
        public_report(world, opt_in=True)
    run_sends(ids)
    notice = Notice.objects.get()
    assert notice.status == "FAILED" and notice.last_error.startswith("无法连接通知网关")


def test_wechat_template_message(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    with fake_gateway((200, {"access_token": "TOKEN-1", "expires_in": 7200}), (200, {"errcode": 0})) as gateway:
        settings.NOTICE_SENDER = "wechat"
        settings.NOTICE_WECHAT_TOKEN_URL, settings.NOTICE_WECHAT_URL = gateway.url + "/token", gateway.url + "/send"
        settings.NOTICE_WECHAT_APPID, settings.NOTICE_WECHAT_SECRET, settings.NOTICE_WECHAT_TEMPLATE_ID = (
            "wx1",
            "s",
            "T1",
        )
        opt_in(world, wechat_openid="oABCDEFGHIJKLMNOP123")
        household = world.households[VILLAGE]
        with queued_sends() as ids:
            application_create(
                actor=world.users["village"], household_id=household.pk, reason="ILLNESS", description="住院"
            )
        run_sends(ids)
    notice = Notice.objects.get()
    assert (notice.channel, notice.status, notice.recipient_masked) == ("WECHAT", "SENT", "微信用户 oABC…")
    token, send = gateway.requests
    assert token["method"] == "GET" and "appid=wx1" in token["path"]
    assert send["path"] == "/send?access_token=TOKEN-1"
    assert send["json"]["touser"] == "oABCDEFGHIJKLMNOP123" and send["json"]["template_id"] == "T1"


# -- pages -----------------------------------------------------------------------------------------


def test_county_notice_log_shows_its_own_region_masked(world: World) -> None:
    opt_in(world)
    opt_in(world, "530101001001", phone="13600003333")  # another province
    for key in (VILLAGE, "530101001001"):
        actor = world.users["village"] if key == VILLAGE else world.users["admin"]
        application_create(actor=actor, household_id=world.households[key].pk, reason="ILLNESS", description="住院")
    county = Client()
    county.force_login(world.users["county"])
    home = county.get(reverse("home")).content.decode()
    assert 'href="/monitoring/notices/"' in home  # in the navigation
    html = county.get(reverse("monitoring:notice_list")).content.decode()
    assert html.count('data-testid="notice-row"') == 1
    assert "137****2222" in html and PHONE not in html and "136****3333" not in html
    filtered = county.get(reverse("monitoring:notice_list") + "?kind=MEASURE_DUE").content.decode()
    assert 'data-testid="no-notices"' in filtered
    village = Client()
    village.force_login(world.users["village"])
    assert village.get(reverse("monitoring:notice_list")).status_code == 403


def test_cadre_records_the_households_consent(world: World) -> None:
    household = world.households[VILLAGE]
    client = Client()
    client.force_login(world.users["village"])
    page = client.get(reverse("monitoring:household_detail", args=[household.pk])).content.decode()
    assert f'href="/monitoring/households/{household.pk}/notices/"' in page and "未登记接收" in page
    bad = client.post(
        reverse("monitoring:notice_preference", args=[household.pk]), {"opted_in": "on", "phone": "12345"}
    )
    assert bad.status_code == 400 and "请填写 11 位手机号码" in bad.content.decode()
    response = client.post(
        reverse("monitoring:notice_preference", args=[household.pk]), {"opted_in": "on", "phone": PHONE}
    )
    assert response.status_code == 302
    preference = NoticePreference.objects.get(household=household)
    assert (preference.opted_in, preference.phone, preference.updated_by) == (True, PHONE, world.users["village"])
    entry = AuditEntry.objects.get(object_type="notice_preference")
    assert entry.action == "opt_in" and entry.data["phone"] == "137****2222"
    page = client.get(reverse("monitoring:household_detail", args=[household.pk])).content.decode()
    assert "接收（137****2222）" in page
    other = world.households["520101001002"]
    assert client.get(reverse("monitoring:notice_preference", args=[other.pk])).status_code == 404


def test_a_failed_attempt_is_recorded_and_raised_for_the_worker_to_retry(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    from monitoring.services.notices import NoticeRetry, notice_send

    with fake_gateway((500, {})) as gateway:
        settings.NOTICE_SENDER, settings.NOTICE_SMS_URL = "sms", gateway.url
        with queued_sends() as ids:
            public_report(world, opt_in=True)
        with pytest.raises(NoticeRetry):
            notice_send(notice_id=ids[0])
    notice = Notice.objects.get()
    assert (notice.status, notice.attempts, notice.last_error) == ("RETRYING", 1, "通知网关返回 HTTP 500。")
    assert notice.address == "13800001234"  # kept for the retry


def test_results_go_to_the_households_preference_never_to_a_phone_typed_in_the_public_form(world: World) -> None:
    from tests.monitoring.test_status_page import stranger_report

    opt_in(world)
    household = world.households[VILLAGE]
    screened = lead_in(household, LeadState.NEW, sources=["SCREENING"])
    app = stranger_report(world, opt_in=True)
    assert app.lead_id == screened.pk
    lead_reject(lead_id=screened.pk, actor=world.users["county"], reason="核实无风险", category="NO_RISK")
    to_stranger = Notice.objects.filter(recipient_masked="139****2222")
    assert list(to_stranger.values_list("kind", flat=True)) == ["RECEIVED"]  # only the 受理 of the report
    rejected = Notice.objects.get(kind="NOT_INCLUDED")
    assert rejected.recipient == "HOUSEHOLD" and rejected.recipient_masked == "137****2222"
    # the household holds no receipt: it is told where to appeal, not to use a 回执编号
    assert "回执编号" not in rejected.text and "如有异议，可向村委会提出申诉" in rejected.text


def test_a_rejected_appeal_tells_where_to_raise_it_further(world: World) -> None:
    from monitoring.services.appeals import lead_appeal_file

    opt_in(world)
    household = world.households[VILLAGE]
    first = lead_in(household, LeadState.NEW, sources=["SELF_APPLICATION"])
    lead_reject(lead_id=first.pk, actor=world.users["county"], reason="收入达标", category="INCOME_ABOVE_LINE")
    appeal = lead_appeal_file(actor=world.users["village"], lead_id=first.pk, reason="老人又住院了")
    appeal.state = LeadState.VERIFIED
    appeal.verified_at = timezone.now()
    appeal.save(update_fields=["state", "verified_at"])
    lead_reject(lead_id=appeal.pk, actor=world.users["county"], reason="仍达标", category="INCOME_ABOVE_LINE")
    text = Notice.objects.filter(kind="NOT_INCLUDED").order_by("-id").first().text  # type: ignore[union-attr]
    assert "向乡镇或县乡村振兴部门反映" in text and "申诉" not in text.split("原因类别")[1]
    assert "回执编号" not in text


def test_the_consent_page_shows_the_number_masked_and_keeps_it_when_left_empty(world: World) -> None:
    household = world.households[VILLAGE]
    opt_in(world)
    client = Client()
    client.force_login(world.users["village"])
    url = reverse("monitoring:notice_preference", args=[household.pk])
    page = client.get(url).content.decode()
    assert PHONE not in page and "137****2222" in page and "留空则保留原号码" in page
    assert client.post(url, {"opted_in": "on", "phone": ""}).status_code == 302
    assert NoticePreference.objects.get(household=household).phone == PHONE  # kept
    # opting out clears the number: nothing is kept for a household that wants no notices
    assert client.post(url, {"phone": ""}).status_code == 302
    preference = NoticePreference.objects.get(household=household)
    assert (preference.opted_in, preference.phone) == (False, "")
    page = client.get(url).content.decode()
    assert "137****2222" not in page
