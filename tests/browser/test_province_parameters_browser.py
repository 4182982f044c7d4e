"""A provincial user opens 本省规则参数 from the navigation, previews a lower spike ratio over the
province's counties (htmx, nothing saved), saves it with a reason and sees 本省值 beside the national
value; resetting brings back 沿用全国默认值."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from monitoring.models import ProvinceRuleParameters
from monitoring.selectors.province_parameters import parameter_values_for
from tests.browser.conftest import login, screenshot
from tests.conftest import World
from tests.factories import ExpenditureFactory, income
from tests.monitoring.screening_helpers import YEAR, setup_lines

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_provincial_user_previews_saves_and_resets_its_values(page, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    setup_lines()
    hh = world.households["520101001001"]
    income(hh, YEAR - 1, "10000.00", size=2)
    income(hh, YEAR, "10000.00", size=2)
    ExpenditureFactory(household=hh, occurred_on=dt.date(YEAR, 5, 1), amount=Decimal("15000.00"))
    login(page, live_server, "province")
    page.get_by_role("link", name="本省规则参数").first.click()
    page.wait_for_url("**/parameters/provinces/520000000000/")
    row = page.get_by_test_id("param-spike_ratio")
    expect(row).to_contain_text("沿用全国默认值")
    page.get_by_label("刚性支出骤增倍数").fill("0.5")
    page.get_by_label("预览年度").fill(str(YEAR))
    page.get_by_test_id("preview-button").click()
    table = page.get_by_test_id("preview-table")
    expect(table).to_contain_text("+1")
    assert not ProvinceRuleParameters.objects.exists()  # the preview saved nothing
    page.get_by_label("修改依据").fill("省乡村振兴局 2026 年第 3 号文")
    page.get_by_role("button", name="保存本省参数").click()
    expect(page.get_by_test_id("param-spike_ratio")).to_contain_text("本省值")
    expect(page.get_by_test_id("province-parameter-history")).to_contain_text("省乡村振兴局 2026 年第 3 号文")
    assert parameter_values_for(province_code="520000000000")["spike_ratio"] == Decimal("0.5")
    screenshot(page, "province-parameters.png")
    page.get_by_label("修改依据").fill("恢复全国口径")
    page.get_by_test_id("reset-button").click()
    expect(page.get_by_test_id("param-spike_ratio")).to_contain_text("沿用全国默认值")
    assert parameter_values_for(province_code="520000000000")["spike_ratio"] == Decimal("1.0")
