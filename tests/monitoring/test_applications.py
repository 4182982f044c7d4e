"""Issue 6, acceptance 2: household applications and the public self-report page."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fanpin.core.models import AuditEntry
from fanpin.core.workflow import ObjectOutOfScope
from monitoring.models import Application, ApplicationStatus, Lead, LeadSource, Member
from monitoring.services.applications import application_create
from monitoring.tasks import self_report_match_task
from tests.conftest import World
from tests.factories import make_id_number

pytestmark = pytest.mark.django_db
VILLAGE = "520101001001"


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()


def report(world: World, id_number: str, **overrides: str) -> dict[str, str]:
    return {
        "name": "李四",
        "id_number": id_number,
        "village": VILLAGE,
        "phone": "13800001234",
        "reason": "ILLNESS",
        "description": "家里老人住院，花了很多钱",
        **overrides,
    }


def normalised(html: str) -> str:
    """The page without what differs per request: the receipt number and the CSRF token."""
    html = re.sub(r"SB\d{8}[0-9A-Z]{8}", "RECEIPT", html)
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", html)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "CSRF", html)


def test_cadre_application_raises_a_self_application_lead(world: World) -> None:
    hh = world.households[VILLAGE]
    app = application_create(
        actor=world.users["village"],
        household_id=hh.pk,
        reason="DISASTER",
        description="房屋受损",
        amount=Decimal("3500.00"),
    )
    lead = Lead.objects.get(household=hh)
    assert app.lead == lead and app.status == ApplicationStatus.MATCHED
    assert lead.sources == [LeadSource.SELF_APPLICATION]
    assert lead.evidence["SELF_APPLICATION"][0]["amount"] == "3500.00"
    with pytest.raises(ObjectOutOfScope):
        application_create(
            actor=world.users["village"],
            household_id=world.households["520101001002"].pk,
            reason="ILLNESS",
            description="x",
        )


def post_report(client: Client, data: dict[str, str], *, run_task: bool = True) -> HttpResponse:
    """POST /report/ as production with a broker does it: the request enqueues the match task on
    commit, a worker runs it afterwards (``run_task``)."""
    with mock.patch("monitoring.tasks.self_report_match_task.delay_on_commit") as delay:
        response = client.post(reverse("self_report"), data)
    if run_task:
        for call in delay.call_args_list:
            self_report_match_task(*call.args)
    return response


def test_public_report_with_a_known_id_raises_a_lead_and_shows_only_a_receipt(world: World) -> None:
    # Changed with the timing fix (F2): the request stores the report 待匹配 and the task matches it.
    hh = world.households[VILLAGE]
    member = Member.objects.get(household=hh)
    response = post_report(Client(), report(world, member.id_number), run_task=False)
    assert response.status_code == 200
    body = response.content.decode()
    app = Application.objects.get()
    assert app.receipt_no in body
    # nothing personal comes back: not the name, the household, the ID, the village's households
    for secret in (member.name, member.id_number, hh.household_no, "李四", "13800001234"):
        assert secret not in body
    assert app.status == ApplicationStatus.PENDING_MATCH and not Lead.objects.exists()
    self_report_match_task(app.pk)
    app.refresh_from_db()
    assert app.household == hh and app.status == ApplicationStatus.MATCHED
    assert Lead.objects.get(household=hh).sources == [LeadSource.SELF_APPLICATION]
    assert app.lead == Lead.objects.get(household=hh)


def test_unknown_id_is_kept_as_pending_match_for_the_county(world: World) -> None:
    unknown = make_id_number("520101")
    response = post_report(Client(), report(world, unknown))
    assert response.status_code == 200
    app = Application.objects.get()
    assert app.status == ApplicationStatus.PENDING_MATCH and app.household is None and app.village_id == VILLAGE
    assert not Lead.objects.exists()
    county = Client()
    county.force_login(world.users["county"])
    page = county.get(reverse("monitoring:application_list") + "?status=PENDING_MATCH").content.decode()
    assert app.receipt_no in page and "待匹配" in page and unknown not in page  # masked


def test_the_page_reveals_nothing_about_whether_an_id_exists(world: World) -> None:
    known = Member.objects.get(household=world.households[VILLAGE]).id_number
    unknown = make_id_number("520101")
    a = Client().post(reverse("self_report"), report(world, known))
    b = Client().post(reverse("self_report"), report(world, unknown))
    assert a.status_code == b.status_code == 200
    assert normalised(a.content.decode()) == normalised(b.content.decode())
    assert dict(a.headers).keys() == dict(b.headers).keys()


def test_a_bad_id_gets_a_clear_message(world: World) -> None:
    response = Client().post(reverse("self_report"), report(world, make_id_number("520101")[:17] + "Y"))
    assert response.status_code == 400
    assert "身份证号只能由数字组成" in response.content.decode()
    good = make_id_number("520101")
    wrong_check = good[:17] + ("1" if good[17] != "1" else "2")
    response = Client().post(reverse("self_report"), report(world, wrong_check))
    assert response.status_code == 400 and "身份证号校验位错误" in response.content.decode()
    assert not Application.objects.exists()


def test_rate_limit_per_ip_answers_429_in_chinese(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SELF_REPORT_RATE_PER_IP = 3
    settings.SELF_REPORT_RATE_PER_ID = 100
    client = Client()
    for _ in range(3):
        assert client.post(reverse("self_report"), report(world, make_id_number("520101"))).status_code == 200
    response = client.post(reverse("self_report"), report(world, make_id_number("520101")))
    assert response.status_code == 429
    assert "提交过于频繁，请稍后再试" in response.content.decode()
    assert Application.objects.count() == 3
    # another address is not affected
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert other.post(reverse("self_report"), report(world, make_id_number("520101"))).status_code == 200


def test_rate_limit_per_id_number(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SELF_REPORT_RATE_PER_IP = 100
    settings.SELF_REPORT_RATE_PER_ID = 2
    same = make_id_number("520101")
    for n in range(2):
        assert Client(REMOTE_ADDR=f"10.0.0.{n}").post(reverse("self_report"), report(world, same)).status_code == 200
    response = Client(REMOTE_ADDR="10.0.0.50").post(reverse("self_report"), report(world, same))
    assert response.status_code == 429 and "提交过于频繁" in response.content.decode()
    assert Application.objects.count() == 2


def test_self_report_page_needs_no_login_and_lists_villages(world: World) -> None:
    response = Client().get(reverse("self_report"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "身份证号" in body and "村001001" in body


def test_cadre_form_posted_twice_records_one_application(world: World) -> None:
    """Issue 15: the page's client_uuid makes a re-post (double tap, a resend) a no-op."""
    hh = world.households[VILLAGE]
    client = Client()
    client.force_login(world.users["village"])
    page = client.get(reverse("monitoring:application_new"))
    key = re.search(r'name="client_uuid" value="([0-9a-f-]{36})"', page.content.decode())
    assert key is not None
    data = {"client_uuid": key.group(1), "household": hh.pk, "reason": "ILLNESS", "description": "住院"}
    first = client.post(reverse("monitoring:application_new"), data, follow=True)
    assert "农户申报已录入" in first.content.decode()
    again = client.post(reverse("monitoring:application_new"), data, follow=True)
    assert "这条农户申报此前已保存" in again.content.decode()
    assert Application.objects.count() == 1 and Lead.objects.count() == 1
    assert str(Application.objects.get().client_uuid) == key.group(1)


