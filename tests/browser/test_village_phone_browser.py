"""The village cadre's 风险消除 and 回头看 pages fit a 390 px phone: no sideways scrolling of the page,
and no table that has to be scrolled to reach its buttons (风险消除 list, a proposal's page, the
campaign's village page)."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.urls import reverse
from django.utils import timezone

from monitoring.models.visits import CHECKLIST_FIELDS
from monitoring.services.campaigns import CampaignInput, campaign_start
from tests.assistance.factories import ProposalFactory
from tests.browser.conftest import login
from tests.conftest import World
from tests.factories import HouseholdFactory, MemberFactory, TargetFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
VILLAGE = "520101001001"
WIDTH = 390


def _fits(page) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"页面宽 {width}px，手机上需要左右滚动"
    scrolled = page.evaluate(
        "Array.from(document.querySelectorAll('.table-responsive'))"
        ".filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.querySelector('table').dataset.testid)"
    )
    assert scrolled == [], f"表格需要左右滚动：{scrolled}"


def test_village_pages_fit_a_390px_phone(browser, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    from django.apps import apps

    importlib.import_module("assistance.migrations.0002_seed_catalogue").seed(apps, None)
    today = timezone.localdate()
    households = []
    for i in range(2):
        hh = HouseholdFactory(village_id=VILLAGE, household_no=f"5201010010010001{i}", exited=True)
        MemberFactory(household=hh)
        households.append(hh)
    target = TargetFactory(household=households[0], identified_on=today - dt.timedelta(days=200))
    proposal = ProposalFactory(
        target=target,
        proposed_by=world.users["village"],
        home_checked_on=today - dt.timedelta(days=3),
        home_visitors="村干部、驻村工作队、帮扶责任人",
        home_checklist={name: True for name, _label in CHECKLIST_FIELDS},
        appraisal_on=today - dt.timedelta(days=2),
        appraisal_outcome="AGREED",
        publicity_start=today - dt.timedelta(days=2),
        publicity_end=today + dt.timedelta(days=3),
    )
    campaign = campaign_start(
        actor=world.users["county"],
        data=CampaignInput(
            county_code="520101000000",
            kind="REVISIT",
            name="脱贫户回头看",
            year=today.year,
            selection="EXITED_IN_VILLAGES",
            started_on=today,
            villages=[VILLAGE],
        ),
    )
    context = browser.new_context(
        locale="zh-CN", viewport={"width": WIDTH, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        login(page, live_server, "village")
        # 风险消除: the application and every target with its 消除条件, one card each
        page.goto(live_server.url + reverse("assistance:elimination_list") + "?all=1")
        _fits(page)
        card = page.get_by_test_id(f"candidate-{households[0].household_no}")
        assert "纳入监测满 6 个月" in card.inner_text()
        box = card.bounding_box()
        assert box is not None and box["x"] + box["width"] <= WIDTH
        # the proposal's page: 办理环节 wraps, 办理时限 keeps 环节 / 截止日 / 状态
        page.goto(live_server.url + reverse("assistance:proposal_detail", args=[proposal.pk]))
        _fits(page)
        assert "帮扶责任人" in page.get_by_test_id("steps-table").inner_text()
        for testid in ("steps-table", "deadlines"):
            box = page.get_by_test_id(testid).bounding_box()
            assert box is not None and box["x"] + box["width"] <= WIDTH, testid
        # 回头看: the 走访 button of each household is on screen
        page.goto(live_server.url + reverse("monitoring:campaign_village", args=[campaign.pk, VILLAGE]))
        _fits(page)
        for hh in households:
            button = page.get_by_role("link", name=f"走访 {hh.household_no}")
            box = button.bounding_box()
            assert box is not None and box["x"] + box["width"] <= WIDTH, hh.household_no
    finally:
        context.close()
