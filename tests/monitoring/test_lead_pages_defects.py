"""Issue 15 (minor defects of the lead, target, publicity and plan pages), found on the demo.

Leads are raised by screening (``screening_helpers``) and by a cadre's visit through the services,
as on the demo, besides factory-made ones.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Health, Lead, LeadState, Member, MonitoringTarget
from monitoring.services import review
from monitoring.services.visits import VisitInput, visit_record
from tests.conftest import World
from tests.factories import TargetFactory, income
from tests.monitoring.review_helpers import VILLAGE, decision, lead_in, today
from tests.monitoring.screening_helpers import COUNTY, YEAR, screen, setup_lines

pytestmark = pytest.mark.django_db


def login(world: World, role: str) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def screened_lead(world: World) -> Lead:
    """A 收入低于监测标准 lead raised today by screening; the head is seriously ill (因病)."""
    setup_lines()
    hh = world.households[VILLAGE]
    Member.objects.filter(household=hh).update(health=Health.SERIOUS)
    income(hh, YEAR, "4115.22", size=3)  # 12,345.66 in all, under the line of 7,000.00 per head
    screen(COUNTY)
    return Lead.objects.get(household=hh)


def visit(world: World, **secure: bool) -> int:
    """A village cadre's visit of the VILLAGE household today; returns the lead it raised or joined."""
    outcome = visit_record(
        actor=world.users["village"],
        data=VisitInput(
            household_id=world.households[VILLAGE].pk,
            visited_on=today(),
            visitors="李驻村、王书记",
            secure=secure,
        ),
    )
    assert outcome.lead_id is not None
    return outcome.lead_id


def page(world: World, role: str, lead: Lead) -> str:
    response = login(world, role).get(reverse("monitoring:lead_detail", args=[lead.pk]))
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, testid: str) -> str:
    match = re.search(rf'<(\w+)[^>]*data-testid="{testid}".*?</\1>', html, re.S)
    assert match, testid
    return match.group(0)


# -- 1. the visits that raised a lead ----------------------------------------------------------------
@pytest.mark.parametrize("with_screening", [True, False])
def test_lead_page_lists_the_visits_that_raised_it(world: World, with_screening: bool) -> None:
    if with_screening:
        screened_lead(world)
    lead = Lead.objects.get(pk=visit(world, housing_secure=False, water_secure=False))
    html = page(world, "township", lead)
    assert "上线后" not in html
    table = section(html, "visit-table")
    assert today().isoformat() in table and "李驻村、王书记" in table
    assert "住房安全有保障、饮水安全有保障" in table
    assert reverse("monitoring:household_detail", args=[lead.household_id]) in table


def test_lead_page_of_a_screening_lead_says_no_visit_raised_it(world: World) -> None:
    html = page(world, "county", screened_lead(world))
    assert "上线后" not in html
    assert "此线索不是走访发现的" in section(html, "no-visits")
    # a screening lead is no department alert (a newcomer read 「部门预警的内容见上方」 on it)
    assert "部门预警" not in section(html, "no-visits") and "发现它的依据见上方" in section(html, "no-visits")


# -- 2. timestamps in the evidence in local time -----------------------------------------------------
def test_evidence_timestamps_read_as_local_time(world: World) -> None:
    screened_lead(world)
    lead = Lead.objects.get(pk=visit(world, food_secure=False))
    evidence = dict(lead.evidence)
    evidence["VISIT"] = [{**evidence["VISIT"][0], "at": "2026-12-03T06:05:09.123456+00:00"}]
    Lead.objects.filter(pk=lead.pk).update(evidence=evidence)
    table = section(page(world, "county", lead), "evidence-table")
    assert "2026-12-03 14:05" in table  # Asia/Shanghai
    assert "T06:05" not in table and "+00:00" not in table


