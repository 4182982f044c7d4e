"""What the household sees: the public status page answers with the stage only, the same way (same
queries, same page slots) for an unknown receipt, a wrong name and a known one."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Application, LeadState, TargetStatus
from monitoring.services.applications import SelfReport, self_report_match, self_report_submit
from monitoring.services.review import Verification, lead_reject, lead_verify
from tests.conftest import World
from tests.factories import TargetFactory

pytestmark = pytest.mark.django_db

VILLAGE = "520101001001"
NOT_FOUND = "未查到，请核对受理编号和姓名。"
# the lookup is one statement, found or not (monitoring.selectors.status)
STATUS_QUERIES = 1


def public_report(world: World, *, match: bool = True, opt_in: bool = False) -> Application:
    """A public self-report of the world's household in VILLAGE (its head reports), matched as the
    task after the request does."""
    head = world.households[VILLAGE].members.get()
    report = SelfReport(
        name=head.name,
        id_number=head.id_number,
        village_code=VILLAGE,
        phone="13800001234",
        reason="ILLNESS",
        description="老人住院，花了很多钱",
        notice_opt_in=opt_in,
    )
    application = self_report_submit(report=report)
    if match:
        self_report_match(application_id=application.pk)
    application.refresh_from_db()
    return application


def verify(world: World, lead_id: int) -> None:
    """The village cadre records the 入户核实 (and the 评议/公示 dates) of the lead."""
    today = timezone.localdate()
    checked = Verification(
        home_checked_on=today,
        consent_signed=True,
        appraisal_on=today,
        appraisal_outcome="AGREED",
        publicity_start=today,
        publicity_end=today + dt.timedelta(days=4),
    )
    lead_verify(lead_id=lead_id, actor=world.users["village"], opinion="已入户核实", verification=checked)


def ask(receipt: str, name: str, client: Client | None = None) -> str:
    response = (client or Client()).post(reverse("status"), {"receipt": receipt, "name": name})
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def stage(html: str) -> str:
    match = re.search(r'data-testid="status-stage">([^<]*)', html)
    assert match, html
    return match.group(1).strip()


def answer_block(html: str) -> str:
    """The answer card with the receipt number and texts taken out: what differs in shape only."""
    block = html.split('data-testid="status-answer"', 1)[1].split("</section>", 1)[0]
    return re.sub(r">[^<]*<", "><", block)


def typed_out(html: str, receipt: str, name: str) -> str:
    """The page without what the user typed and without the per-request CSRF token."""
    html = re.sub(r'(csrfmiddlewaretoken" value=|X-CSRFToken": )"[^"]*"', r"\1-", html)
    return html.replace(receipt, "RECEIPT").replace(name, "NAME")


def test_get_fills_in_the_receipt_from_the_link_but_never_the_name(world: World) -> None:
    app = public_report(world)
    response = Client().get(reverse("status") + f"?receipt={app.receipt_no.lower()}")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'value="{app.receipt_no}"' in html
    assert 'name="name"' in html and re.search(r'name="name"[^>]*value="[^"]', html) is None
    assert 'data-testid="status-answer"' not in html  # nothing is looked up without a submission


def test_pending_match_report_is_received(world: World) -> None:
    app = public_report(world, match=False)
    assert app.status == "PENDING_MATCH"
    assert stage(ask(app.receipt_no, app.applicant_name)) == "已受理"


def test_each_stage_of_the_lead_is_shown_once_a_cadre_verified_it(world: World) -> None:
    app = public_report(world)
    lead = app.lead
    assert lead is not None and lead.state == LeadState.NEW
    name = app.applicant_name
    # a public report is unverified: before the 入户核实 it says 已受理, not whether the ID matched
    assert stage(ask(app.receipt_no, name)) == "已受理"
    lead.state, lead.verified_at = LeadState.VERIFIED, timezone.now()
    lead.save()
    assert stage(ask(app.receipt_no, name)) == "评议公示中"
    lead.state = LeadState.REVIEWED
    lead.save()
    assert stage(ask(app.receipt_no, name)) == "评议公示中"
    lead.state, lead.decided_at = LeadState.CONFIRMED, timezone.now()
    lead.save()
    target = TargetFactory(household=lead.household, lead=lead)
    html = ask(app.receipt_no, name)
    assert stage(html) == "已纳入" and 'data-testid="appeal-form"' not in html
    target.status, target.elimination_method, target.eliminated_on = (
        TargetStatus.ELIMINATED,
        "ASSISTED",
        dt.date.today(),
    )
    target.save()
    assert stage(ask(app.receipt_no, name)) == "已风险消除"


def test_a_public_report_of_a_household_already_monitored_stays_received(world: World) -> None:
    TargetFactory(household=world.households[VILLAGE])  # no lead is raised for an active target
    app = public_report(world)
    assert app.status == "MATCHED" and app.lead is None
    # telling 已纳入 would tell a stranger who typed the ID that the household is monitored
    assert stage(ask(app.receipt_no, app.applicant_name)) == "已受理"


def test_not_included_shows_the_reason_category_never_the_written_reason(world: World) -> None:
    app = public_report(world)
    assert app.lead is not None
    verify(world, app.lead.pk)
    lead_reject(
        lead_id=app.lead.pk, actor=world.users["county"], reason="家中有小轿车一辆，另有门面出租", category="DATA_CHECK"
    )
    html = ask(app.receipt_no, app.applicant_name)
    assert stage(html) == "未纳入"
    assert "原因类别：信息比对发现不符合条件" in html
    assert "小轿车" not in html and "门面" not in html
    assert 'data-testid="appeal-form"' in html  # the household may appeal


def test_name_tolerates_surrounding_and_full_width_spaces(world: World) -> None:
    app = public_report(world)
    assert stage(ask(f"  {app.receipt_no.lower()} ", f"\u3000 {app.applicant_name}\u3000")) == "已受理"
    assert stage(ask(app.receipt_no, app.applicant_name[:-1])) == "未查到"  # part of the name is not the name


def test_the_household_head_may_ask_for_a_cadre_entered_application(world: World) -> None:
    from monitoring.services.applications import application_create

    hh = world.households[VILLAGE]
    app = application_create(actor=world.users["village"], household_id=hh.pk, reason="ILLNESS", description="住院")
    assert stage(ask(app.receipt_no, hh.members.get().name)) == "核实中"


def test_unknown_receipt_and_wrong_name_answer_alike_with_the_same_queries(
    world: World, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    app = public_report(world)
    unknown = "SB20261203ABCDEFGH"
    with django_assert_num_queries(STATUS_QUERIES):
        known = ask(app.receipt_no, app.applicant_name)
    with django_assert_num_queries(STATUS_QUERIES):
        missing = ask(unknown, app.applicant_name)
    with django_assert_num_queries(STATUS_QUERIES):
        wrong_name = ask(app.receipt_no, "李四")
    with django_assert_num_queries(STATUS_QUERIES):
        malformed = ask("不是编号", app.applicant_name)
    assert stage(known) == "已受理"
    for html in (missing, wrong_name, malformed):
        assert stage(html) == "未查到"
        assert NOT_FOUND in html
    # the same template slots: the answer card has one shape whatever the outcome
    assert answer_block(known) == answer_block(missing) == answer_block(wrong_name)
    # the wrong-name answer cannot be told from the unknown-receipt answer (but for what was typed)
    assert typed_out(missing, unknown, app.applicant_name) == typed_out(wrong_name, app.receipt_no, "李四")


def test_missing_fields_are_named(world: World) -> None:
    response = Client().post(reverse("status"), {"receipt": "", "name": ""})
    html = response.content.decode()
    assert response.status_code == 400
    assert "请填写受理编号。" in html and "请填写申报人姓名。" in html


def test_rate_limit_per_address_and_per_receipt(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.STATUS_RATE_PER_IP = 3
    settings.STATUS_RATE_PER_RECEIPT = 100
    app = public_report(world)
    client = Client(REMOTE_ADDR="10.1.0.1")
    for _ in range(3):
        ask(app.receipt_no, "王五", client)
    response = client.post(reverse("status"), {"receipt": app.receipt_no, "name": app.applicant_name})
    assert response.status_code == 429
    assert (
        "查询过于频繁" in response.content.decode() and 'data-testid="status-answer"' not in response.content.decode()
    )
    settings.STATUS_RATE_PER_IP = 100
    settings.STATUS_RATE_PER_RECEIPT = 2
    receipt = "SB20261203ZZZZZZZZ"
    for n in range(2):
        ask(receipt, "王五", Client(REMOTE_ADDR=f"10.2.0.{n}"))
    guessed = Client(REMOTE_ADDR="10.2.0.99").post(reverse("status"), {"receipt": receipt, "name": "赵六"})
    assert guessed.status_code == 429  # names guessed for one receipt from many addresses


def test_the_receipt_answer_and_the_login_page_link_to_the_status_page(world: World) -> None:
    head = world.households[VILLAGE].members.get()
    data = {"name": head.name, "id_number": head.id_number, "village": VILLAGE, "phone": "13800001234"}
    data |= {"reason": "ILLNESS", "description": "住院"}
    done = Client().post(reverse("self_report"), data).content.decode()
    receipt = Application.objects.get().receipt_no
    assert f'href="/status/?receipt={receipt}"' in done
    assert 'href="/status/"' in Client().get(reverse("login")).content.decode()
    assert 'href="/status/"' in Client().get(reverse("self_report")).content.decode()


def stranger_report(world: World, *, opt_in: bool = False) -> Application:
    """Someone who knows the head's 身份证号 reports under their own name and phone."""
    head = world.households[VILLAGE].members.get()
    report = SelfReport(
        name="路人甲",
        id_number=head.id_number,
        village_code=VILLAGE,
        phone="13911112222",
        reason="ILLNESS",
        description="听说他家有困难",
        notice_opt_in=opt_in,
    )
    application = self_report_submit(report=report)
    self_report_match(application_id=application.pk)
    application.refresh_from_db()
    return application


