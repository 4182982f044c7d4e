"""Dashboard defect 4: a provincial official prints the dashboard on A4 — the 打印 button, and in
print the navigation, filters and download buttons are gone, every table (also the folded ones) and
every chart is there and nothing is wider than the page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from fanpin.core.terms import term
from tests.browser.conftest import login, screenshot
from tests.conftest import World
from tests.factories import HouseholdFactory, LeadFactory, MemberFactory, TargetFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
A4_CONTENT_WIDTH = 718  # 210 mm − 2 × 10 mm margins at 96 dpi


def _seed() -> None:
    today = timezone.localdate()
    for village, households, targets in [("520101001001", 4, 2), ("520102001001", 3, 1), ("520201001001", 6, 2)]:
        for i in range(households):
            hh = HouseholdFactory(village_id=village, exited=True)
            MemberFactory.create_batch(5, household=hh)
            if i < targets:
                TargetFactory(household=hh, identified_on=today - dt.timedelta(days=20 * (i + 1)))
            else:
                LeadFactory(household=hh, year=today.year)


def test_dashboard_prints_on_a4(page, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    _seed()
    login(page, live_server, "province")
    page.goto(f"{live_server.url}/dashboard/")
    expect(page.locator("#chart-trend[data-ready='1']")).to_have_count(1)
    expect(page.get_by_test_id("dashboard-updated")).to_have_text(re.compile(r"^数据更新于 \d\d:\d\d$"))

    # the 打印 button opens the browser's print dialog
    page.evaluate("() => { window.print = function () { window.__printed = (window.__printed || 0) + 1; }; }")
    page.get_by_role("button", name="打印").click()
    assert page.evaluate("window.__printed") == 1

    # print: A4 width, print media; the folded tables print open by the stylesheet alone
    page.set_viewport_size({"width": A4_CONTENT_WIDTH, "height": 1000})
    page.emulate_media(media="print")
    expect(page.locator("nav.navbar")).to_be_hidden()
    expect(page.get_by_test_id("dashboard-breadcrumb")).to_be_hidden()
    expect(page.get_by_role("button", name="打印")).to_be_hidden()
    expect(page.get_by_role("button", name="查看")).to_be_hidden()
    expect(page.get_by_test_id("xlsx-regions")).to_be_hidden()
    expect(page.get_by_test_id("dashboard-title")).to_be_visible()
    expect(page.get_by_test_id("dashboard-print-year")).to_have_text(f"{timezone.localdate().year}年")
    for key in ["regions", "categories", "risks", "lead_sources", "lead_states", "scale", "coverage", "labor", "trend"]:
        expect(page.get_by_test_id(f"table-{key}")).to_be_visible()
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")  # what printing does: charts redrawn
    for key in ["regions", "scale", "trend"]:
        box = page.locator(f"#chart-{key} canvas").bounding_box()
        assert box is not None and 0 < box["width"] <= A4_CONTENT_WIDTH, (key, box)
    # nothing wider than the page (the ten-column overview wraps its headers instead)
    assert page.evaluate("document.documentElement.scrollWidth") <= A4_CONTENT_WIDTH
    text = page.evaluate("document.body.innerText")
    for words in [
        "统计看板",
        "建档立卡人口",
        "监测中（户）",
        f"监测比例 = {term('target')}人数 ÷ 建档立卡人口",
        "月度趋势",
        "数据更新于",
    ]:
        assert words in text, words
    for hidden in ["下载表格", "退出", "统计看板数据表"]:
        assert hidden not in text, hidden
    screenshot(page, "dashboard-print.png")

    pdf = page.pdf(format="A4", print_background=False)
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 2 <= pages <= 8, pages  # every panel, on a few sheets
    assert re.search(rb"/MediaBox\s*\[0 0 59[45](\.\d+)? 84[12](\.\d+)?\]", pdf)  # A4 in points

    # after printing the folded tables fold again
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    page.emulate_media(media="screen")
    expect(page.get_by_test_id("table-trend")).to_be_hidden()
    expect(page.get_by_test_id("table-regions")).to_be_visible()