# -- 3. the 公示名单 gives the reason, not the source --------------------------------------------------
def test_publicity_list_gives_risk_types_and_rules_in_plain_words(world: World) -> None:
    lead = screened_lead(world)
    review.lead_verify(lead_id=lead.pk, actor=world.users["village"], opinion="", verification=_posting(ended=False))
    response = login(world, "village").get(reverse("monitoring:publicity", args=[VILLAGE]))
    table = section(response.content.decode(), "publicity-table")
    assert "因病；人均纯收入低于监测标准" in table
    assert "系统筛查" not in table and "患有大病" not in table
    for member in Member.objects.filter(household=lead.household):
        assert member.id_number not in table and member.id_number[-4:] not in table


def test_publicity_reason_of_a_visit_lead_is_no_source(world: World) -> None:
    lead = Lead.objects.get(pk=visit(world, food_secure=False))  # an item that names no risk type
    review.lead_verify(lead_id=lead.pk, actor=world.users["village"], opinion="", verification=_posting(ended=False))
    table = section(
        login(world, "village").get(reverse("monitoring:publicity", args=[VILLAGE])).content.decode(),
        "publicity-table",
    )
    assert "走访排查" not in table and "存在返贫致贫风险" in table


def test_publicity_reason_of_a_visit_that_found_the_housing_unsafe_is_its_risk_type(world: World) -> None:
    lead = Lead.objects.get(pk=visit(world, housing_secure=False))
    review.lead_verify(lead_id=lead.pk, actor=world.users["village"], opinion="", verification=_posting(ended=False))
    table = section(
        login(world, "village").get(reverse("monitoring:publicity", args=[VILLAGE])).content.decode(),
        "publicity-table",
    )
    assert "走访排查" not in table and "住房安全" in table


# -- 4. no township review form during the 公示 --------------------------------------------------------
def _posting(*, ended: bool) -> review.Verification:
    """A posting from today (lead raised today), or one that ended yesterday."""
    start = today() - dt.timedelta(days=5) if ended else today()
    return review.Verification(
        home_checked_on=start,
        consent_signed=True,
        appraisal_on=start,
        appraisal_outcome="AGREED",
        publicity_start=start,
        publicity_end=start + dt.timedelta(days=4),
    )


def test_township_review_is_offered_only_after_the_posting(world: World) -> None:
    lead = screened_lead(world)
    review.lead_verify(lead_id=lead.pk, actor=world.users["village"], opinion="", verification=_posting(ended=False))
    html = page(world, "township", lead)
    end = (today() + dt.timedelta(days=4)).isoformat()
    assert f"公示期至 {end}，结束后可审核" in section(html, "held-note")
    assert 'data-testid="form-review"' not in html
    assert 'data-testid="form-reject"' in html  # 不予纳入 stays open

    ended = lead_in(world.households["520101001002"], LeadState.VERIFIED)  # posting ended 1 day ago
    html = page(world, "township", ended)
    assert 'data-testid="form-review"' in html and 'data-testid="held-note"' not in html


# -- 5. 县级确定 and 不予纳入 need a confirmation -------------------------------------------------------
CONFIRM = {"confirm-category": "EDGE_AT_RISK", "confirm-risk_types": ["ILLNESS"]}


