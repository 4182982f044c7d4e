"""With a broker, an upload's check (dry run) runs on a worker: the page comes back at once showing
已上传，等待校验, polls, and turns into the preview with 确认导入 when the worker is done — without a
reload.  Here Celery is not eager and no worker runs; the test does the worker's part."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from monitoring.models import ImportJob
from monitoring.services.imports.jobs import import_job_preview_run
from tests.browser.conftest import login, screenshot
from tests.conftest import World
from tests.monitoring.xlsx import kind_sheet

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_job_page_shows_the_check_then_the_preview(page, live_server, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    row = {"户编号": "H520101001001", "年度": 2024, "家庭人口数": 3, "工资性收入": 24000, "生产经营净收入": 0}
    row |= {"财产净收入": 0, "转移净收入": 1200}
    sheet = kind_sheet(tmp_path / "收入.xlsx", "incomes", [row])

    login(page, live_server, "county")
    page.goto(f"{live_server.url}/monitoring/imports/")
    page.get_by_label("数据类型").select_option(label="年度收入")
    page.get_by_label("Excel 文件（.xlsx）").set_input_files(str(sheet))
    page.get_by_role("button", name="上传并校验").click()

    checking = page.get_by_test_id("import-checking")
    expect(checking).to_contain_text("已上传，等待校验")
    expect(checking).to_contain_text("可以离开本页")
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    screenshot(page, "import-checking.png")

    job = ImportJob.objects.get()
    import_job_preview_run(job_id=job.pk)  # the worker's turn

    expect(page.get_by_test_id("import-preview-summary")).to_contain_text("校验通过（试运行，未写入）", timeout=10_000)
    expect(page.get_by_test_id("preview-created")).to_have_text("1")
    expect(page.get_by_role("button", name="确认导入")).to_be_visible()
    expect(page.get_by_test_id("import-checking")).to_have_count(0)
