"""A 医保 department user uploads its alert sheet in the browser and sees each alert's match status
— and nothing about households.  Celery runs eagerly for this test (as in the demo without a broker)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from fanpin.core.idcard import id_number_mask
from monitoring.models import DepartmentAlert
from tests.browser.conftest import login, screenshot
from tests.conftest import World
from tests.factories import make_id_number
from tests.monitoring.xlsx import kind_sheet

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_department_uploads_alerts_and_sees_match_status(
    page, live_server, world: World, tmp_path: Path, eager_celery: None
) -> None:  # type: ignore[no-untyped-def]
    member = world.households["520101001001"].members.get()
    stranger = make_id_number()
    sheet = kind_sheet(
        tmp_path / "县医保局预警.xlsx",
        "alerts",
        [
            {
                "身份证号": member.id_number,
                "姓名": "张三",
                "预警类型": "大额医疗支出",
                "预警日期": "2025-03-14",
                "金额": 23456,
            },
            {"身份证号": stranger, "姓名": "王五", "预警类型": "大额医疗支出", "预警日期": "2025-03-15", "金额": 30000},
        ],
        titles=[["2025 年 3 月大额医疗支出"]],
    )
    login(page, live_server, "dept")
    page.get_by_role("link", name="数据导入").click()
    expect(page.get_by_test_id("department-note")).to_contain_text("医保")
    page.get_by_label("数据类型").select_option(label="部门预警")
    page.get_by_label("Excel 文件（.xlsx）").set_input_files(str(sheet))
    page.get_by_role("button", name="上传并校验").click()
    expect(page.get_by_test_id("import-preview-summary")).to_contain_text("将新增 2 行")
    page.get_by_role("button", name="确认导入").click()

    expect(page.get_by_test_id("import-summary")).to_contain_text("部门预警导入完成：共 2 行，新增 2 行")
    expect(page.get_by_test_id("alert-status-counts")).to_contain_text("已匹配 1 条，未匹配 1 条")
    table = page.get_by_test_id("alert-status")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table.locator("tbody tr").nth(0)).to_contain_text("已匹配")
    expect(table.locator("tbody tr").nth(1)).to_contain_text("未匹配")
    text = page.locator("main").inner_text()
    assert id_number_mask(member.id_number) in text
    for secret in (member.id_number, member.name, "H520101001001", "线索"):
        assert secret not in text
    screenshot(page, "dept-upload-status.png")
    assert set(DepartmentAlert.objects.values_list("department", flat=True)) == {"医保"}

    # The job stays in the department's list and can be reopened later.
    page.get_by_role("link", name="数据导入").first.click()
    page.get_by_role("link", name="县医保局预警.xlsx").click()
    expect(page.get_by_test_id("alert-status-counts")).to_contain_text("已匹配 1 条，未匹配 1 条")