def test_a_stranger_with_the_id_number_learns_nothing_from_the_status_page(world: World) -> None:
    from tests.monitoring.review_helpers import lead_in

    household = world.households[VILLAGE]
    # the household is under 评议公示 already (a screening lead verified before the report)
    screened = lead_in(household, LeadState.VERIFIED, sources=["SCREENING"])
    screened.verified_at = timezone.now() - dt.timedelta(days=2)
    screened.save(update_fields=["verified_at"])
    app = stranger_report(world)
    assert app.lead_id == screened.pk  # merged into the household's open lead
    assert stage(ask(app.receipt_no, "路人甲")) == "已受理"  # neither the match nor the review is told
    # a report whose ID matches nobody answers the same
    unmatched = self_report_submit(
        report=SelfReport(
            name="路人乙",
            id_number="110101199001011237",
            village_code=VILLAGE,
            phone="13911113333",
            reason="ILLNESS",
            description="x",
        )
    )
    self_report_match(application_id=unmatched.pk)
    assert stage(ask(unmatched.receipt_no, "路人乙")) == "已受理"
    # rejected without a 入户核实 after the report: still 已受理, and no appeal is offered
    lead_reject(lead_id=screened.pk, actor=world.users["county"], reason="核实无风险", category="NO_RISK")
    html = ask(app.receipt_no, "路人甲")
    assert stage(html) == "已受理" and 'data-testid="appeal-form"' not in html
    response = Client().post(
        reverse("status_appeal"), {"receipt": app.receipt_no, "name": "路人甲", "reason": "替他申诉"}
    )
    assert response.status_code == 400 and "当前办理阶段不能提出申诉" in response.content.decode()


