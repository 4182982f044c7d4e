"""Two county corrections in the browser: the 县级复核 of a green-channel follow-up whose 民主评议 did
not agree (from the 待办 to the follow-up page, an opinion refused empty, then 维持认定), and a member
whose death was accepted by mistake put back in the registry from the household page (恢复在册)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from fanpin.core.models import AuditEntry
from monitoring.models import FollowUp, Member, MemberStatus, Relation
from monitoring.services.followups import follow_up_step_record
from tests.browser.conftest import login, screenshot
from tests.conftest import World
from tests.factories import MemberFactory
from tests.monitoring.test_followups import appraisal, direct, home_check
from tests.monitoring.test_member_departure import VILLAGE, depart

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_county_answers_a_disagreeing_appraisal(page, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    f = FollowUp.objects.get(target=direct(world))
    village = world.users["village"]
    follow_up_step_record(follow_up_id=f.pk, actor=village, record=home_check())
    follow_up_step_record(follow_up_id=f.pk, actor=village, record=appraisal(outcome="DISAGREED"))

    login(page, live_server, "county")
    page.get_by_test_id("todo-followups_review").click()
    rows = page.get_by_test_id("followup-row")
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link", name="详情").click()
    form = page.get_by_test_id("followup-county-review-form")
    form.get_by_role("button", name="维持认定").click()
    assert "请填写县级复核意见" in page.get_by_test_id("followup-county-review-form").inner_text()
    form = page.get_by_test_id("followup-county-review-form")
    form.get_by_label("县级复核意见（维持认定的理由）").fill("该户因病支出大，县级研究后维持认定，继续监测。")
    form.get_by_role("button", name="维持认定").click()
    reviewed = page.get_by_test_id("followup-county-reviewed")
    assert "县级复核：维持认定" in reviewed.inner_text() and "继续监测" in reviewed.inner_text()
    assert page.get_by_test_id("followup-county-review-form").count() == 0
    screenshot(page, "followup-county-reviewed.png")
    f.refresh_from_db()
    assert f.county_reviewed_at is not None and not f.county_review_waiting


def test_the_county_restores_a_member_reported_dead_by_mistake(  # type: ignore[no-untyped-def]
    page, live_server, world: World, tmp_path: Path
) -> None:
    hh = world.households[VILLAGE]
    father = MemberFactory(household=hh, relation=Relation.FATHER, name="王老汉")
    depart(tmp_path, world, father)

    login(page, live_server, "county")
    page.goto(f"{live_server.url}/monitoring/households/{hh.pk}/")
    departed = page.get_by_test_id("departed-member-table")
    assert "王老汉" in departed.inner_text() and "已故" in departed.inner_text()
    departed.get_by_text("误报？恢复在册").click()
    departed.get_by_label("恢复理由（必填）").fill("医保名单身份证号有误，经核实本人健在")
    departed.get_by_role("button", name="恢复在册").click()
    assert "已恢复王老汉在册" in page.content()
    assert "王老汉" in page.get_by_test_id("member-table").inner_text()
    assert page.get_by_test_id("departed-member-table").count() == 0
    screenshot(page, "member-restored.png")
    father.refresh_from_db()
    assert father.status == MemberStatus.ACTIVE
    assert AuditEntry.objects.filter(object_type="member", object_id=str(father.pk), action="restore").exists()
    assert Member.objects.current().filter(pk=father.pk).exists()