def test_a_registered_and_an_unregistered_id_cost_the_request_the_same_work(
    world: World, django_assert_num_queries: Any
) -> None:
    """F2: the request stores the report and enqueues the match; it does the same queries and answers
    the same page whatever the 身份证号, so its timing tells nothing.  The task matches afterwards."""
    hh = world.households[VILLAGE]
    known = Member.objects.get(household=hh).id_number
    unknown = make_id_number("520101")
    post_report(Client(), report(world, make_id_number("520101")), run_task=False)  # warm the caches
    Application.objects.all().delete()
    task = "monitoring.tasks.self_report_match_task.delay_on_commit"
    with CaptureQueriesContext(connection) as first, mock.patch(task) as delay_a:
        a = Client().post(reverse("self_report"), report(world, known))
    with django_assert_num_queries(len(first.captured_queries)), mock.patch(task) as delay_b:
        b = Client().post(reverse("self_report"), report(world, unknown))
    assert a.status_code == b.status_code == 200
    assert normalised(a.content.decode()) == normalised(b.content.decode())
    app_a = Application.objects.get(id_number=known)
    app_b = Application.objects.get(id_number=unknown)
    delay_a.assert_called_once_with(app_a.pk)
    delay_b.assert_called_once_with(app_b.pk)
    assert {app_a.status, app_b.status} == {ApplicationStatus.PENDING_MATCH} and not Lead.objects.exists()
    # the worker runs the task: the registered ID is matched and raises the lead, the other stays 待匹配
    self_report_match_task(app_a.pk)
    self_report_match_task(app_b.pk)
    app_a.refresh_from_db()
    app_b.refresh_from_db()
    assert app_a.status == ApplicationStatus.MATCHED and app_a.household == hh
    lead = Lead.objects.get()
    assert lead.household == hh and app_a.lead == lead and lead.sources == [LeadSource.SELF_APPLICATION]
    assert app_b.status == ApplicationStatus.PENDING_MATCH and app_b.household is None
    # safe to retry: a second run writes nothing more
    self_report_match_task(app_a.pk)
    lead.refresh_from_db()
    assert Lead.objects.count() == 1 and len(lead.evidence["SELF_APPLICATION"]) == 1
    assert AuditEntry.objects.filter(object_type="application", action="match").count() == 1