def test_after_the_home_visit_the_public_report_shows_the_stage_of_the_posting(world: World) -> None:
    app = public_report(world)
    assert app.lead is not None
    verify(world, app.lead.pk)
    assert stage(ask(app.receipt_no, app.applicant_name)) == "评议公示中"


def test_wrong_names_lock_a_receipt_for_minutes_and_the_page_says_whom_to_ask(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    settings.STATUS_RATE_PER_RECEIPT = 2
    app = public_report(world)
    for n in range(2):
        ask(app.receipt_no, "王五", Client(REMOTE_ADDR=f"10.3.0.{n}"))
    locked = Client(REMOTE_ADDR="10.3.0.50").post(
        reverse("status"), {"receipt": app.receipt_no, "name": app.applicant_name}
    )
    assert locked.status_code == 429 and "请向村干部" in locked.content.decode()
    assert "15 分钟" in locked.content.decode()
    assert settings.STATUS_RATE_RECEIPT_WINDOW <= 15 * 60
    cache.clear()  # the window has passed: the household gets its answer
    assert stage(ask(app.receipt_no, app.applicant_name)) == "已受理"


def test_behind_a_trusted_proxy_each_household_has_its_own_bucket(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TRUSTED_PROXIES = ["10.9.9.9"]
    settings.STATUS_RATE_PER_IP = 2
    settings.STATUS_RATE_PER_RECEIPT = 100
    proxy = Client(REMOTE_ADDR="10.9.9.9")
    for _ in range(2):
        proxy.post(reverse("status"), {"receipt": "SB20261203ZZZZZZZZ", "name": "王五"}, HTTP_X_FORWARDED_FOR="1.1.1.1")
    limited = proxy.post(
        reverse("status"), {"receipt": "SB20261203ZZZZZZZZ", "name": "王五"}, HTTP_X_FORWARDED_FOR="1.1.1.1"
    )
    assert limited.status_code == 429
    # another household behind the same proxy (a spoofed left-most entry does not count)
    other = proxy.post(
        reverse("status"),
        {"receipt": "SB20261203ZZZZZZZZ", "name": "王五"},
        HTTP_X_FORWARDED_FOR="1.1.1.1, 2.2.2.2",
    )
    assert other.status_code == 200
    # X-Forwarded-For from an address that is not a trusted proxy is ignored
    direct = Client(REMOTE_ADDR="10.4.0.1")
    for n in range(2):
        direct.post(
            reverse("status"), {"receipt": "SB20261203ZZZZZZZZ", "name": "王五"}, HTTP_X_FORWARDED_FOR=f"3.3.3.{n}"
        )
    spoofed = direct.post(
        reverse("status"), {"receipt": "SB20261203ZZZZZZZZ", "name": "王五"}, HTTP_X_FORWARDED_FOR="3.3.3.99"
    )
    assert spoofed.status_code == 429


def test_client_ip_takes_the_right_most_untrusted_forwarded_address(settings) -> None:  # type: ignore[no-untyped-def]
    from django.test import RequestFactory

    from fanpin.web.mixins import client_ip

    settings.TRUSTED_PROXIES = ["10.9.9.9", "10.9.9.8"]
    rf = RequestFactory()
    request = rf.get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="6.6.6.6, 5.5.5.5, 10.9.9.8")
    assert client_ip(request) == "5.5.5.5"
    assert client_ip(rf.get("/", REMOTE_ADDR="7.7.7.7", HTTP_X_FORWARDED_FOR="5.5.5.5")) == "7.7.7.7"
    assert client_ip(rf.get("/", REMOTE_ADDR="10.9.9.9")) == "10.9.9.9"
    # not an address (a misconfigured proxy's "unknown"): none, so the access log's column can hold it
    assert client_ip(rf.get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="unknown")) is None
    assert client_ip(rf.get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="2001:db8::1")) == "2001:db8::1"


def test_opening_the_appeal_address_goes_to_the_status_page(world: World) -> None:
    response = Client().get(reverse("status_appeal"))
    assert response.status_code == 302 and response["Location"] == reverse("status")
