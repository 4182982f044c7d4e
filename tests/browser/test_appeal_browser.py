"""The appeal round trip as people meet it: a household reports on a phone, the county rejects, the
household checks the status (未纳入, with the reason category), appeals, and the county finds the
申诉 lead linked to the rejected one."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from monitoring.models import Lead, LeadSource, Notice
from tests.browser.conftest import login, screenshot
from tests.conftest import World
from tests.monitoring.test_status_page import verify

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VILLAGE = "520101001001"


def test_household_appeals_and_the_county_sees_the_appeal(  # type: ignore[no-untyped-def]
    browser, live_server, world: World, eager_celery
) -> None:
    head = world.households[VILLAGE].members.get()
    phone = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    household = phone.new_page()
    household.set_default_timeout(15000)
    desk = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
    county = desk.new_page()
    county.set_default_timeout(15000)
    try:
        # 1. the household reports from the login page's link, asking for notices
        household.goto(f"{live_server.url}/accounts/login/")
        household.get_by_role("link", name="农户自主申报").click()
        household.get_by_label("姓名").fill(head.name)
        household.get_by_label("身份证号").fill(head.id_number)
        household.get_by_label("所在村").select_option(VILLAGE)
        household.get_by_label("联系电话").fill("13800001234")
        household.get_by_label("遇到的困难").select_option("ILLNESS")
        household.get_by_label("具体情况").fill("老人住院，花了三万多元")
        household.get_by_label("接收办理进度短信").check()
        household.get_by_role("button", name="提交申报").click()
        receipt = household.get_by_test_id("receipt-no").inner_text()
        assert receipt.startswith("SB")
        lead = Lead.objects.get(household=world.households[VILLAGE])  # matched in-process (no broker)
        assert Notice.objects.filter(kind="RECEIVED", status="SENT").count() == 1  # the log sender

        # 2. the status page, reached from the receipt: the number is filled in, the name is not
        household.get_by_test_id("status-link").click()
        expect(household.get_by_label("受理编号（回执编号）")).to_have_value(receipt)
        expect(household.get_by_label("申报人姓名")).to_have_value("")
        household.get_by_label("申报人姓名").fill(f" {head.name}\u3000")
        household.get_by_role("button", name="查询").click()
        # a public report is unverified: 已受理 until the village's 入户核实 (whatever it matched)
        expect(household.get_by_test_id("status-stage")).to_have_text("已受理")
        verify(world, lead.pk)  # the village cadre's 入户核实, 评议 and 公示
        household.get_by_role("button", name="查询").click()
        expect(household.get_by_test_id("status-stage")).to_have_text("评议公示中")
        screenshot(household, "status-verifying.png")

        # 3. the county rejects, telling the household the reason category
        login(county, live_server, "county")
        county.goto(f"{live_server.url}/monitoring/leads/{lead.pk}/")
        form = county.get_by_test_id("form-reject")
        form.get_by_label("家庭收入高于监测标准").check()
        form.get_by_label("不予纳入理由（必填）").fill("入户核实：务工收入每月四千元，人均收入高于监测标准")
        form.get_by_label("我已核对以上信息，确认不予纳入").check()
        form.get_by_role("button", name="不予纳入").click()
        expect(county.get_by_test_id("lead-state")).to_have_text("未纳入")
        expect(county.get_by_test_id("rejection-category")).to_have_text("家庭收入高于监测标准")

        # 4. the household sees 未纳入 with the category (never the written reason) and appeals
        household.get_by_role("button", name="查询").click()
        expect(household.get_by_test_id("status-stage")).to_have_text("未纳入")
        expect(household.get_by_test_id("status-reason")).to_have_text("原因类别：家庭收入高于监测标准")
        expect(household.locator("body")).not_to_contain_text("四千元")
        household.get_by_label("申诉理由").fill("老人住院自付三万多元，务工只有半年，收入不够看病")
        screenshot(household, "status-not-included.png")
        household.get_by_role("button", name="提交申诉").click()
        expect(household.get_by_test_id("appeal-filed")).to_be_visible()
        expect(household.get_by_test_id("status-stage")).to_contain_text("核实中")
        expect(household.get_by_test_id("status-stage")).to_contain_text("申诉")
        screenshot(household, "status-appealed.png")

        # 5. the county finds the 申诉 lead in its queue, linked to the rejected one
        county.goto(f"{live_server.url}/monitoring/leads/?state=ALL&source=APPEAL")
        rows = county.get_by_test_id("lead-row")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("申诉")
        rows.first.get_by_role("link").first.click()
        expect(county.get_by_test_id("appeal-of")).to_contain_text("未纳入线索")
        # the county decides an appeal only after the village's 入户核实
        expect(county.get_by_test_id("form-reject")).to_have_count(0)
        verify(world, Lead.objects.get(appeal_of=lead).pk)
        county.reload()
        expect(county.get_by_test_id("form-reject")).to_be_visible()
        expect(county.get_by_test_id("evidence-table")).to_contain_text("老人住院自付三万多元")
        screenshot(county, "appeal-lead.png")
        county.get_by_test_id("appeal-of").get_by_role("link").click()
        expect(county.get_by_test_id("appeal-row")).to_contain_text("已核实")
        appeal = Lead.objects.get(appeal_of=lead)
        assert appeal.sources == [LeadSource.APPEAL]
    finally:
        phone.close()
        desk.close()
