"""The navigation bar fits one line on a 1 366 × 768 office screen, for every role."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from monitoring.models import LeadState
from tests.browser.conftest import login
from tests.conftest import World
from tests.factories import HouseholdFactory, LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = ["admin", "province", "city", "county", "township", "village", "dept"]


def _busy(world: World) -> None:
    """Waiting and overdue leads at every step: the 线索审核 item carries its two badges."""
    long_ago = timezone.now() - dt.timedelta(days=40)
    for code in world.households:
        for state in (LeadState.NEW, LeadState.VERIFIED, LeadState.REVIEWED):
            LeadFactory(household=HouseholdFactory(village_id=code), state=state, raised_at=long_ago)


@pytest.mark.parametrize("username", ROLES)
def test_navigation_is_one_line(page, live_server, world: World, username: str) -> None:  # type: ignore[no-untyped-def]
    _busy(world)
    page.set_viewport_size({"width": 1366, "height": 768})
    login(page, live_server, username)
    links = page.locator("#nav .navbar-nav > li > .nav-link")
    row = links.first.bounding_box()
    assert row
    # a nav link is one row of text: no label wraps inside its item
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        # (a badge adds a fraction of a pixel; a wrapped label a whole line of text)
        assert box and abs(box["height"] - row["height"]) < 2 and abs(box["y"] - row["y"]) < 2, links.nth(
            i
        ).inner_text()
    # and the bar is that one row plus its padding (Bootstrap: .5rem above and below)
    navbar = page.locator("nav.navbar").bounding_box()
    assert navbar and navbar["height"] < row["height"] + 16 + 2
    logout = page.get_by_role("button", name="退出").bounding_box()
    assert logout and logout["y"] + logout["height"] <= navbar["y"] + navbar["height"]


@pytest.mark.parametrize("username", ["county", "admin"])
def test_menus_open(page, live_server, world: World, username: str) -> None:  # type: ignore[no-untyped-def]
    login(page, live_server, username)
    page.get_by_test_id("nav-group-data").click()
    page.get_by_role("link", name="筛查", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/monitoring/screening/")
