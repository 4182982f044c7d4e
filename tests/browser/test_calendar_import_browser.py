"""The administrator imports a year's holidays: 节假日安排 → upload → the preview (rows and what
changes, nothing stored yet) → 确认导入 → the year's days on the page; a file with a bad row shows the
row and column on its preview and offers no confirm, only 取消导入."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from fanpin.core.models import AuditEntry
from monitoring.models.calendar import CalendarDay
from tests.browser.conftest import login, screenshot
from tests.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _file(path: Path, rows: list[list[object]]) -> Path:
    wb = Workbook()
    wb.active.append(["日期", "类型", "名称"])
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


def test_upload_preview_confirm_and_a_bad_file(page, live_server, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    CalendarDay.objects.create(day=dt.date(2027, 5, 3), kind="HOLIDAY", name="劳动节")
    good = _file(
        tmp_path / "2027年节假日.xlsx", [["2027-01-01", "法定节假日", "元旦"], ["2027-02-20", "调休上班", "春节调休"]]
    )
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/monitoring/parameters/")
    page.get_by_test_id("calendar-link").click()
    page.get_by_role("spinbutton", name="年度").fill("2027")
    page.get_by_label("文件（.xlsx）").set_input_files(str(good))
    page.get_by_role("button", name="上传并预览").click()
    expect(page.get_by_test_id("preview-notice")).to_contain_text("尚未写入任何数据")
    expect(page.get_by_test_id("diff-added")).to_have_text("2")
    expect(page.get_by_test_id("diff-removed")).to_have_text("1")
    expect(page.get_by_test_id("preview-rows")).to_contain_text("春节调休")
    assert list(CalendarDay.objects.values_list("day", flat=True)) == [dt.date(2027, 5, 3)]  # nothing written
    screenshot(page, "calendar-import-preview.png")
    page.get_by_test_id("preview-confirm").click()
    expect(page.get_by_text("已导入 2027 年节假日安排：法定节假日 1 天、调休上班 1 天。")).to_be_visible()
    expect(page.get_by_test_id("calendar-days")).to_contain_text("春节调休")
    assert set(CalendarDay.objects.values_list("day", flat=True)) == {dt.date(2027, 1, 1), dt.date(2027, 2, 20)}
    assert AuditEntry.objects.filter(object_type="calendar", action="import").count() == 1
    # a bad row: named on the preview, no confirm; 取消导入 discards
    bad = _file(tmp_path / "错误.xlsx", [["2027-01-01", "法定节假日", "元旦"], ["2027-03-03", "调休上班", "x"]])
    page.get_by_role("spinbutton", name="年度").fill("2027")
    page.get_by_label("文件（.xlsx）").set_input_files(str(bad))
    page.get_by_role("button", name="上传并预览").click()
    expect(page.get_by_test_id("preview-errors")).to_contain_text("第 3 行「类型」：2027-03-03 是工作日")
    expect(page.get_by_test_id("preview-confirm")).to_have_count(0)
    page.get_by_test_id("preview-cancel").click()
    expect(page.get_by_text("已取消 2027 年节假日安排的导入预览，未修改任何数据。")).to_be_visible()
    assert set(CalendarDay.objects.values_list("day", flat=True)) == {dt.date(2027, 1, 1), dt.date(2027, 2, 20)}
