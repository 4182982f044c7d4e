"""Issue 18, acceptance 2 (second half): a green-channel target whose owed steps become overdue.

The county confirms a lead directly in the browser; the target page shows the owed steps with their
deadline; the opening day is moved back (database) so the deadline passes; the target page and the
follow-up list show 已超期; the village records the steps and the follow-up is done."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from monitoring.models import FollowUp, FollowUpState, MonitoringTarget
from monitoring.selectors.followups import follow_up_rows
from tests.browser.conftest import login, screenshot
from tests.conftest import World
from tests.monitoring.review_helpers import VILLAGE, lead_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def logout(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="退出").click()


def test_direct_target_owes_steps_they_become_overdue_and_the_village_completes_them(  # type: ignore[no-untyped-def]
    page, live_server, world: World
) -> None:
    hh = world.households[VILLAGE]
    lead = lead_in(hh, raised_at=timezone.now() - dt.timedelta(days=30))
    today = timezone.localdate()

    # county: 县级直接确定 from the lead page, lands on the target page with its follow-up
    login(page, live_server, "county")
    page.goto(f"{live_server.url}/monitoring/leads/{lead.pk}/")
    form = page.get_by_test_id("form-confirm_direct")
    form.get_by_label("边缘易致贫户").check()
    form.get_by_label("因灾").check()
    form.get_by_label("直接确定理由（必填）").fill("房屋失火，先帮扶后补程序")
    form.get_by_role("checkbox", name="我已核对以上信息").check()
    form.get_by_role("button", name="县级直接确定").click()
    panel = page.get_by_test_id("followup-panel")
    panel.wait_for()
    target = MonitoringTarget.objects.get(lead=lead)
    follow_up = FollowUp.objects.get(target=target)
    due = follow_up_rows([follow_up], today=today)[0].status.due_on
    assert "绿色通道待补办" in panel.inner_text()
    for step in ("HOME_CHECK", "APPRAISAL", "PUBLICITY"):
        assert due.isoformat() in panel.get_by_test_id(f"followup-step-{step}").inner_text()
    assert panel.get_by_test_id("followup-due").inner_text() == due.isoformat()
    assert panel.get_by_test_id("followup-state").inner_text() == "待补办"

    # the opening day moves back 60 days: the deadline has passed
    FollowUp.objects.filter(pk=follow_up.pk).update(opened_on=today - dt.timedelta(days=60))
    page.reload()
    overdue = page.get_by_test_id("followup-panel").get_by_test_id("followup-overdue")
    assert overdue.inner_text().startswith("已超期") and "个工作日" in overdue.inner_text()
    assert "text-bg-danger" in (overdue.get_attribute("class") or "")  # colour besides the text
    screenshot(page, "green-channel-target-overdue.png")
    page.goto(f"{live_server.url}/")
    page.get_by_test_id("todo-followups_overdue").click()
    page.wait_for_url(re.compile(r"/monitoring/followups/\?state=OVERDUE$"))
    rows = page.get_by_test_id("followup-row")
    expect(rows).to_have_count(1)  # waits for the list (a bare count() can run before it is there)
    assert "已超期" in rows.first.inner_text() and hh.household_no in rows.first.inner_text()
    page.get_by_label("状态").select_option("DONE")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r"[?&]state=DONE(&|$)"))
    expect(page.get_by_test_id("followup-row")).to_have_count(0)
    logout(page)

    # village: its home lists the follow-up; it records 入户核实, 民主评议, 公示
    login(page, live_server, "village")
    owed = page.get_by_test_id("cadre-followups")
    assert hh.household_no in owed.inner_text() and "已超期" in owed.inner_text()
    owed.get_by_role("link", name=f"补办 {hh.household_no}").click()
    form = page.get_by_test_id("followup-form")
    form.get_by_label("入户核实日期").fill(str(today - dt.timedelta(days=10)))
    form.get_by_label("核实人").fill("王支书、李队员")
    form.get_by_label("农户已签署承诺授权书").check()
    form.get_by_label("住房安全有保障").uncheck()
    form.get_by_role("button", name="登记入户核实").click()
    form = page.get_by_test_id("followup-form")
    form.get_by_label("民主评议日期").fill(str(today - dt.timedelta(days=9)))
    form.get_by_label("同意纳入", exact=True).check()
    form.get_by_role("button", name="登记民主评议").click()
    form = page.get_by_test_id("followup-form")
    form.get_by_label("公示开始日期").fill(str(today - dt.timedelta(days=8)))
    form.get_by_label("公示结束日期").fill(str(today - dt.timedelta(days=6)))  # 3 days: refused
    form.get_by_role("button", name="登记公示").click()
    assert "公示期不少于 5 天" in page.get_by_test_id("followup-form").inner_text()
    form = page.get_by_test_id("followup-form")
    form.get_by_label("公示结束日期").fill(str(today - dt.timedelta(days=4)))
    form.get_by_role("button", name="登记公示").click()
    assert page.get_by_test_id("followup-state").first.inner_text() == "已补办"
    assert "住房安全有保障✗" in page.get_by_test_id("followup-step-HOME_CHECK").inner_text()
    screenshot(page, "green-channel-done.png")
    follow_up.refresh_from_db()
    assert follow_up.state == FollowUpState.DONE and follow_up.home_checklist["housing_secure"] is False
    # the target page no longer says anything is owed
    page.get_by_test_id("followup-target-link").click()
    panel = page.get_by_test_id("followup-panel")
    assert "绿色通道补办" in panel.inner_text() and "待补办" not in panel.inner_text()
