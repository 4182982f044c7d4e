"""风险消除 workflow: village proposes, township reviews, county confirms (role × transition)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assistance.models import EliminationProposal, ProposalState
from assistance.services.elimination import (
    HomeCheck,
    elimination_act,
    elimination_appraisal_record,
    elimination_propose,
    elimination_publicity_record,
)
from fanpin.core.models import AuditEntry
from fanpin.core.workflow import ObjectOutOfScope, TransitionNotAllowed
from monitoring.models import MonitoringTarget, TargetStatus
from monitoring.models.visits import CHECKLIST_FIELDS
from tests.assistance.factories import ProposalFactory
from tests.assistance.helpers import TODAY, eligible_target
from tests.conftest import World

pytestmark = pytest.mark.django_db

ROLES = ["admin", "province", "city", "county", "township", "village", "dept"]
CHECKED = {name: True for name, _label in CHECKLIST_FIELDS}


def home_check(day: dt.date = TODAY, **extra: object) -> HomeCheck:
    """An 入户核实 on ``day`` finding every item secured."""
    return HomeCheck(checked_on=day, visitors="王五、李四", checklist=dict(CHECKED), **extra)  # type: ignore[arg-type]


def propose(world: World, target: MonitoringTarget, today: dt.date = TODAY, **extra: object) -> EliminationProposal:
    return elimination_propose(
        actor=world.users["village"],
        target_id=target.pk,
        method=str(extra.pop("method", "ASSISTED")),
        home_check=home_check(today),
        today=today,
        **extra,  # type: ignore[arg-type]
    )


def through_publicity(world: World, proposal: EliminationProposal, day: dt.date = TODAY) -> EliminationProposal:
    """民主评议 (同意) and a 5-day 公示 from ``day``: the township may review from ``day`` + 5."""
    village = world.users["village"]
    elimination_appraisal_record(actor=village, pk=proposal.pk, appraisal_on=day, outcome="AGREED", today=day)
    return elimination_publicity_record(
        actor=village, pk=proposal.pk, start=day, end=day + dt.timedelta(days=4), today=day
    )


def steps_done(day: dt.date = TODAY) -> dict[str, object]:
    """Fields of a proposal whose village steps ended before ``day`` (公示 ended the day before)."""
    start = day - dt.timedelta(days=5)
    return {
        "home_checked_on": start,
        "home_visitors": "王五",
        "home_checklist": dict(CHECKED),
        "appraisal_on": start,
        "appraisal_outcome": "AGREED",
        "publicity_start": start,
        "publicity_end": day - dt.timedelta(days=1),
    }


@pytest.fixture
def target(world: World) -> MonitoringTarget:
    return eligible_target(world.households["520101001001"])


# -- propose ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_who_may_propose(world: World, target: MonitoringTarget, role: str) -> None:
    allowed = role in ("village", "admin")
    if allowed:
        proposal = elimination_propose(
            actor=world.users[role], target_id=target.pk, method="ASSISTED", home_check=home_check(), today=TODAY
        )
        assert proposal.state == ProposalState.PROPOSED
    else:
        with pytest.raises(PermissionDenied):
            elimination_propose(
                actor=world.users[role], target_id=target.pk, method="ASSISTED", home_check=home_check(), today=TODAY
            )


def test_propose_records_the_criteria_and_is_audited(world: World, target: MonitoringTarget) -> None:
    proposal = propose(world, target, method="NATURAL", opinion="务工收入稳定")
    assert [c["code"] for c in proposal.criteria] == [
        "INCOME",
        "SPIKE",
        "VISIT",
        "MEASURES",
        "DURATION",
        "NO_NEW_RISK",
        "NOT_PROTECTIVE",
    ]
    assert (proposal.home_checked_on, proposal.home_visitors, proposal.home_checklist) == (TODAY, "王五、李四", CHECKED)
    assert all(c["met"] for c in proposal.criteria)
    entry = AuditEntry.objects.get(object_type="elimination")
    assert (entry.action, entry.to_state, entry.reason, entry.region_code) == (
        "propose",
        "PROPOSED",
        "务工收入稳定",
        "520101001001",
    )


def test_propose_refused_when_a_criterion_is_unmet(world: World, target: MonitoringTarget) -> None:
    with pytest.raises(ValidationError, match="未满足风险消除条件：纳入监测满 6 个月"):
        propose(world, target, today=TODAY - dt.timedelta(days=1))
    assert not EliminationProposal.objects.exists()


def test_one_open_proposal_per_target(world: World, target: MonitoringTarget) -> None:
    propose(world, target)
    with pytest.raises(ValidationError, match="已有待审核"):
        propose(world, target)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProposalFactory(target=target, proposed_by=world.users["village"])


def test_propose_outside_the_village_is_out_of_scope(world: World) -> None:
    other = eligible_target(world.households["520101001002"])
    with pytest.raises(ObjectOutOfScope):
        propose(world, other)


def eligible_now(target: MonitoringTarget) -> None:
    """Move the target's dates so that it meets every criterion on the real today (pages use it)."""
    shift = timezone.localdate() - TODAY
    MonitoringTarget.objects.filter(pk=target.pk).update(identified_on=target.identified_on + shift)
    for visit in target.household.visits.all():
        visit.visited_on += shift
        visit.save(update_fields=["visited_on"])
    year = timezone.localdate().year
    from tests.assistance.helpers import LINE
    from tests.factories import MonitoringLineFactory, income

    MonitoringLineFactory(year=year, line=LINE)
    income(target.household, year, LINE)


