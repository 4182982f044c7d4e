"""Issue 18 part 7: the county starts a 回头看 over the 脱贫户 of a village; the village cadre finds the
task on 村级工作台, visits the household, and the campaign page shows the village done."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from monitoring.models import CampaignTask, Household
from tests.browser.conftest import login, screenshot
from tests.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VILLAGE = "520101001001"


def test_county_starts_a_campaign_and_a_visit_completes_it(browser, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    hh = world.households[VILLAGE]
    Household.objects.filter(pk=hh.pk).update(household_type="EXITED", exit_year=2018)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        login(page, live_server, "county")
        page.get_by_test_id("nav-group-data").click()
        page.get_by_role("link", name="回头看/信息采集").click()
        expect(page.get_by_test_id("campaign-empty")).to_be_visible()
        page.get_by_test_id("campaign-start-link").click()
        page.get_by_label("回头看").check()
        page.get_by_label("活动名称").fill("春季脱贫户回头看")
        page.get_by_label("所选村的全部脱贫户").check()
        page.get_by_label("所选村（村级区划代码）").fill(VILLAGE)
        screenshot(page, "campaign-start.png")
        page.get_by_role("button", name="发起活动").click()
        expect(page.get_by_role("heading", name="春季脱贫户回头看")).to_be_visible()
        expect(page.get_by_test_id("campaign-total")).to_contain_text("共 1 户，已完成 0 户")
        assert CampaignTask.objects.count() == 1
        context.clear_cookies()

        login(page, live_server, "village")
        tasks = page.get_by_test_id("cadre-campaigns")
        expect(tasks).to_contain_text("春季脱贫户回头看")
        expect(tasks).to_contain_text(hh.household_no)
        tasks.get_by_role("link", name=f"走访 {hh.household_no}").click()
        page.get_by_label("走访人").fill("王书记")
        page.get_by_role("button", name="保存走访记录").click()
        expect(page.get_by_role("alert").filter(has_text="走访记录已保存")).to_be_visible()
        page.goto(f"{live_server.url}/monitoring/cadre/")
        expect(page.get_by_test_id("cadre-campaigns")).to_have_count(0)  # nothing left to do
        context.clear_cookies()

        login(page, live_server, "county")
        page.goto(f"{live_server.url}/monitoring/campaigns/")
        page.get_by_role("link", name="春季脱贫户回头看").click()
        expect(page.get_by_test_id("campaign-total")).to_contain_text("已完成 1 户")
        expect(page.get_by_test_id("village-row")).to_contain_text("100.0%")
        screenshot(page, "campaign-page.png")
    finally:
        context.close()
