"""Issue 18 part 7: the county starts a 回头看 over the 脱贫户 of a village (ticked by name in the
picker); the village cadre finds the task on 村级工作台, visits the household, and the campaign page
shows the village done; 结束活动 asks first in a dialog (cancel keeps it open) and then ends it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from monitoring.models import Campaign, CampaignTask, Household
from tests.browser.conftest import login, screenshot, switch_user
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
        picker = page.get_by_test_id("village-picker")
        expect(picker).to_be_hidden()  # shown for 所选村的全部脱贫户 only
        factor = page.get_by_test_id("line-factor")
        expect(factor).to_be_hidden()  # shown for 人均收入低于监测标准一定倍数 only
        page.get_by_label("人均收入低于监测标准一定倍数的农户").check()
        expect(factor).to_be_visible()
        expect(picker).to_be_hidden()
        page.get_by_label("所选村的全部脱贫户").check()
        expect(picker).to_be_visible()
        expect(factor).to_be_hidden()
        # 全选 of the township ticks its two villages; unticking one leaves 全选 unticked
        page.get_by_label("全选区划520101001000（2 个村）").check()
        expect(picker.get_by_label("村001002")).to_be_checked()
        picker.get_by_label("村001002").uncheck()
        expect(page.get_by_label("全选区划520101001000（2 个村）")).not_to_be_checked()
        expect(picker.get_by_label("村001001")).to_be_checked()
        expect(picker.get_by_label("村002001")).not_to_be_checked()
        assert picker.locator("input[name=villages]").count() == 3  # the county's villages only
        screenshot(page, "campaign-start.png")
        page.get_by_role("button", name="发起活动").click()
        expect(page.get_by_role("heading", name="春季脱贫户回头看")).to_be_visible()
        expect(page.get_by_test_id("campaign-total")).to_contain_text("共 1 户，已完成 0 户")
        assert CampaignTask.objects.count() == 1
        page = switch_user(page, live_server, "village")
        tasks = page.get_by_test_id("cadre-campaigns")
        expect(tasks).to_contain_text("春季脱贫户回头看")
        expect(tasks).to_contain_text(hh.household_no)
        tasks.get_by_role("link", name=f"走访 {hh.household_no}").click()
        page.get_by_label("走访人").fill("王书记")
        page.get_by_role("button", name="保存走访记录").click()
        expect(page.get_by_role("alert").filter(has_text="走访记录已保存")).to_be_visible()
        page.goto(f"{live_server.url}/monitoring/cadre/")
        expect(page.get_by_test_id("cadre-campaigns")).to_have_count(0)  # nothing left to do
        page = switch_user(page, live_server, "county")
        page.goto(f"{live_server.url}/monitoring/campaigns/")
        page.get_by_role("link", name="春季脱贫户回头看").click()
        expect(page.get_by_test_id("campaign-total")).to_contain_text("已完成 1 户")
        expect(page.get_by_test_id("village-row")).to_contain_text("100.0%")
        screenshot(page, "campaign-page.png")
        # 结束活动 asks first; 取消 leaves it open, 确认结束 ends it
        page.get_by_role("button", name="结束活动").click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("之后的走访或数据更新不再完成本活动的任务")
        dialog.get_by_role("button", name="取消").click()
        expect(dialog).to_be_hidden()
        expect(page.get_by_test_id("campaign-state")).to_have_text("进行中")
        page.get_by_label("结束说明（可选）").fill("春季结束")
        page.get_by_role("button", name="结束活动").click()
        page.get_by_role("dialog").get_by_role("button", name="确认结束").click()
        expect(page.get_by_role("alert").filter(has_text="已结束")).to_be_visible()
        expect(page.get_by_test_id("campaign-close")).to_have_count(0)
        assert Campaign.objects.get().state == "CLOSED"
    finally:
        page.context.close()


def test_an_administrator_chooses_the_county_and_its_villages_come_in(browser, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        login(page, live_server, "admin")
        page.goto(f"{live_server.url}/monitoring/campaigns/new/")
        page.get_by_label("所选村的全部脱贫户").check()
        picker = page.get_by_test_id("village-picker")
        expect(picker).to_contain_text("请先在上面选择县")
        page.get_by_label("县", exact=True).select_option("520102000000")  # htmx swaps in that county's picker
        expect(picker.locator("input[name=villages]")).to_have_count(1)
        expect(picker.get_by_label("村001001")).to_have_value("520102001001")
        expect(page.get_by_test_id("default-due")).to_contain_text("默认完成期限")
        page.get_by_label("县", exact=True).select_option("520101000000")
        expect(picker.locator("input[name=villages]")).to_have_count(3)
        expect(picker).to_be_visible()  # still the selection 所选村的全部脱贫户
    finally:
        context.close()


def test_back_to_the_start_form_shows_the_villages_it_would_send(page, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    """Back from a started campaign: the browser restores 所选村的全部脱贫户 and the ticks after the
    page was set up; the picker is shown again (it stayed hidden, sending ticks the user could not
    see), and submitting the changed page starts nothing silently."""
    Household.objects.filter(pk=world.households[VILLAGE].pk).update(household_type="EXITED", exit_year=2018)
    login(page, live_server, "county")
    page.goto(f"{live_server.url}/monitoring/campaigns/new/")
    page.get_by_label("活动名称").fill("秋季回头看")
    page.get_by_label("所选村的全部脱贫户").check()
    picker = page.get_by_test_id("village-picker")
    picker.get_by_label("村001001").check()
    page.get_by_role("button", name="发起活动").click()
    expect(page.get_by_role("heading", name="秋季回头看")).to_be_visible()
    page.go_back()
    expect(page.get_by_label("所选村的全部脱贫户")).to_be_checked()
    expect(picker).to_be_visible()
    expect(picker.get_by_label("村001001")).to_be_checked()
    picker.get_by_label("村002001").check()
    page.get_by_label("活动名称").fill("冬季回头看")
    page.get_by_role("button", name="发起活动").click()
    # the page as it came back: a new form (a fresh one-time token), or the same one restored by
    # the browser, which the server refuses with a message and answers as a new form
    refused = page.get_by_text("这张表单已发起过活动“秋季回头看”")
    started = page.get_by_role("heading", name="冬季回头看")
    expect(refused.or_(started)).to_be_visible()
    if refused.is_visible():
        screenshot(page, "campaign-start-after-back.png")
        assert list(Campaign.objects.values_list("name", flat=True)) == ["秋季回头看"]
        page.get_by_role("button", name="发起活动").click()
    expect(started).to_be_visible()
    assert Campaign.objects.get(name="冬季回头看").villages == ["520101001001", "520101002001"]
    assert Campaign.objects.get(name="秋季回头看").villages == ["520101001001"]