# -- review / confirm / reject: role × transition × state ------------------------------------------

TRANSITIONS = {
    # name: (from state, roles allowed besides the administrator)
    "review": ("PROPOSED", {"township"}),
    "confirm": ("REVIEWED", {"county"}),
    "reject": ("PROPOSED", {"township", "county"}),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(TRANSITIONS))
def test_transition_matrix(world: World, target: MonitoringTarget, name: str, role: str) -> None:
    state, roles = TRANSITIONS[name]
    proposal = ProposalFactory(target=target, state=state, proposed_by=world.users["village"], **steps_done())
    actor = world.users[role]
    if role in roles or role == "admin":
        result = elimination_act(actor=actor, pk=proposal.pk, name=name, opinion="同意", today=TODAY)
        assert result.state == {"review": "REVIEWED", "confirm": "CONFIRMED", "reject": "REJECTED"}[name]
        assert AuditEntry.objects.filter(object_type="elimination", action=name, actor=actor).exists()
    elif role == "dept":  # sees no household data at all
        with pytest.raises(ObjectOutOfScope):
            elimination_act(actor=actor, pk=proposal.pk, name=name, opinion="同意", today=TODAY)
    else:
        with pytest.raises(PermissionDenied, match="您的角色不能执行"):
            elimination_act(actor=actor, pk=proposal.pk, name=name, opinion="同意", today=TODAY)
    if role not in roles and role != "admin":
        proposal.refresh_from_db()
        assert proposal.state == state


@pytest.mark.parametrize(
    ("name", "wrong_state"), [("review", "REVIEWED"), ("confirm", "PROPOSED"), ("reject", "CONFIRMED")]
)
def test_transition_from_the_wrong_state(world: World, target: MonitoringTarget, name: str, wrong_state: str) -> None:
    decided = {"decided_at": dt.datetime(2025, 9, 1, tzinfo=dt.UTC)} if wrong_state == "CONFIRMED" else {}
    proposal = ProposalFactory(target=target, state=wrong_state, proposed_by=world.users["village"], **decided)
    with pytest.raises(TransitionNotAllowed, match="当前状态为"):
        elimination_act(actor=world.users["admin"], pk=proposal.pk, name=name, opinion="x", today=TODAY)


def test_reject_needs_a_reason_and_keeps_it(world: World, target: MonitoringTarget) -> None:
    proposal = ProposalFactory(target=target, proposed_by=world.users["village"])
    with pytest.raises(ValidationError, match="必须填写理由"):
        elimination_act(actor=world.users["township"], pk=proposal.pk, name="reject", opinion=" ")
    elimination_act(actor=world.users["township"], pk=proposal.pk, name="reject", opinion="收入不稳定")
    proposal.refresh_from_db()
    assert (proposal.state, proposal.rejection_reason, proposal.decided_by) == (
        "REJECTED",
        "收入不稳定",
        world.users["township"],
    )
    # a rejected proposal does not block a new one
    propose(world, target)


def test_full_flow_eliminates_the_target_with_date_and_method(world: World, target: MonitoringTarget) -> None:
    proposal = through_publicity(world, propose(world, target))
    later = TODAY + dt.timedelta(days=5)
    elimination_act(actor=world.users["township"], pk=proposal.pk, name="review", opinion="情况属实", today=later)
    elimination_act(actor=world.users["county"], pk=proposal.pk, name="confirm", opinion="同意消除", today=later)
    target.refresh_from_db()
    assert (target.status, target.elimination_method, target.eliminated_on) == (
        TargetStatus.ELIMINATED,
        "ASSISTED",
        later,
    )
    assert AuditEntry.objects.filter(object_type="target", action="eliminate", object_id=str(target.pk)).exists()
    steps = list(
        AuditEntry.objects.filter(object_type="elimination").order_by("id").values_list("action", "actor__username")
    )
    assert steps == [
        ("propose", "village"),
        ("appraisal", "village"),
        ("publicity", "village"),
        ("review", "township"),
        ("confirm", "county"),
    ]


def test_pages_drive_the_flow(world: World, target: MonitoringTarget) -> None:
    proposal = ProposalFactory(target=target, proposed_by=world.users["village"], **steps_done(timezone.localdate()))
    eligible_now(target)
    township, county = Client(), Client()
    township.force_login(world.users["township"])
    county.force_login(world.users["county"])
    page = township.get(reverse("assistance:proposal_detail", args=[proposal.pk])).content.decode()
    assert "乡镇审核通过" in page and "县级确认风险消除" not in page
    url = reverse("assistance:proposal_act", args=[proposal.pk])
    response = township.post(url, {"name": "reject", "opinion": ""}, follow=True)
    assert "“退回（不予消除）”必须填写理由。" in response.content.decode()
    township.post(url, {"name": "review", "opinion": "属实"})
    response = county.post(url, {"name": "confirm", "opinion": "同意"}, follow=True)
    assert "已完成：县级已确认。" in response.content.decode()
    target.refresh_from_db()
    assert target.status == TargetStatus.ELIMINATED
    page = county.get(reverse("assistance:target_plan", args=[target.pk])).content.decode()
    assert "已风险消除：帮扶消除" in page
