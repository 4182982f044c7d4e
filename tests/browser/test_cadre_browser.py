"""Issue 6, acceptance 3 and 4: a cadre on a phone (375×812) records a visit with a photo, then two
visits offline ("2 条待上传") that arrive exactly once when the connection returns."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from monitoring.models import Visit
from tests.browser.conftest import login, screenshot
from tests.conftest import World
from tests.factories import HouseholdFactory, LeadFactory, MemberFactory, TargetFactory
from tests.monitoring.test_visits import jpeg_with_gps

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VILLAGE = "520101001001"


def fill_visit(page, household_pk: int, visitors: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("农户").select_option(str(household_pk))
    page.get_by_label("走访人").fill(visitors)


def test_cadre_records_visits_online_and_offline(phone, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    hh = world.households[VILLAGE]
    second = HouseholdFactory(household_no="H520101001001B", village_id=VILLAGE)
    MemberFactory(household=second, relation="HEAD", name="户主二")
    TargetFactory(household=second)  # a monitoring target never visited: due a visit
    LeadFactory(household=hh)  # a screening lead waiting for the village to verify
    page, context = phone, phone.context
    login(page, live_server, "village")
    page.goto(f"{live_server.url}/monitoring/cadre/")
    expect(page.get_by_role("heading", name="村级工作台")).to_be_visible()
    expect(page.get_by_test_id("queue-count")).to_have_text("0 条待上传")
    expect(page.get_by_test_id("due-list")).to_contain_text("H520101001001B")
    expect(page.get_by_test_id("verify-list")).to_contain_text("H520101001001")
    screenshot(page, "cadre-home.png")
    worker = context.service_workers[0] if context.service_workers else context.wait_for_event("serviceworker")
    assert worker.url == f"{live_server.url}/monitoring/cadre/sw.js"

    # online, with a photo; housing not secured
    page.get_by_role("link", name="录入走访记录").click()
    fill_visit(page, hh.pk, "王书记")
    page.get_by_label("住房安全有保障：已保障").uncheck()
    page.get_by_label("受灾").check()
    page.get_by_label("照片（最多 3 张").set_input_files(
        {"name": "house.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps()}
    )
    screenshot(page, "visit-form.png")
    page.get_by_role("button", name="保存走访记录").click()
    expect(page.get_by_role("alert").filter(has_text="走访记录已保存")).to_be_visible()
    online_visit = Visit.objects.get()
    assert online_visit.photos.count() == 1 and not online_visit.housing_secure

    # offline: two visits wait in the browser
    page.get_by_role("link", name="录入走访记录").click()
    expect(page.get_by_test_id("queue-count")).to_have_text("0 条待上传")
    context.set_offline(True)
    expect(page.get_by_test_id("network-state")).to_have_text("离线")
    fill_visit(page, hh.pk, "王书记")
    page.get_by_label("发现返贫致贫风险").check()
    page.get_by_role("button", name="保存走访记录").click()
    expect(page.get_by_test_id("queue-count")).to_have_text("1 条待上传")
    fill_visit(page, second.pk, "王书记")
    page.get_by_role("button", name="保存走访记录").click()
    expect(page.get_by_test_id("queue-count")).to_have_text("2 条待上传")
    assert Visit.objects.count() == 1  # nothing reached the server
    # still offline, the page reloads from the service worker's copy and the queue is kept
    page.reload()
    expect(page.get_by_test_id("network-state")).to_have_text("离线")
    expect(page.get_by_test_id("queue-count")).to_have_text("2 条待上传")

    # back online: both arrive, exactly once
    context.set_offline(False)
    expect(page.get_by_test_id("queue-count")).to_have_text("0 条待上传")
    assert Visit.objects.count() == 3
    offline_visits = Visit.objects.exclude(pk=online_visit.pk)
    assert sorted(v.household_id for v in offline_visits) == sorted([hh.pk, second.pk])
    assert all(v.client_uuid for v in offline_visits)

    # a reload sends nothing again; a resend of the same visit is recognised
    page.reload()
    expect(page.get_by_test_id("queue-count")).to_have_text("0 条待上传")
    sent = offline_visits.get(household=second)
    token = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"{live_server.url}/api/v1/visits/",
        multipart={
            "client_uuid": str(sent.client_uuid),
            "household": str(second.pk),
            "visited_on": sent.visited_on.isoformat(),
            "visitors": "王书记",
        },
        headers={"X-CSRFToken": token, "Referer": live_server.url + "/"},
    )
    assert response.status == 200 and response.json()["id"] == sent.pk
    assert Visit.objects.count() == 3
    assert str(uuid.UUID(str(sent.client_uuid))) == str(sent.client_uuid)


def test_a_township_searches_online_and_records_the_household_found_offline(
    phone, live_server, world: World, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """A township's form lists only the households its search found (the scope is too large to
    list): offline the search cannot run, and the page says so instead of showing the copy kept
    for another search; the visit to the household found is queued and sent when back online."""
    monkeypatch.setattr("monitoring.selectors.cadre.HOUSEHOLD_PICKER_ALL", 0)
    hh = world.households[VILLAGE]
    page, context = phone, phone.context
    login(page, live_server, "township")
    page.goto(f"{live_server.url}/monitoring/cadre/visits/new/")
    expect(page.get_by_test_id("household-picker-search")).to_contain_text("请先查找")
    page.get_by_placeholder("户编号、户主或成员姓名").fill(hh.household_no)
    page.get_by_role("button", name="查找").click()
    expect(page.locator("#id_household option")).to_have_count(2)  # 请选择农户 and the household found
    searched = page.url
    context.set_offline(True)
    expect(page.get_by_test_id("network-state")).to_have_text("离线")
    page.get_by_placeholder("户编号、户主或成员姓名").fill("王")
    page.get_by_role("button", name="查找").click()
    expect(page.locator("#queue-message")).to_contain_text("离线时无法查找农户")
    assert page.url == searched
    page.locator("#id_household").select_option(str(hh.pk))
    page.get_by_label("走访人").fill("乡镇干部")
    page.get_by_role("button", name="保存走访记录").click()
    expect(page.get_by_test_id("queue-count")).to_have_text("1 条待上传")
    assert not Visit.objects.exists()
    context.set_offline(False)
    expect(page.get_by_test_id("queue-count")).to_have_text("0 条待上传")
    assert Visit.objects.get().household_id == hh.pk
