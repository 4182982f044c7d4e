"""County staff start a screening from the browser and watch it finish (htmx polling)."""

from __future__ import annotations

from unittest import mock

import pytest
from playwright.sync_api import expect

from monitoring.models import ScreeningRun
from monitoring.services.screening import screening_county_execute
from tests.browser.conftest import login, screenshot
from tests.conftest import World
from tests.factories import income
from tests.monitoring.screening_helpers import YEAR, household, setup_lines

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_county_starts_a_run_and_the_page_updates_itself(page, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    setup_lines()
    income(household(), YEAR, "100.00")
    login(page, live_server, "county")
    page.get_by_test_id("nav-group-data").click()
    page.get_by_role("link", name="筛查").first.click()
    assert "还没有筛查记录" in page.get_by_test_id("empty-runs").inner_text()
    page.get_by_label("评估年度").fill(str(YEAR))
    # Test settings are not eager: hold the task back, then run the county here while the page polls.
    with mock.patch("monitoring.tasks.screening_dispatch_task.delay_on_commit"):
        page.get_by_role("button", name="开始筛查").click()
        page.wait_for_url("**/screening/runs/*/")
    assert "排队中" in page.get_by_test_id("run-status").inner_text()
    screening_county_execute(run_id=ScreeningRun.objects.get().pk)
    expect(page.get_by_test_id("run-status")).to_contain_text("已完成", timeout=10000)
    rules = page.get_by_test_id("rule-table").inner_text()
    assert "收入低于监测标准" in rules
    screenshot(page, "screening-run.png")
