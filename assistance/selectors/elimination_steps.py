"""Where a 风险消除 proposal stands in its steps (SPEC §5.6), each step's due date on the working-day
calendar, and the village's elimination 公示名单.

Steps: 入户核实 → 民主评议 → 村内公示 (≥ 5 days, inclusive) → 乡镇审核 (after the 公示 ends) → 县级审定.
Time limits (``monitoring.selectors.calendar``, per province):

* ``ELIMINATION_PUBLICITY`` (评议公示) starts on the 入户核实 date (a proposal made before the steps
  existed: its proposal date) and is done when the 公示 has ended (on its end date), as the lead's
  民主评议和公示;
* ``ELIMINATION_TOWNSHIP`` starts once the 公示 has ended (its end date) and is done on the
  township's review;
* ``ELIMINATION_COUNTY`` starts on the township's review and is done on the county's decision.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

from assistance.models import EliminationAppraisal, EliminationProposal, ProposalMethod, ProposalState
from fanpin.core.regions import province_code_of
from monitoring.models import Member, Region
from monitoring.models.calendar import ProcedureStep
from monitoring.models.households import NO_HEAD
from monitoring.selectors.calendar import StepLimit, WorkingCalendar, step_limits_by_province
from monitoring.selectors.deadlines import (
    DONE,
    DONE_LATE,
    IN_PROGRESS,
    NOT_STARTED,
    OVERDUE,
    STATUS_LABELS,
    LimitsByProvince,
    by_province_condition,
    day_start,
)


class Step:
    """The step a proposal waits for (codes are audit states, ≤ 32 characters)."""

    HOME_CHECK = "HOME_CHECK"
    APPRAISAL = "APPRAISAL"
    PUBLICITY = "PUBLICITY"
    IN_PUBLICITY = "IN_PUBLICITY"
    TOWNSHIP = "TOWNSHIP"
    COUNTY = "COUNTY"
    CONFIRMED = "CONFIRMED"
    REJECTED = "REJECTED"

    LABELS = {
        HOME_CHECK: "待补录入户核实",
        APPRAISAL: "待民主评议",
        PUBLICITY: "待公示",
        IN_PUBLICITY: "公示中",
        TOWNSHIP: "待乡镇审核",
        COUNTY: "待县级审定",
        CONFIRMED: "已确认风险消除",
        REJECTED: "未通过",
    }


def elimination_step(proposal: EliminationProposal, *, today: dt.date) -> str:
    if proposal.state == ProposalState.CONFIRMED:
        return Step.CONFIRMED
    if proposal.state == ProposalState.REJECTED:
        return Step.REJECTED
    if proposal.state == ProposalState.REVIEWED:
        return Step.COUNTY
    if proposal.home_checked_on is None:
        return Step.HOME_CHECK
    if proposal.appraisal_outcome != EliminationAppraisal.AGREED:
        return Step.APPRAISAL
    if proposal.publicity_end is None:
        return Step.PUBLICITY
    if today <= proposal.publicity_end:
        return Step.IN_PUBLICITY
    return Step.TOWNSHIP


# the steps the village does itself (its 待办 and the list's filter of them)
VILLAGE_STEPS = (Step.HOME_CHECK, Step.APPRAISAL, Step.PUBLICITY)


def elimination_step_condition(*, steps: Iterable[str], today: dt.date) -> Q:
    """Proposals at any of ``steps`` on ``today``, as one condition — ``elimination_step`` in SQL."""
    agreed = Q(appraisal_outcome=EliminationAppraisal.AGREED)
    checked = Q(state=ProposalState.PROPOSED, home_checked_on__isnull=False)
    by_step = {
        Step.CONFIRMED: Q(state=ProposalState.CONFIRMED),
        Step.REJECTED: Q(state=ProposalState.REJECTED),
        Step.COUNTY: Q(state=ProposalState.REVIEWED),
        Step.HOME_CHECK: Q(state=ProposalState.PROPOSED, home_checked_on__isnull=True),
        Step.APPRAISAL: checked & ~agreed,
        Step.PUBLICITY: checked & agreed & Q(publicity_end__isnull=True),
        Step.IN_PUBLICITY: checked & agreed & Q(publicity_end__gte=today),
        Step.TOWNSHIP: checked & agreed & Q(publicity_end__lt=today),
    }
    cond = Q(pk__in=[])
    for step in steps:
        cond |= by_step[step]
    return cond


def step_label(step: str) -> str:
    return Step.LABELS.get(step, step)


@dataclass(frozen=True)
class StepDeadline:
    step: str  # ProcedureStep
    label: str
    limit: StepLimit
    start: dt.date | None
    due: dt.date | None
    done_on: dt.date | None
    overdue: bool

    @property
    def status(self) -> str:
        """The lead pages' words (``monitoring.selectors.deadlines.STATUS_LABELS``)."""
        if self.start is None:
            return STATUS_LABELS[NOT_STARTED]
        if self.done_on is not None:
            return STATUS_LABELS[DONE_LATE if self.overdue else DONE]
        return STATUS_LABELS[OVERDUE if self.overdue else IN_PROGRESS]


