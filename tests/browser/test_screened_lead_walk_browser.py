"""Issue 15: a lead raised by screening (its history written by the system, no actor) is taken in the
browser through 核实 → 审核 → 公示 → 确定 → 帮扶计划, as the village, township and county users."""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal

import pytest
from django.utils import timezone

from fanpin.core.models import AuditEntry
from monitoring.models import Lead, LeadSource, LeadState, MonitoringTarget
from tests.browser.conftest import screenshot, switch_user
from tests.conftest import World
from tests.factories import income
from tests.monitoring.screening_helpers import VILLAGE, household, screen, setup_lines

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_screened_lead_to_target_and_plan(page, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    from django.apps import apps

    importlib.import_module("assistance.migrations.0002_seed_catalogue").seed(apps, None)
    setup_lines(year=2024, line=Decimal("7000.00"))
    hh = household(village=VILLAGE)
    income(hh, 2023, "9000.00")
    income(hh, 2024, "5000.00")
    screen(year=2024)  # the system raises the lead: its audit row has no actor
    lead = Lead.objects.get(household=hh)
    assert lead.sources == [LeadSource.SCREENING]
    assert AuditEntry.objects.get(object_type="lead", object_id=str(lead.pk), action="raise").actor is None
    # the lead was raised ten days ago, so a five-day 公示 can have ended
    Lead.objects.filter(pk=lead.pk).update(raised_at=lead.raised_at - dt.timedelta(days=10))
    raised = timezone.localdate() - dt.timedelta(days=10)

    # village: 核实 with the home check, consent, 民主评议 and a 公示 of five days
    page = switch_user(page, live_server, "village")
    page.goto(f"{live_server.url}/monitoring/leads/")
    page.get_by_role("link", name=hh.household_no).click()
    assert "系统" in page.locator("table").last.inner_text()  # the history names the system as actor
    form = page.get_by_test_id("form-verify")
    form.get_by_label("入户核实日期").fill(str(raised + dt.timedelta(days=1)))
    form.get_by_label("是", exact=True).check()
    form.get_by_label("民主评议日期").fill(str(raised + dt.timedelta(days=2)))
    form.get_by_label("同意纳入", exact=True).check()
    form.get_by_label("公示开始日期").fill(str(raised + dt.timedelta(days=2)))
    form.get_by_label("公示结束日期").fill(str(raised + dt.timedelta(days=6)))
    form.get_by_label("核实意见").fill("入户核实，收入下降属实")
    form.get_by_role("button", name="村级核实").click()
    assert page.get_by_test_id("lead-state").inner_text() == "村级已核实"

    # 公示: the village's posting list shows the household, never a 身份证号
    page.get_by_role("link", name="本村公示名单").click()
    posting = page.locator("main").inner_text()
    head = hh.members.get()
    assert head.name in posting and head.id_number not in posting and head.id_number[-4:] not in posting
    screenshot(page, "publicity-list.png")

    # township: 审核 (the 公示 has ended)
    page = switch_user(page, live_server, "township")
    page.goto(f"{live_server.url}/monitoring/leads/{lead.pk}/")
    page.get_by_test_id("form-review").get_by_label("审核意见").fill("同意上报")
    page.get_by_role("button", name="乡镇审核").click()
    assert page.get_by_test_id("lead-state").inner_text() == "乡镇已审核"

    # county: 确定 (after ticking 我已核对), lands on the target, then its 帮扶计划
    page = switch_user(page, live_server, "county")
    page.goto(f"{live_server.url}/monitoring/leads/{lead.pk}/")
    form = page.get_by_test_id("form-confirm")
    form.get_by_label("因务工就业不稳").check()  # screening suggested none: the county names the risk
    form.get_by_label("我已核对", exact=False).check()
    form.get_by_role("button", name="县级确定").click()
    page.wait_for_load_state()
    target = MonitoringTarget.objects.filter(lead=lead).first()
    assert target is not None, page.locator("main").inner_text()[:1500]
    assert Lead.objects.get(pk=lead.pk).state == LeadState.CONFIRMED
    assert "系统" in page.locator("main").inner_text()  # the target's history keeps the system's raise
    page.get_by_test_id("target-plan-link").click()
    form = page.get_by_test_id("measure-add-form")
    form.get_by_label("帮扶措施").select_option(label="就业帮扶 · 公益岗位安置")
    form.get_by_label("帮扶责任人").fill("张书记")
    form.get_by_label("责任人单位").fill("镇人社所")
    form.get_by_label("责任人电话").fill("13900001111")
    form.get_by_label("开始日期").fill(str(timezone.localdate()))
    form.get_by_role("button", name="添加措施").click()
    page.wait_for_load_state()
    assert "公益岗位安置" in page.get_by_test_id("target-measures").inner_text()
    assert target.measures.count() == 1
    screenshot(page, "screened-lead-plan.png")