def _village_view(world: World) -> tuple[str, list[dict[str, Any]]]:
    """What the village cadre sees of the 农户申报: the list page's table and the API's rows,
    without what differs per report (receipt, time, id, the masked number)."""
    cadre = Client()
    cadre.force_login(world.users["village"])
    page = cadre.get(reverse("monitoring:application_list")).content.decode()
    table = page[page.index("<h1") :]
    table = re.sub(r"SB\d{8}[0-9A-Z]{8}", "RECEIPT", table)
    table = re.sub(r"\d{6}\*{8}\d{3}[\dX]", "MASKED", table)
    rows = json.loads(cadre.get("/api/v1/applications/").content)["results"]
    for row in rows:
        for key in ("id", "receipt_no", "created_at", "id_number"):
            row.pop(key)
    return table, rows


def test_a_village_cadre_cannot_tell_an_id_of_another_village_from_an_unknown_one(world: World) -> None:
    """F3: a report choosing the cadre's village with the number of another village's member is filed
    there as 待匹配, exactly like an unknown number; the county sees it among its pending matches."""
    elsewhere = Member.objects.get(household=world.households["520101001002"]).id_number
    post_report(Client(), report(world, elsewhere))
    other_village = _village_view(world)
    app = Application.objects.get()
    assert app.status == ApplicationStatus.PENDING_MATCH and app.village_id == VILLAGE and app.household is None
    assert not Lead.objects.exists()
    county = Client()
    county.force_login(world.users["county"])
    page = county.get(reverse("monitoring:application_list") + "?status=PENDING_MATCH").content.decode()
    assert app.receipt_no in page and "待匹配" in page
    Application.objects.all().delete()

    post_report(Client(), report(world, make_id_number("520101")))
    unknown = _village_view(world)
    assert Application.objects.get().status == ApplicationStatus.PENDING_MATCH
    assert len(unknown[1]) == 1 and unknown[1][0]["status"] == ApplicationStatus.PENDING_MATCH
    assert other_village == unknown


def test_the_county_resolves_a_report_filed_under_the_wrong_village(world: World) -> None:
    """F3, the county's side: its list of 待匹配 offers 按身份证号匹配 (full numbers are its right); the
    report moves to the member's village and raises the lead.  A village cadre has no such button."""
    other = world.households["520101001002"]
    elsewhere = Member.objects.get(household=other).id_number
    post_report(Client(), report(world, elsewhere))
    post_report(Client(), report(world, make_id_number("520101")))
    filed_elsewhere = Application.objects.get(id_number=elsewhere)
    unknown = Application.objects.exclude(pk=filed_elsewhere.pk).get()
    cadre = Client()
    cadre.force_login(world.users["village"])
    assert "按身份证号匹配" not in cadre.get(reverse("monitoring:application_list")).content.decode()
    match = reverse("monitoring:application_match", args=[filed_elsewhere.pk])
    assert cadre.post(match).status_code == 403
    county = Client()
    county.force_login(world.users["county"])
    page = county.get(reverse("monitoring:application_list") + "?status=PENDING_MATCH").content.decode()
    assert page.count("按身份证号匹配") == 2 and match in page
    done = county.post(match, follow=True).content.decode()
    assert f"已匹配到农户 {other.household_no}" in done
    filed_elsewhere.refresh_from_db()
    assert filed_elsewhere.status == ApplicationStatus.MATCHED and filed_elsewhere.household == other
    assert filed_elsewhere.village_id == other.village_id
    lead = Lead.objects.get()
    assert lead.household == other and filed_elsewhere.lead == lead
    missing = county.post(reverse("monitoring:application_match", args=[unknown.pk]), follow=True).content.decode()
    assert "在您的管辖范围内未找到该身份证号对应的农户成员" in missing
    unknown.refresh_from_db()
    assert unknown.status == ApplicationStatus.PENDING_MATCH and Lead.objects.count() == 1
