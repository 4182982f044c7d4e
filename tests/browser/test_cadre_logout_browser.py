"""Issue 16, hole 9: after logout the phone shows no cached cadre page, even offline; the unsent visits
stay on the phone and are sent only by the cadre who saved them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fanpin.core.roles import Role
from monitoring.models import Visit
from tests.browser.conftest import login
from tests.conftest import World
from tests.factories import user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VILLAGE = "520101001001"

CACHED_PAGES = """async () => {
  const names = (await caches.keys()).filter((k) => k.startsWith("fanpin-cadre"));
  let pages = 0;
  for (const name of names) {
    const keys = await (await caches.open(name)).keys();
    pages += keys.filter((r) => new URL(r.url).pathname.startsWith("/monitoring/cadre/")).length;
  }
  return pages;
}"""


def cached_pages_become(page, wanted) -> None:  # type: ignore[no-untyped-def]
    """Wait until ``wanted(number of cadre pages in the worker's caches)`` (the cache is written after
    the page answered)."""
    for _ in range(100):
        if wanted(page.evaluate(CACHED_PAGES)):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"cached cadre pages: {page.evaluate(CACHED_PAGES)}")


def test_logout_forgets_cached_pages_but_keeps_unsent_visits(browser, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    hh = world.households[VILLAGE]
    user("village2", Role.VILLAGE, VILLAGE)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        login(page, live_server, "village")
        page.goto(f"{live_server.url}/monitoring/cadre/")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.goto(f"{live_server.url}/monitoring/cadre/visits/new/")  # now through the worker: a copy is kept
        cached_pages_become(page, lambda n: n > 0)
        # one visit saved offline, and it cannot be sent before the logout (the API is unreachable)
        context.set_offline(True)
        page.get_by_label("农户").select_option(str(hh.pk))
        page.get_by_label("走访人").fill("王书记")
        page.get_by_role("button", name="保存走访记录").click()
        expect(page.get_by_test_id("queue-count")).to_have_text("1 条待上传")
        page.route("**/api/v1/visits/", lambda route: route.abort())
        context.set_offline(False)
        page.get_by_role("button", name="退出").click()
        page.wait_for_url(f"{live_server.url}/accounts/login/")
        cached_pages_become(page, lambda n: n == 0)

        # offline after the logout: the visit form is not shown from a copy
        context.set_offline(True)
        response = page.goto(f"{live_server.url}/monitoring/cadre/visits/new/")
        assert response is not None and response.status == 503
        expect(page.locator("body")).to_contain_text("此页面尚未缓存")
        assert "王书记" not in page.content() and hh.household_no not in page.content()
        context.set_offline(False)
        page.unroute("**/api/v1/visits/")

        # another cadre on the same phone neither sends nor sees the first one's visit
        login(page, live_server, "village2")
        page.goto(f"{live_server.url}/monitoring/cadre/visits/new/")
        expect(page.get_by_test_id("queue-count")).to_have_text("0 条待上传")
        expect(page.locator("#queue-message")).to_contain_text("本机另有 1 条其他账号保存的走访记录")
        assert not Visit.objects.exists()
        page.get_by_role("button", name="退出").click()
        page.wait_for_url(f"{live_server.url}/accounts/login/")

        # the cadre who saved it signs in again: it is sent, once (from 村级工作台, where the login lands)
        login(page, live_server, "village")
        expect(page.locator("#queue-message")).to_have_text("已上传 1 条走访记录。")
        expect(page.get_by_test_id("queue-count")).to_have_text("0 条待上传")
        visit = Visit.objects.get()
        assert (visit.household_id, visit.recorded_by.username) == (hh.pk, "village")  # type: ignore[union-attr]
    finally:
        context.close()
