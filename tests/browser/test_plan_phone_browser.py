"""Issue 15 defect 6: the 帮扶计划 page of a target fits a 390 px phone (no sideways scrolling)."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.urls import reverse
from django.utils import timezone

from assistance.models import MeasureStatus
from tests.assistance.factories import TargetMeasureFactory, measure
from tests.browser.conftest import login, screenshot
from tests.conftest import World
from tests.factories import TargetFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _seed_catalogue() -> None:
    """The catalogue comes from a data migration; an earlier transactional test's flush removes it."""
    from django.apps import apps

    importlib.import_module("assistance.migrations.0002_seed_catalogue").seed(apps, None)


@pytest.mark.parametrize("username", ["county", "village"])
def test_target_plan_fits_a_390px_phone(browser, live_server, world: World, username: str) -> None:  # type: ignore[no-untyped-def]
    _seed_catalogue()
    today = timezone.localdate()
    target = TargetFactory(
        household=world.households["520101001001"],
        identified_on=today - dt.timedelta(days=30),
        risk_types=["ILLNESS", "LACK_OF_LABOR"],
    )
    for code in ("MICROCREDIT", "MEDICAL_ASSISTANCE"):
        TargetMeasureFactory(
            target=target,
            measure=measure(code),
            start_on=today - dt.timedelta(days=20),
            end_on=today + dt.timedelta(days=300),
            amount="12345.67",
            amount_kind="FUNDS",
            status=MeasureStatus.IN_PROGRESS,
            progress_notes="已发放第一笔资金，按月回访，家庭收入逐步恢复，继续跟踪落实情况",
        )
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        login(page, live_server, username)
        page.goto(live_server.url + reverse("assistance:target_plan", args=[target.pk]))
        page.wait_for_load_state()
        screenshot(page, f"target-plan-390-{username}.png")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"页面宽 {width}px，手机上需要左右滚动"
        # the measures are read without scrolling their box either: one card per measure
        box = page.get_by_test_id("target-measures").bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390
        row = page.get_by_test_id("measure-row-MICROCREDIT")
        assert "小额信贷" in row.inner_text() and "12,345.67" in row.inner_text()
        # each value keeps its column's name, shown above it
        label = row.locator("td[data-label='开始日期']").evaluate("td => getComputedStyle(td, '::before').content")
        assert label == '"开始日期"'
    finally:
        context.close()
