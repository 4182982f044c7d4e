"""Issue 6, acceptance 2: household applications and the public self-report page."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from fanpin.workflow import ObjectOutOfScope
from monitoring.models import Application, ApplicationStatus, Lead, LeadSource, Member
from monitoring.services.applications import application_create
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


def test_public_report_with_a_known_id_raises_a_lead_and_shows_only_a_receipt(world: World) -> None:
    hh = world.households[VILLAGE]
    member = Member.objects.get(household=hh)
    response = Client().post(reverse("self_report"), report(world, member.id_number))
    assert response.status_code == 200
    body = response.content.decode()
    app = Application.objects.get()
    assert app.receipt_no in body
    # nothing personal comes back: not the name, the household, the ID, the village's households
    for secret in (member.name, member.id_number, hh.household_no, "李四", "13800001234"):
        assert secret not in body
    assert app.household == hh and app.status == ApplicationStatus.MATCHED
    assert Lead.objects.get(household=hh).sources == [LeadSource.SELF_APPLICATION]


def test_unknown_id_is_kept_as_pending_match_for_the_county(world: World) -> None:
    unknown = make_id_number("520101")
    response = Client().post(reverse("self_report"), report(world, unknown))
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
