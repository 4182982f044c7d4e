"""End to end (issue 9): the provincial official opens the dashboard from the home page, drills down
to a county through the overview table, comes back up by the breadcrumb, downloads one table."""

from __future__ import annotations

import datetime as dt
import importlib
import io
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import login, screenshot
from tests.conftest import World
from tests.factories import HouseholdFactory, MemberFactory, TargetFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def _seed(world: World) -> None:
    from django.apps import apps

    importlib.import_module("assistance.migrations.0002_seed_catalogue").seed(apps, None)
    today = timezone.localdate()
    for village, exited, targets in [("520101001001", 40, 3), ("520102001001", 30, 1), ("520201001001", 60, 2)]:
        for i in range(exited // 10):
            hh = HouseholdFactory(village_id=village, exited=True)
            MemberFactory.create_batch(10, household=hh)
            if i < targets:
                TargetFactory(household=hh, identified_on=today - dt.timedelta(days=30 * (i + 1)))


def test_province_drills_down_and_downloads(page, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    _seed(world)
    login(page, live_server, "province")
    page.get_by_test_id("home-dashboard").get_by_role("link", name="进入统计看板").click()
    expect(page.get_by_test_id("dashboard-title")).to_have_text("统计看板 · 区划520000000000")
    expect(page.locator("#chart-regions canvas")).to_have_count(1)
    expect(page.locator("#chart-scale[data-ready='1']")).to_have_count(1)
    # every table has its chart drawn (the 超期 tables too): no empty chart box
    expect(page.locator("#chart-overdue_leads canvas")).to_have_count(1)
    expect(page.locator("#chart-overdue_procedures canvas")).to_have_count(1)
    expect(page.locator(".dashboard-chart:not([data-ready='1'])")).to_have_count(0)
    expect(page.get_by_test_id("kpi-monitored")).to_have_text("6")
    # a bar's tooltip: the region, each series with its coloured dot and its value (built without
    # the inline styles the CSP refuses; the conftest fails the test on any refusal)
    page.locator("#chart-regions canvas").hover()
    tooltip = page.locator("#chart-regions .chart-tooltip")
    expect(tooltip).to_be_visible()
    expect(tooltip.locator(".chart-tooltip-head")).to_contain_text("区划52")  # a city of the province
    expect(tooltip.locator(".chart-tooltip-row")).to_have_count(3)
    dot = tooltip.locator(".chart-tooltip-dot").first.evaluate("el => getComputedStyle(el).backgroundColor")
    assert dot not in ("rgb(108, 117, 125)", "rgba(0, 0, 0, 0)")  # the series' colour, not the default grey
    value = tooltip.locator(".chart-tooltip-value").first
    assert value.evaluate("el => getComputedStyle(el).fontWeight") == "600"
    screenshot(page, "dashboard-province.png")

    # drill down: the city by its table row, then the county by its table row
    page.get_by_test_id("table-regions").get_by_role("link", name="区划520100000000").click()
    expect(page.get_by_test_id("dashboard-title")).to_have_text("统计看板 · 区划520100000000")
    expect(page.get_by_test_id("kpi-monitored")).to_have_text("4")
    page.get_by_test_id("table-regions").get_by_role("link", name="区划520101000000").click()
    expect(page.get_by_test_id("dashboard-title")).to_have_text("统计看板 · 区划520101000000")
    expect(page.get_by_test_id("kpi-monitored")).to_have_text("3")
    expect(page.get_by_test_id("dashboard-breadcrumb")).to_have_text(
        "区划520000000000 区划520100000000 区划520101000000", use_inner_text=True
    )
    expect(page.locator("#chart-trend canvas")).to_have_count(1)
    screenshot(page, "dashboard-county.png")

    # back up by the breadcrumb
    page.get_by_test_id("dashboard-breadcrumb").get_by_role("link", name="区划520000000000").click()
    expect(page.get_by_test_id("dashboard-title")).to_have_text("统计看板 · 区划520000000000")

    # download the scale-check table
    with page.expect_download() as info:
        page.get_by_test_id("xlsx-scale").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    ws = load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active
    rows = list(ws.values)
    assert rows[1][0] == "县" and [r[0] for r in rows[2:5]] == [
        "区划520101000000",
        "区划520102000000",
        "区划520201000000",
    ]
    assert [r[2] for r in rows[2:5]] == [3, 1, 2]
