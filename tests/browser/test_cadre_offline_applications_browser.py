"""Issue 15: 村级工作台 opens offline (the last-known due list, 「离线：数据截至 HH:MM」) and 代录农户申报
queues applications offline like visits: kept on the phone, listed in the queue, sent once when the
connection returns."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from monitoring.models import Application, Lead
from tests.browser.conftest import login, screenshot
from tests.browser.test_cadre_logout_browser import CACHED_PAGES, cached_pages_become
from tests.conftest import World
from tests.factories import HouseholdFactory, MemberFactory, TargetFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VILLAGE = "520101001001"


def test_cadre_home_and_applications_work_offline(phone, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    hh = world.households[VILLAGE]
    due = HouseholdFactory(household_no="H520101001001B", village_id=VILLAGE)
    MemberFactory(household=due, relation="HEAD", name="户主二")
    TargetFactory(household=due)  # a monitoring target never visited: due a visit
    page, context = phone, phone.context
    # online: the cadre opens the home (the first time: the worker is installed) and the form
    login(page, live_server, "village")
    page.goto(f"{live_server.url}/monitoring/cadre/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    expect(page.get_by_test_id("offline-note")).to_be_hidden()
    page.get_by_role("link", name="代录农户申报").click()
    expect(page.get_by_role("heading", name="代录农户申报")).to_be_visible()
    cached_pages_become(page, lambda n: n >= 2)  # the home too, though it was opened before the worker

    # offline: the home is the copy, with its last-known due list and when it is from
    context.set_offline(True)
    page.goto(f"{live_server.url}/monitoring/cadre/")
    expect(page.get_by_role("heading", name="村级工作台")).to_be_visible()
    expect(page.get_by_test_id("due-list")).to_contain_text("H520101001001B")
    expect(page.get_by_test_id("offline-note")).to_be_visible()
    note = page.get_by_test_id("offline-note").inner_text()
    assert re.match(r"离线：数据截至 \d\d:\d\d", note), note
    screenshot(page, "cadre-home-offline.png")

    # an application saved offline waits in the queue
    page.get_by_role("link", name="代录农户申报").click()
    expect(page.get_by_role("heading", name="代录农户申报")).to_be_visible()
    page.get_by_label("农户").select_option(str(hh.pk))
    page.get_by_label("申报事由").select_option("ILLNESS")
    page.get_by_label("情况说明").fill("家里老人住院，花了很多钱")
    page.get_by_role("button", name="保存申报").click()
    expect(page.get_by_test_id("queue-count")).to_have_text("1 条待上传")
    expect(page.get_by_test_id("queue-items")).to_contain_text(f"农户申报 · {hh.household_no}")
    expect(page.get_by_label("情况说明")).to_have_value("")  # the form is ready for the next one
    screenshot(page, "application-form-offline.png")
    assert not Application.objects.exists()
    # still offline, the home lists it too
    page.get_by_role("link", name="← 村级工作台").click()
    expect(page.get_by_test_id("queue-count")).to_have_text("1 条待上传")
    expect(page.get_by_test_id("queue-items")).to_contain_text("农户申报")

    # back online: sent, exactly once
    context.set_offline(False)
    expect(page.locator("#queue-message")).to_have_text("已上传 1 条农户申报。")
    expect(page.get_by_test_id("queue-count")).to_have_text("0 条待上传")
    expect(page.get_by_test_id("queue-items")).to_be_hidden()
    page.reload()
    expect(page.get_by_test_id("queue-count")).to_have_text("0 条待上传")
    expect(page.get_by_test_id("offline-note")).to_be_hidden()
    expect(page.get_by_test_id("due-list")).to_contain_text(hh.household_no)  # its new lead: due a visit
    assert Application.objects.count() == 1
    application = Application.objects.get()
    assert application.household_id == hh.pk and application.client_uuid is not None
    assert application.submitted_by is not None and application.submitted_by.username == "village"
    assert Lead.objects.filter(household=hh).count() == 1


def test_a_page_kept_for_offline_use_does_not_outlive_the_logout(browser, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    """The worker fetches the cadre pages not kept yet; one still on its way when the cadre signs out
    (a weak signal) is not kept afterwards: the copies show the last user's households."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
    held: list = []  # type: ignore[type-arg]
    # the worker's fetch of the visit form is held until the test answers it
    context.route("**/monitoring/cadre/visits/new/", lambda route: held.append(route))
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        login(page, live_server, "village")
        page.goto(f"{live_server.url}/monitoring/cadre/")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        cached_pages_become(page, lambda n: n >= 2)  # the home and the application form
        for _ in range(100):
            if held:
                break
            page.wait_for_timeout(100)
        assert held, "the worker did not ask for the visit form"
        answer = held[0].fetch()  # made while signed in: a good page, slow to arrive
        assert answer.status == 200
        page.get_by_role("button", name="退出").click()
        page.wait_for_url(f"{live_server.url}/accounts/login/")
        cached_pages_become(page, lambda n: n == 0)
        page.wait_for_timeout(300)  # the sign-in page has told the worker
        held[0].fulfill(response=answer)
        page.wait_for_timeout(1000)
        assert page.evaluate(CACHED_PAGES) == 0
    finally:
        context.close()
