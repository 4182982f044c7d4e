"""End to end: county plans two measures, village completes one, the target meets the 风险消除
criteria, village proposes, township reviews, county confirms; a later screening raises a new lead."""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal

import pytest
from django.utils import timezone

from monitoring.models import Lead, LeadState, MonitoringTarget, TargetStatus
from monitoring.services.screening import screening_run_create, screening_run_execute
from tests.browser.conftest import login, screenshot
from tests.conftest import World
from tests.factories import MonitoringLineFactory, TargetFactory, VisitFactory, income

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def _seed_catalogue() -> None:
    """The catalogue comes from a data migration; an earlier transactional test's flush removes it."""
    from django.apps import apps

    importlib.import_module("assistance.migrations.0002_seed_catalogue").seed(apps, None)


HOUSEHOLD = "H520101001001"


def _switch_user(page, live_server, username: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    login(page, live_server, username)


def _add_measure(page, label: str, responsible: str, start: str) -> None:  # type: ignore[no-untyped-def]
    form = page.get_by_test_id("measure-add-form")
    form.get_by_label("帮扶措施").select_option(label=label)
    form.get_by_label("帮扶责任人").fill(responsible)
    form.get_by_label("责任人单位").fill("县卫健局")
    form.get_by_label("责任人电话").fill("13900001111")
    form.get_by_label("开始日期").fill(start)
    form.get_by_role("button", name="添加措施").click()
    page.wait_for_load_state()


def test_assistance_to_risk_elimination_and_back(page, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    _seed_catalogue()
    today = timezone.localdate()
    last_year = today.year - 1
    household = world.households["520101001001"]
    target = TargetFactory(household=household, identified_on=today - dt.timedelta(days=200), risk_types=["ILLNESS"])
    MonitoringLineFactory(year=last_year, line=Decimal("7000.00"))
    income(household, last_year, "8000.00")
    VisitFactory(household=household, visited_on=today - dt.timedelta(days=5))

    # county: two measures
    login(page, live_server, "county")
    page.get_by_role("link", name="帮扶措施").first.click()
    page.get_by_role("link", name=HOUSEHOLD).click()
    assert "家庭有劳动能力" in page.get_by_test_id("recommendation-explanation").inner_text()
    _add_measure(page, "健康帮扶 · 医疗保障/医疗救助", "王医生", today.isoformat())
    _add_measure(page, "金融帮扶 · 小额信贷", "李行长", today.isoformat())
    measures = page.get_by_test_id("target-measures")
    assert "医疗保障/医疗救助" in measures.inner_text() and "小额信贷" in measures.inner_text()
    assert "✗" not in page.get_by_test_id("plan-check").inner_text()
    screenshot(page, "assistance-plan.png")

    # village: mark one completed
    _switch_user(page, live_server, "village")
    page.get_by_role("link", name="帮扶措施").first.click()
    page.get_by_role("link", name=HOUSEHOLD).click()
    row = page.get_by_test_id("measure-row-MEDICAL_ASSISTANCE")
    row.get_by_label("状态").select_option(label="标记完成")
    row.get_by_label("进展情况").fill("住院费用已按政策报销")
    row.get_by_role("button", name="保存进展").click()
    page.wait_for_load_state()
    assert "已完成" in page.get_by_test_id("measure-row-MEDICAL_ASSISTANCE").inner_text()

    # village: the target is a candidate; propose with the 入户核实, then 民主评议 and 公示 (issue 18)
    page.get_by_role("link", name="风险消除").first.click()
    candidate = page.get_by_test_id(f"candidate-{HOUSEHOLD}")
    assert "近 12 个月收入不低于监测标准" in candidate.inner_text()
    candidate.get_by_role("link", name="入户核实并提议").click()
    form = page.get_by_test_id("propose-form")
    form.get_by_label("入户核实日期").fill(today.isoformat())
    form.get_by_label("核实人员").fill("村干部")
    for item in ("不愁吃", "不愁穿", "义务教育有保障", "基本医疗有保障", "住房安全有保障", "饮水安全有保障"):
        form.get_by_label(item, exact=True).check()
    form.get_by_label("消除方式").select_option(label="帮扶消除")
    form.get_by_label("提议意见").fill("收入稳定，两不愁三保障均有保障")
    form.get_by_role("button", name="提议风险消除").click()
    assert page.get_by_test_id("proposal-state").inner_text() == "村级已提议"
    page.get_by_test_id("appraisal-form").get_by_label("民主评议日期").fill(today.isoformat())
    page.get_by_test_id("appraisal-form").get_by_role("button", name="保存民主评议").click()
    publicity = page.get_by_test_id("publicity-form")
    publicity.get_by_label("公示开始日期").fill(today.isoformat())
    publicity.get_by_label("公示结束日期").fill((today + dt.timedelta(days=4)).isoformat())
    publicity.get_by_role("button", name="保存公示").click()
    assert page.get_by_test_id("proposal-step").inner_text() == "公示中"
    # the 公示 ends: six days pass (the village's dates move back)
    from assistance.models import EliminationProposal

    back = dt.timedelta(days=6)
    EliminationProposal.objects.filter(target=target).update(
        home_checked_on=today - back,
        appraisal_on=today - back,
        publicity_start=today - back,
        publicity_end=today - back + dt.timedelta(days=4),
    )

    # township reviews
    _switch_user(page, live_server, "township")
    page.get_by_role("link", name="风险消除").first.click()
    page.get_by_test_id("proposal-table").get_by_role("link", name="办理").click()
    page.get_by_label("意见（退回时必填）").fill("情况属实")
    page.get_by_role("button", name="乡镇审核通过").click()
    assert page.get_by_test_id("proposal-state").inner_text() == "乡镇已审核"

    # county confirms
    _switch_user(page, live_server, "county")
    page.get_by_role("link", name="风险消除").first.click()
    page.get_by_test_id("proposal-table").get_by_role("link", name="办理").click()
    page.get_by_role("button", name="县级确认风险消除").click()
    assert page.get_by_test_id("proposal-state").inner_text() == "县级已确认"
    status = page.get_by_test_id("target-status").inner_text()
    assert status.startswith("风险消除") and "帮扶消除" in status
    screenshot(page, "risk-elimination-confirmed.png")
    target.refresh_from_db()
    assert (target.status, target.elimination_method, target.eliminated_on) == (
        TargetStatus.ELIMINATED,
        "ASSISTED",
        today,
    )

    # the risk returns: this year's income falls below the line, screening raises a new lead
    MonitoringLineFactory(year=today.year, line=Decimal("7000.00"))
    income(household, today.year, "3000.00")
    run = screening_run_create(region_code="520101000000", year=today.year, trigger="COMMAND")
    screening_run_execute(run_id=run.pk)
    lead = Lead.objects.get(household=household, state=LeadState.NEW)
    assert "LOW_INCOME" in lead.rules_fired
    assert not MonitoringTarget.objects.filter(household=household, status=TargetStatus.ACTIVE).exists()
