"""A township official finds the 公告 from the home page, opens this month's for the township and
prints it on A4: the navigation and buttons are gone, the three groups are there, nothing is wider
than the page and no 身份证号 or phone is printed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from assistance.models import ProposalState
from fanpin.core.models import User
from monitoring.models import LeadState, Member, ProcedureSetting, TargetStatus
from tests.assistance.factories import ProposalFactory
from tests.browser.conftest import login, screenshot
from tests.conftest import World
from tests.factories import HouseholdFactory, LeadFactory, MemberFactory, TargetFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
A4_CONTENT_WIDTH = 718


def _seed(world: World) -> None:
    now = timezone.now()
    village = world.households["520101001001"].village
    for i in range(12):
        household = HouseholdFactory(village=village, phone="13912345678")
        MemberFactory(household=household, relation=Member.Relation.HEAD, name=f"户主{i:02d}")
        MemberFactory(household=household, health=Member.Health.SERIOUS)
        if i < 6:
            lead = LeadFactory(household=household, state=LeadState.CONFIRMED, decided_at=now)
            TargetFactory(household=household, lead=lead, identified_on=timezone.localdate())
        elif i < 10:
            target = TargetFactory(
                household=household,
                status=TargetStatus.ELIMINATED,
                elimination_method="ASSISTED",
                eliminated_on=timezone.localdate(),
                identified_on=timezone.localdate() - dt.timedelta(days=200),
            )
            ProposalFactory(
                target=target,
                state=ProposalState.CONFIRMED,
                decided_at=now,
                proposed_by=User.objects.get(username="village"),
            )
        else:
            LeadFactory(household=household, state=LeadState.REJECTED, decided_at=now, rejection_reason="收入已恢复")
    ProcedureSetting.objects.create(province_code="520000000000", announce_rejections=True)


def test_township_prints_this_months_announcement(page, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    _seed(world)
    login(page, live_server, "township")
    page.get_by_test_id("home-announcements").get_by_role("link", name="公告").click()
    page.get_by_role("link", name="本月至今").click()
    page.get_by_role("link", name=re.compile("查看并打印")).click()
    sheet = page.get_by_test_id("announcement")
    expect(sheet.get_by_role("heading", level=1)).to_have_text("区划520101001000人民政府")
    text = sheet.inner_text()
    assert "纳入" in text and "（6 户）" in text and "风险消除（4 户）" in text and "不予纳入（2 户）" in text
    for secret in ("13912345678", "大病", "收入已恢复"):
        assert secret not in text
    for number in Member.objects.values_list("id_number", flat=True):
        assert number not in page.content()

    page.set_viewport_size({"width": A4_CONTENT_WIDTH, "height": 1000})
    page.emulate_media(media="print")
    expect(page.locator("nav.navbar")).to_be_hidden()
    expect(page.get_by_role("link", name="下载 Excel")).to_be_hidden()
    expect(sheet).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= A4_CONTENT_WIDTH
    screenshot(page, "announcement-print.png")
    pdf = page.pdf(format="A4", print_background=False)
    assert pdf.startswith(b"%PDF")