@pytest.mark.parametrize(
    ("role", "state", "action", "data"),
    [
        ("county", LeadState.REVIEWED, "confirm", CONFIRM),
        ("county", LeadState.NEW, "confirm_direct", {**CONFIRM, "confirm_direct-opinion": "因灾"}),
        ("township", LeadState.VERIFIED, "reject", {"reject-opinion": "收入已恢复"}),
        ("village", LeadState.NEW, "reject", {"reject-opinion": "收入已恢复"}),
    ],
)
def test_decisions_need_the_checked_box(world: World, role: str, state: str, action: str, data: dict) -> None:
    lead = lead_in(world.households[VILLAGE], state)
    data = {k.replace("confirm-", f"{action}-", 1): v for k, v in data.items()}
    data[f"{action}-identified_on"] = today().isoformat()
    html = page(world, role, lead)
    form = section(html, f"form-{action}")
    box = re.search(rf'<input[^>]*type="checkbox"[^>]*name="{action}-checked"[^>]*id="([^"]+)"', form)
    assert box, "no confirmation box"
    assert f'<label class="form-check-label fw-semibold" for="{box.group(1)}">我已核对' in form  # keyboard: a label

    client = login(world, role)
    url = reverse("monitoring:lead_act", args=[lead.pk, action])
    response = client.post(url, data)
    assert response.status_code == 400
    assert "请先核对并勾选“我已核对”" in response.content.decode()
    lead.refresh_from_db()
    assert lead.state == state and not MonitoringTarget.objects.exists()

    response = client.post(url, {**data, f"{action}-checked": "on"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.state == ("REJECTED" if action == "reject" else "CONFIRMED")


def reviewed_screened_lead(world: World) -> Lead:
    """A screening lead raised 12 days ago, verified by the village (posting ended), reviewed by the township."""
    lead = screened_lead(world)
    Lead.objects.filter(pk=lead.pk).update(raised_at=timezone.now() - dt.timedelta(days=12))
    review.lead_verify(lead_id=lead.pk, actor=world.users["village"], opinion="", verification=_posting(ended=True))
    return review.lead_review(lead_id=lead.pk, actor=world.users["township"], opinion="")


def test_screening_lead_confirmed_after_checking(world: World) -> None:
    lead = reviewed_screened_lead(world)
    url = reverse("monitoring:lead_act", args=[lead.pk, "confirm"])
    data = {**CONFIRM, "confirm-identified_on": today().isoformat()}
    assert login(world, "county").post(url, data).status_code == 400
    assert login(world, "county").post(url, {**data, "confirm-checked": "on"}).status_code == 302
    assert MonitoringTarget.objects.filter(lead=lead).exists()


# -- 7. one way to write numbers and dates -----------------------------------------------------------
def test_lead_page_writes_money_and_dates_one_way(world: World) -> None:
    lead = screened_lead(world)
    # raised 00:30 in Shanghai: still the 3rd there, the 2nd in UTC
    Lead.objects.filter(pk=lead.pk).update(raised_at=dt.datetime(2026, 12, 2, 16, 30, tzinfo=dt.UTC))
    html = page(world, "county", lead)
    assert section(html, "lead-raised").endswith(">2026-12-03</dd>")
    evidence = section(html, "evidence-table")
    assert "12,345.66" in evidence and "4,115.22" in evidence and "7,000.00" in evidence
    assert "12345.66" not in evidence and "4115.22" not in evidence
    assert "2026年12月3日" not in html


def test_verification_dates_on_the_lead_page_as_in_tables(world: World) -> None:
    lead = screened_lead(world)
    review.lead_verify(lead_id=lead.pk, actor=world.users["village"], opinion="", verification=_posting(ended=False))
    facts = section(page(world, "township", lead), "verification")
    assert f"{today():%Y-%m-%d} 至 {today() + dt.timedelta(days=4):%Y-%m-%d}" in facts
    assert "年" not in facts


def test_target_and_plan_pages_write_dates_as_in_tables(world: World) -> None:
    target = TargetFactory(household=world.households[VILLAGE], identified_on=dt.date(2026, 12, 3))
    client = login(world, "county")
    html = client.get(reverse("monitoring:target_detail", args=[target.pk])).content.decode()
    assert ">2026-12-03</dd>" in section(html, "target-identified")
    plan = client.get(reverse("assistance:target_plan", args=[target.pk])).content.decode()
    assert "2026-12-03" in plan and "2026年12月3日" not in plan


# -- 8. the target page links its 帮扶计划 -----------------------------------------------------------
@pytest.mark.parametrize("role", ["village", "township", "county", "city", "province"])
def test_target_page_links_its_plan(world: World, role: str) -> None:
    lead = reviewed_screened_lead(world)
    review.lead_confirm(lead_id=lead.pk, actor=world.users["county"], decision=decision())
    target = MonitoringTarget.objects.get(lead=lead)
    client = login(world, role)
    html = client.get(reverse("monitoring:target_detail", args=[target.pk])).content.decode()
    url = reverse("assistance:target_plan", args=[target.pk])
    assert f'href="{url}"' in section(html, "target-plan-link") and "帮扶计划" in html
    assert client.get(url).status_code == 200
