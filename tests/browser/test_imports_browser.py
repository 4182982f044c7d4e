"""County staff import incomes in the browser: errors first, then a good file to the summary.

Celery runs eagerly for this test only (as in the demo without a broker): the confirm request runs
the import task in-process, so the progress bar is already at 100 % when the page comes back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from monitoring.models import AnnualIncome, ImportJob
from tests.browser.conftest import login, screenshot
from tests.conftest import World
from tests.monitoring.xlsx import kind_sheet

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def income(**over: Any) -> dict[str, Any]:
    row = {"户编号": "H520101001001", "年度": 2024, "家庭人口数": 3, "工资性收入": 24000, "生产经营净收入": -500}
    row.update({"财产净收入": 0, "转移净收入": 1200})
    row.update(over)
    return row


def test_import_with_errors_then_a_good_file(
    page, live_server, world: World, tmp_path: Path, eager_celery: None
) -> None:  # type: ignore[no-untyped-def]
    bad = kind_sheet(
        tmp_path / "收入-有错.xlsx",
        "incomes",
        [income(), income(户编号="H520101001002", 家庭人口数=0), income(户编号="H999")],
        titles=[["2024 年度收入"]],
    )
    good = kind_sheet(tmp_path / "收入.xlsx", "incomes", [income(), income(户编号="H520101001002", 年度=2023)])

    login(page, live_server, "county")
    page.get_by_test_id("nav-group-data").click()
    page.get_by_role("link", name="数据导入").click()
    page.get_by_label("数据类型").select_option(label="年度收入")
    page.get_by_label("Excel 文件（.xlsx）").set_input_files(str(bad))
    page.get_by_role("button", name="上传并校验").click()

    errors = page.get_by_test_id("import-errors")
    text = errors.inner_text()
    assert "第 4 行" in text and "家庭人口数必须是正整数。" in text
    assert "户编号 H999 不存在，请先导入农户。" in text
    assert "共 2 处错误，未写入任何数据" in page.get_by_test_id("import-failed").inner_text()
    screenshot(page, "import-errors.png")

    with page.expect_download() as info:
        page.get_by_test_id("annotated-download").click()
    annotated = tmp_path / "annotated.xlsx"
    info.value.save_as(str(annotated))
    wb = load_workbook(annotated)
    ws = wb.active
    assert ws.cell(row=2, column=8).value == "错误说明"
    assert "家庭人口数必须是正整数" in ws.cell(row=4, column=8).value
    assert ws.cell(row=4, column=3).fill.fgColor.rgb.endswith("FFC7CE")
    wb.close()
    assert not AnnualIncome.objects.exists()

    page.get_by_role("link", name="修改后重新上传").click()
    page.get_by_label("数据类型").select_option(label="年度收入")
    page.get_by_label("Excel 文件（.xlsx）").set_input_files(str(good))
    page.get_by_role("button", name="上传并校验").click()
    assert "将新增 2 行" in page.get_by_test_id("import-preview-summary").inner_text()
    assert page.get_by_test_id("import-preview").locator("tbody tr").count() == 2
    page.get_by_role("button", name="确认导入").click()

    summary = page.get_by_test_id("import-summary")
    summary.wait_for()
    assert "年度收入导入完成：共 2 行，新增 2 行" in summary.inner_text()
    progress = page.get_by_test_id("import-progress")
    assert progress.get_attribute("aria-valuenow") == "100"
    # the bar fills its track (an inline style width, blocked by the CSP, once left it empty)
    track, bar = progress.bounding_box(), progress.locator(".progress-bar").bounding_box()
    assert track and bar and bar["width"] == pytest.approx(track["width"], abs=1)
    screenshot(page, "import-summary.png")
    assert AnnualIncome.objects.count() == 2
    assert ImportJob.objects.filter(status="SUCCEEDED").count() == 1


def test_a_re_imported_roster_shows_its_unchanged_rows(
    page, live_server, world: World, tmp_path: Path, eager_celery: None
) -> None:  # type: ignore[no-untyped-def]
    """The county's roster as stored (the heads of its three households), one 健康状况 changed: the
    check shows the changed row as 更新 and the others as 不变; the same file again is all 不变."""
    from monitoring.models import Member

    heads = list(Member.objects.filter(household__village__code__startswith="520101").order_by("id_number"))
    rows = [
        {
            "户编号": m.household.household_no,
            "姓名": m.name,
            "身份证号": m.id_number,
            "与户主关系": "户主",
            "健康状况": "健康",
            "劳动能力": "普通劳动力",
            "是否参加医保": "是",
        }
        for m in heads
    ]
    rows[1]["健康状况"] = "长期慢性病"
    roster = kind_sheet(tmp_path / "成员.xlsx", "members", rows, titles=[["家庭成员信息表"]])

    login(page, live_server, "county")
    for expected, actions in (
        ("将更新 1 行，未变化 2 行", ["不变", "更新", "不变"]),
        ("将更新 0 行，未变化 3 行", ["不变"] * 3),
    ):
        page.goto(f"{live_server.url}/monitoring/imports/")
        page.get_by_label("数据类型").select_option(label="家庭成员")
        page.get_by_label("Excel 文件（.xlsx）").set_input_files(str(roster))
        page.get_by_role("button", name="上传并校验").click()
        assert expected in page.get_by_test_id("import-preview-summary").inner_text()
        cells = page.get_by_test_id("import-preview").locator("tbody tr td:nth-child(2)").all_inner_texts()
        assert [c.strip() for c in cells] == actions
        screenshot(page, "import-roster-preview.png")
        page.get_by_role("button", name="确认导入").click()
        page.get_by_test_id("import-summary").wait_for()
    assert (
        "家庭成员导入完成：共 3 行，新增 0 行，更新 0 行，未变化 3 行"
        in page.get_by_test_id("import-summary").inner_text()
    )
    heads[1].refresh_from_db()
    assert heads[1].health == "CHRONIC"
