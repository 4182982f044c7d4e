"""The navigation bar of the busiest roles fits one line on a 1 366 × 768 office screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("username", ["county", "admin"])
def test_navigation_is_one_line_and_menus_open(page, live_server, world: World, username: str) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 1366, "height": 768})
    login(page, live_server, username)
    brand = page.locator(".navbar-brand").bounding_box()
    logout = page.get_by_role("button", name="退出").bounding_box()
    last = page.locator("#nav .navbar-nav > li").last.bounding_box()
    assert brand and logout and last
    # everything on the brand's line: one row of items, not two
    assert abs(last["y"] - brand["y"]) < brand["height"] and abs(logout["y"] - brand["y"]) < brand["height"]
    page.get_by_test_id("nav-group-data").click()
    page.get_by_role("link", name="筛查", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/monitoring/screening/")
