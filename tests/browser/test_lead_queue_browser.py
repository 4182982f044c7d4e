"""The lead queue's 导出 Excel follows the filter 查询 applied (the table is swapped by htmx; the link
sits above it and came stale: a county officer filtering one village downloaded the whole county's
leads, and after a refused filter the county's leads beside "0 条")."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.conftest import World
from tests.monitoring.review_helpers import VILLAGE, lead_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_export_link_follows_the_filter_the_list_shows(page, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    lead_in(world.households[VILLAGE])
    lead_in(world.households["520101002001"])
    login(page, live_server, "county")
    page.goto(f"{live_server.url}/monitoring/leads/?state=ALL")
    expect(page.get_by_test_id("lead-count")).to_contain_text("共 2 条线索")
    export = page.get_by_test_id("leads-export")
    assert "region" not in parse_qs(urlparse(export.get_attribute("href") or "").query)

    page.get_by_label("乡镇/村").fill(VILLAGE)
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_test_id("lead-count")).to_contain_text("共 1 条线索")
    query = parse_qs(urlparse(page.get_by_test_id("leads-export").get_attribute("href") or "").query)
    assert query["region"] == [VILLAGE] and query["state"] == ["ALL"]

    page.get_by_label("乡镇/村").fill("绿水县")  # another county: refused, nothing listed, nothing to export
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_test_id("lead-count")).to_contain_text("共 0 条线索")
    expect(page.get_by_test_id("leads-export")).to_have_count(0)
