"""County staff log in and find a household; the 身份证号 is shown masked."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login, screenshot
from tests.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_county_finds_household_and_sees_masked_ids(page, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    login(page, live_server, "county")
    page.get_by_role("link", name="农户信息").first.click()
    table = page.get_by_test_id("household-table")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(len(world.visible("520101")))
    assert "H530101001001" not in table.inner_text()  # another province

    page.get_by_label("搜索").fill("户主001002")
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_test_id("household-table").locator("tbody tr")).to_have_count(1)
    page.get_by_role("link", name="H520101001002").click()
    member = world.households["520101001002"].members.get()
    members = page.get_by_test_id("member-table").inner_text()
    assert member.id_number not in members
    assert f"{member.id_number[:6]}********{member.id_number[-4:]}" in members
    screenshot(page, "household-detail.png")
