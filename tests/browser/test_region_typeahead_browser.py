"""County staff pick a village by typing its name: the suggestions come from the server (htmx)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from monitoring.models import Region
from tests.browser.conftest import login
from tests.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_typing_a_village_name_offers_it_and_the_list_filters_by_it(page, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    Region.objects.filter(code="520101002001").update(name="上营村")
    Region.objects.filter(code="520102001001").update(name="上营村")  # another county: never offered
    login(page, live_server, "county")
    page.get_by_role("link", name="农户信息").first.click()
    field = page.get_by_label("村", exact=True)
    field.fill("上营")
    options = page.locator("#id_village-options option")
    expect(options).to_have_count(1)
    assert options.first.get_attribute("value") == "520101002001"
    field.fill(options.first.get_attribute("value") or "")  # what picking the suggestion fills in
    page.get_by_role("button", name="查询").click()
    rows = page.get_by_test_id("household-table").locator("tbody tr")
    expect(rows).to_have_count(1)
    assert "H520101002001" in rows.first.inner_text()
