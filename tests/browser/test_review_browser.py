"""Acceptance 3: village verifies, township reviews, county confirms with a changed category and
sees the new target; a rejection without a reason is refused with a message."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from fanpin.core.terms import term
from monitoring.models import Lead, LeadState, MonitoringTarget
from tests.browser.conftest import login, screenshot
from tests.conftest import World
from tests.factories import income
from tests.monitoring.review_helpers import VILLAGE, lead_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def logout(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="退出").click()


def test_village_township_county_confirm_flow(page, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    hh = world.households[VILLAGE]
    income(hh, 2023, "9000.00")
    income(hh, 2024, "5000.00")
    lead = lead_in(
        hh,
        evidence={
            "SCREENING": {"year": 2024, "rules": {"LOW_INCOME": {"per_capita_income": "5000.00", "line": "7000.00"}}}
        },
    )
    today = timezone.localdate()
    start = today - dt.timedelta(days=10)

    # village: verify (the posting period has already ended)
    login(page, live_server, "village")
    page.get_by_role("link", name="线索审核").first.click()
    page.get_by_role("link", name=hh.household_no).click()
    form = page.get_by_test_id("form-verify")
    form.get_by_label("入户核实日期").fill(str(start - dt.timedelta(days=1)))
    form.get_by_label("是", exact=True).check()
    form.get_by_label("民主评议日期").fill(str(start))
    form.get_by_label("同意纳入", exact=True).check()
    form.get_by_label("公示开始日期").fill(str(start))
    form.get_by_label("公示结束日期").fill(str(start + dt.timedelta(days=6)))
    form.get_by_label("核实意见").fill("入户核实，情况属实")
    page.locator("#income-chart canvas").wait_for()  # ECharts (loaded on this page only) drew the chart
    page.locator("#income-chart canvas").hover()  # its tooltip: both series (no CSP refusal: conftest)
    expect(page.locator("#income-chart .chart-tooltip-row")).to_have_count(2)
    expect(page.locator("#income-chart .chart-tooltip")).to_contain_text("人均可支配收入")
    screenshot(page, "lead-verify.png")
    form.get_by_role("button", name="村级核实").click()
    assert page.get_by_test_id("lead-state").inner_text() == "村级已核实"
    logout(page)

    # township: review
    login(page, live_server, "township")
    page.goto(f"{live_server.url}/monitoring/leads/")
    page.get_by_role("link", name=hh.household_no).click()
    page.get_by_test_id("form-review").get_by_label("审核意见").fill("同意上报")
    page.get_by_role("button", name="乡镇审核").click()
    assert page.get_by_test_id("lead-state").inner_text() == "乡镇已审核"
    logout(page)

    # county: confirm with another category than the suggested one, lands on the new target
    login(page, live_server, "county")
    page.get_by_role("link", name="线索审核").first.click()
    page.get_by_role("link", name=hh.household_no).click()
    form = page.get_by_test_id("form-confirm")
    assert form.get_by_label("边缘易致贫户").is_checked()  # pre-filled with the suggestion
    form.get_by_label("突发严重困难户").check()
    form.get_by_label("因灾").check()
    form.get_by_label(f"我已核对以上信息，确认将该户确定为{term('target')}").check()  # the confirmation step
    form.get_by_role("button", name="县级确定").click()
    assert page.get_by_test_id("target-category").inner_text() == "突发严重困难户"
    screenshot(page, "target-detail.png")
    target = MonitoringTarget.objects.get(lead=lead)
    assert target.category == "SUDDEN_HARDSHIP" and target.risk_types == ["ILLNESS", "DISASTER", "LACK_OF_LABOR"]
    page.get_by_role("link", name=term("target")).first.click()
    assert hh.household_no in page.get_by_test_id("target-table").inner_text()


def test_rejection_without_reason_is_refused_with_a_message(page, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    lead = lead_in(world.households[VILLAGE], LeadState.REVIEWED)
    login(page, live_server, "county")
    page.goto(f"{live_server.url}/monitoring/leads/{lead.pk}/")
    page.get_by_role("button", name="不予纳入").click()
    assert "不予纳入必须填写理由" in page.get_by_test_id("form-reject").inner_text()
    assert page.get_by_test_id("action-error").is_visible()
    assert Lead.objects.get(pk=lead.pk).state == LeadState.REVIEWED
