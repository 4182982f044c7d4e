"""Issue 18, acceptance 2 (first half): one 风险消除 walked in the browser from the village's proposal
with its 入户核实, through the 民主评议 and the 公示 (its printable list), the township's review once the
公示 has ended (dates moved back in the database to pass the time), the county's 审定, to the
household on the township's 公告."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.utils import timezone

from assistance.models import EliminationProposal
from fanpin.core.models import AuditEntry
from monitoring.models import Member, MonitoringTarget, TargetStatus
from tests.assistance.helpers import eligible_target
from tests.assistance.test_elimination_workflow import eligible_now
from tests.browser.conftest import screenshot, switch_user
from tests.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

VILLAGE = "520101001001"


def test_elimination_from_proposal_to_announcement(page, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    from django.apps import apps

    importlib.import_module("assistance.migrations.0002_seed_catalogue").seed(apps, None)
    household = world.households[VILLAGE]
    Member.objects.filter(household=household, relation=Member.Relation.HEAD).update(name="赵守田")
    if not Member.objects.filter(household=household, relation=Member.Relation.HEAD).exists():
        from tests.factories import MemberFactory

        MemberFactory(household=household, relation=Member.Relation.HEAD, name="赵守田")
    target = eligible_target(household)
    eligible_now(target)  # identified six months ago, visited last week, a measure under way
    today = timezone.localdate()

    # village: 入户核实 and the proposal
    page = switch_user(page, live_server, "village")
    page.goto(f"{live_server.url}/assistance/elimination/")
    page.get_by_test_id(f"candidate-{household.household_no}").get_by_role("link", name="入户核实并提议").click()
    form = page.get_by_test_id("propose-form")
    form.get_by_label("入户核实日期").fill(today.isoformat())
    form.get_by_label("核实人员").fill("村支书王五、驻村队员李四")
    for item in ("不愁吃", "不愁穿", "义务教育有保障", "基本医疗有保障", "住房安全有保障", "饮水安全有保障"):
        form.get_by_label(item, exact=True).check()
    form.get_by_label("消除方式").select_option("ASSISTED")
    form.get_by_role("button", name="提议风险消除").click()
    page.wait_for_url("**/assistance/elimination/*/")
    assert page.get_by_test_id("proposal-step").inner_text() == "待民主评议"
    proposal = EliminationProposal.objects.get(target=target)

    # village: 民主评议 (同意) and a five-day 公示, then its printable list
    appraisal = page.get_by_test_id("appraisal-form")
    appraisal.get_by_label("民主评议日期").fill(today.isoformat())
    appraisal.get_by_label("评议结果").select_option("AGREED")
    appraisal.get_by_role("button", name="保存民主评议").click()
    publicity = page.get_by_test_id("publicity-form")
    publicity.get_by_label("公示开始日期").fill(today.isoformat())
    publicity.get_by_label("公示结束日期").fill((today + dt.timedelta(days=4)).isoformat())
    publicity.get_by_role("button", name="保存公示").click()
    assert page.get_by_test_id("proposal-step").inner_text() == "公示中"
    page.get_by_role("link", name="公示名单").click()
    table = page.get_by_test_id("elimination-publicity-table").inner_text()
    assert "赵守田" in table and "帮扶消除" in table
    screenshot(page, "elimination-publicity.png")

    # township: refused while the 公示 runs
    page = switch_user(page, live_server, "township")
    page.goto(f"{live_server.url}/assistance/elimination/{proposal.pk}/")
    assert "及以后审核" in page.get_by_test_id("review-note").inner_text()
    page.get_by_role("button", name="乡镇审核通过").click()
    assert "公示期至" in page.content()
    assert EliminationProposal.objects.get(pk=proposal.pk).state == "PROPOSED"

    # six days pass: the 公示 ended the day before yesterday
    back = dt.timedelta(days=6)
    EliminationProposal.objects.filter(pk=proposal.pk).update(
        home_checked_on=today - back,
        appraisal_on=today - back,
        publicity_start=today - back,
        publicity_end=today - back + dt.timedelta(days=4),
    )
    page.goto(f"{live_server.url}/assistance/elimination/{proposal.pk}/")
    page.get_by_label("意见（退回时必填）").fill("公示无异议，审核同意")
    page.get_by_role("button", name="乡镇审核通过").click()
    assert page.get_by_test_id("proposal-state").inner_text() == "乡镇已审核"

    # county: 审定 (every criterion checked again), the target becomes 风险消除
    page = switch_user(page, live_server, "county")
    page.goto(f"{live_server.url}/assistance/elimination/{proposal.pk}/")
    page.get_by_role("button", name="县级确认风险消除").click()
    assert page.get_by_test_id("proposal-state").inner_text() == "县级已确认"
    assert "风险消除" in page.get_by_test_id("target-status").inner_text()
    assert MonitoringTarget.objects.get(pk=target.pk).status == TargetStatus.ELIMINATED
    actions = list(
        AuditEntry.objects.filter(object_type="elimination", object_id=str(proposal.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["propose", "appraisal", "publicity", "review", "confirm"]

    # the township's 公告 of the day lists the household among the eliminations
    page.get_by_test_id("announcement-link").click()
    announcement = page.get_by_test_id("announcement").inner_text()
    assert "赵守田" in announcement and "风险消除" in announcement
    screenshot(page, "elimination-announcement.png")