def _local(value: dt.datetime | None) -> dt.date | None:
    return timezone.localdate(value) if value is not None else None


def _deadlines(
    proposal: EliminationProposal, *, calendar: WorkingCalendar, limits: dict[str, StepLimit], today: dt.date
) -> list[StepDeadline]:
    rejected_on = _local(proposal.decided_at) if proposal.state == ProposalState.REJECTED else None
    county_done = _local(proposal.decided_at) if proposal.state in (ProposalState.CONFIRMED,) else None
    if proposal.state == ProposalState.REJECTED and proposal.reviewed_at is not None:
        county_done = rejected_on
    # as the lead's 民主评议和公示: done when the 公示 has ended (on its end date); the township's
    # step starts then
    publicity_done = proposal.publicity_end if proposal.publicity_end and proposal.publicity_end < today else None
    spans = [
        (
            ProcedureStep.ELIMINATION_PUBLICITY,
            proposal.home_checked_on or _local(proposal.proposed_at),
            publicity_done,
        ),
        (ProcedureStep.ELIMINATION_TOWNSHIP, publicity_done, _local(proposal.reviewed_at)),
        (ProcedureStep.ELIMINATION_COUNTY, _local(proposal.reviewed_at), county_done),
    ]
    result = []
    for step, start, done_on in spans:
        limit = limits[step]
        if start is None or (done_on is None and rejected_on is not None):
            # not started, or ended by a rejection before it was done: no deadline runs
            result.append(StepDeadline(step, ProcedureStep(step).label, limit, start, None, None, False))
            continue
        due = calendar.due(start, limit)
        overdue = calendar.is_overdue(start=start, limit=limit, today=today, done_on=done_on)
        result.append(StepDeadline(step, ProcedureStep(step).label, limit, start, due, done_on, overdue))
    return result


def elimination_deadlines_many(
    *,
    proposals: Iterable[EliminationProposal],
    today: dt.date,
    calendar: WorkingCalendar | None = None,
    limits: LimitsByProvince | None = None,
) -> dict[int, list[StepDeadline]]:
    """Each proposal's three step deadlines (proposals need ``target__household``); one calendar
    query and one limits query, unless ``calendar`` and ``limits`` are given."""
    proposals = list(proposals)
    if not proposals:
        return {}
    calendar = calendar or WorkingCalendar.load(around=today)
    defaults, provinces = limits or step_limits_by_province()
    return {
        p.pk: _deadlines(
            p,
            calendar=calendar,
            limits=provinces.get(province_code_of(p.target.household.village_id), defaults),
            today=today,
        )
        for p in proposals
    }


def elimination_deadlines(
    *,
    proposal: EliminationProposal,
    today: dt.date,
    calendar: WorkingCalendar | None = None,
    limits: LimitsByProvince | None = None,
) -> list[StepDeadline]:
    found = elimination_deadlines_many(proposals=[proposal], today=today, calendar=calendar, limits=limits)
    return found[proposal.pk]


