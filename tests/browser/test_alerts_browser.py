"""County staff create and revoke an API token; a department user sees only its alerts' status."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from monitoring.models import AlertStatus, DepartmentAlert
from tests.browser.conftest import login, screenshot
from tests.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_county_creates_and_revokes_a_token(page, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    login(page, live_server, "county")
    page.get_by_test_id("nav-group-system").click()  # county staff: the less daily pages are in menus
    page.get_by_role("link", name="API 令牌").first.click()
    page.get_by_label("令牌名称").fill("县医保局结算系统")
    page.get_by_label("角色范围").select_option("DEPT")
    page.get_by_label("行业部门").select_option("MEDICAL_INSURANCE")
    page.get_by_role("button", name="创建令牌").click()
    key = page.get_by_test_id("new-key")
    expect(key).to_contain_text("只显示这一次")
    expect(page.get_by_role("cell", name="从未使用")).to_be_visible()
    screenshot(page, "api-tokens.png")
    page.get_by_role("button", name="吊销").click()
    expect(page.get_by_text("已吊销令牌")).to_be_visible()
    expect(page.get_by_text("已吊销 ", exact=False).first).to_be_visible()


def test_department_sees_match_status_only(page, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    member = world.households["520101001001"].members.get()
    DepartmentAlert.objects.create(
        id_number=member.id_number,
        name=member.name,
        alert_type="MEDICAL",
        alert_date="2025-03-14",
        amount="23456.00",
        department="医保",
        member=member,
        status=AlertStatus.MATCHED,
        region_code="520101001001",
        scope_code="520101000000",  # submitted by the dept user's unit (the county's 医保)
    )
    login(page, live_server, "dept")
    page.get_by_role("link", name="部门预警").first.click()
    table = page.get_by_test_id("alert-table")
    expect(table).to_contain_text("已匹配")
    expect(table).to_contain_text("23,456.00")
    assert member.name not in table.inner_text() and "H520101001001" not in table.inner_text()
    screenshot(page, "alerts-department.png")
