"""Issue 19 item 5: a village cadre records the 12-month 家庭收支核算 on a lead (the ledger's March
hospital bill already filled in), the county sees the judgement beside the screening evidence."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from monitoring.models import IncomeAccounting
from monitoring.services.lines import monitoring_line_set
from tests.browser.conftest import login
from tests.conftest import World
from tests.factories import ExpenditureFactory
from tests.monitoring.review_helpers import VILLAGE, lead_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_village_records_accounting_county_sees_judgement(page, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    hh = world.households[VILLAGE]
    today = timezone.localdate()
    monitoring_line_set(year=today.year, line=Decimal("7000.00"))
    ExpenditureFactory(household=hh, category="MEDICAL", occurred_on=today - dt.timedelta(days=40),
                       amount=Decimal("60000.00"))  # fmt: skip
    lead = lead_in(
        hh,
        evidence={"SCREENING": {"year": today.year - 1, "rules": {"LOW_INCOME": {"per_capita_income": "6500.00"}}}},
    )

    login(page, live_server, "village")
    page.goto(f"{live_server.url}/monitoring/leads/{lead.pk}/")
    assert page.get_by_test_id("accounting-missing").is_visible()
    page.get_by_test_id("accounting-link").click()
    assert page.get_by_test_id("ledger-oop_MEDICAL").inner_text() == "60,000.00"
    assert page.get_by_label("医疗", exact=True).input_value() == "60000.00"  # taken from the ledger
    page.get_by_label("家庭人口数").fill("4")
    page.get_by_label("工资性收入（元）").fill("abc")
    page.get_by_label("生产经营净收入（元）").fill("8000")
    page.get_by_label("财产净收入（元）").fill("0")
    page.get_by_label("转移净收入（元）").fill("2000")
    page.get_by_test_id("accounting-save").click()
    assert "工资性收入必须是数字" in page.get_by_test_id("accounting-errors").inner_text()
    assert not IncomeAccounting.objects.exists()
    page.get_by_label("工资性收入（元）").fill("40000")
    page.get_by_test_id("accounting-save").click()
    panel = page.get_by_test_id("accounting-panel")
    assert "触发" in panel.get_by_test_id("accounting-rule-EXPENDITURE_SPIKE").inner_text()
    page.get_by_role("button", name="退出").click()

    login(page, live_server, "county")
    page.goto(f"{live_server.url}/monitoring/leads/{lead.pk}/")
    assert page.get_by_test_id("evidence-table").is_visible()
    panel = page.get_by_test_id("accounting-panel")
    assert panel.get_by_test_id("accounting-per-capita").inner_text() == "12,500.00"
    spike = panel.get_by_test_id("accounting-rule-EXPENDITURE_SPIKE").inner_text()
    assert spike.startswith("触发") and "60000.00" in spike
    assert panel.get_by_test_id("accounting-link").count() == 0  # the county reads, the village records