def proposals_overdue_condition(
    *, today: dt.date, calendar: WorkingCalendar | None = None, limits: LimitsByProvince | None = None
) -> Q:
    """Open proposals with a step past its time limit and not done on ``today``, as one condition
    on ``EliminationProposal`` (two queries to build it: the calendar and the provinces' limits) —
    the rule of ``elimination_deadlines`` for a step still running."""
    calendar = calendar or WorkingCalendar.load(around=today)

    def build(limits: dict[str, StepLimit]) -> Q:
        def cutoff(step: str) -> dt.date:
            return calendar.overdue_cutoff(limit=limits[step], today=today)

        publicity = cutoff(ProcedureStep.ELIMINATION_PUBLICITY)
        return (
            # 评议公示: from the 入户核实 (else the proposal's day) until the 公示 has ended
            Q(state=ProposalState.PROPOSED)
            & (Q(publicity_end__isnull=True) | Q(publicity_end__gte=today))
            & (Q(home_checked_on__lt=publicity) | Q(home_checked_on__isnull=True, proposed_at__lt=day_start(publicity)))
            # 乡镇审核: from the 公示's end until the township's review
            | Q(state=ProposalState.PROPOSED, publicity_end__lt=min(today, cutoff(ProcedureStep.ELIMINATION_TOWNSHIP)))
            # 县级审定: from the township's review until the county's decision
            | Q(state=ProposalState.REVIEWED, reviewed_at__lt=day_start(cutoff(ProcedureStep.ELIMINATION_COUNTY)))
        )

    return by_province_condition(village_path="target__household__village_id", build=build, limits=limits)


# -- the elimination 公示名单 -------------------------------------------------------------------------
ELIMINATION_REASONS: dict[str, str] = {
    ProposalMethod.ASSISTED: "经帮扶，家庭收入稳定达到监测标准以上，“两不愁三保障”及饮水安全有保障，返贫致贫风险已消除",
    ProposalMethod.NATURAL: "家庭收入稳定达到监测标准以上，“两不愁三保障”及饮水安全有保障，返贫致贫风险已自然消除",
}


@dataclass(frozen=True)
class EliminationPublicityRow:
    """What the printed list shows: never 身份证号, phone, bank account or health detail."""

    name: str
    village: str
    family_size: int
    category: str
    method: str
    reason: str
    start: dt.date
    end: dt.date


def elimination_publicity_village(*, user: Any, code: str) -> Region | None:
    """The village ``code`` if it is in the user's scope."""
    return Region.objects.for_user(user).filter(code=code, level=Region.Level.VILLAGE).select_related("parent").first()


def elimination_publicity_rows(*, user: Any, village_code: str, today: dt.date) -> list[EliminationPublicityRow]:
    """The village's households in 公示 for 风险消除 (posted, not yet reviewed, posting not ended
    before ``today``).  Two queries whatever the number of rows."""
    qs = (
        EliminationProposal.objects.for_user(user)
        .filter(
            target__household__village_id=village_code,
            state=ProposalState.PROPOSED,
            publicity_start__isnull=False,
            publicity_end__gte=today,
        )
        .select_related("target__household__village")
        .annotate(
            head_name=Member.objects.head_name_of("target__household"),
            persons=Subquery(
                Member.objects.current()
                .filter(household=OuterRef("target__household"))
                .values("household")
                .annotate(n=Count("id"))
                .values("n")[:1]
            ),
        )
        .order_by("target__household__household_no")
    )
    return [
        EliminationPublicityRow(
            name=p.head_name or NO_HEAD,  # type: ignore[attr-defined]
            village=p.target.household.village.name,
            family_size=int(p.persons or 0),  # type: ignore[attr-defined]
            category=p.target.get_category_display(),
            method=p.get_method_display(),
            reason=ELIMINATION_REASONS.get(p.method, ""),
            start=p.publicity_start,  # type: ignore[arg-type]
            end=p.publicity_end,  # type: ignore[arg-type]
        )
        for p in qs
    ]


def elimination_publicity_villages(*, user: Any, today: dt.date) -> list[Region]:
    """The villages in scope with households in 公示 for 风险消除 (links to their lists)."""
    codes = (
        EliminationProposal.objects.for_user(user)
        .filter(state=ProposalState.PROPOSED, publicity_start__isnull=False, publicity_end__gte=today)
        .values_list("target__household__village_id", flat=True)
        .distinct()
    )
    return list(Region.objects.filter(code__in=list(codes)).select_related("parent").order_by("code"))
