"""办理时限 of a lead's identification steps (SPEC §5.6; decision 2026-12-04-working-days-and-time-limits).

Each step has a start, a due date (the province's limit counted on the stored working-day calendar,
``monitoring.selectors.calendar``), the day it was done, and a status:

=====================  ==========================================  =========================================
step                   starts                                      done
=====================  ==========================================  =========================================
受理 ACCEPT            the lead's raise date                       ``accepted_on`` (else the home check)
入户核实 HOME_CHECK    ``accepted_on`` (else the home check)       ``home_checked_on``
信息比对 COMPARISON    ``home_checked_on``                         every 信息比对 recorded (``comparisons_done_on``)
民主评议和公示         ``home_checked_on``                         ``publicity_end`` once it is past
乡镇审核               ``publicity_end`` once it is past           ``reviewed_at`` (or the lead is 乡镇已审核)
县级审定               ``reviewed_at``                             ``decided_at``
识别全流程 WHOLE       the lead's raise date                       ``decided_at``
=====================  ==========================================  =========================================

信息比对 and 民主评议和公示 run side by side after the home check (the village records the appraisal
and the 公示 in its verification; the county compares beside it). A step is **open** while the lead
is open, the step has started and is not done; an open step is overdue when ``today`` is after its
due date (``WorkingCalendar.is_overdue``). ``leads_overdue_condition`` is the same rule as one SQL
condition (start < ``overdue_cutoff`` per step and province), so the queue's 「超期」 filter and the
lead page agree; ``tests/monitoring/test_deadlines.py`` holds them together at every boundary.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.utils import timezone

from fanpin.core.regions import province_code_of
from monitoring.models import Lead, LeadState
from monitoring.models.calendar import DayUnit, ProcedureStep
from monitoring.selectors.calendar import StepLimit, WorkingCalendar, step_limits_by_province

IDENTIFICATION_STEPS: tuple[str, ...] = (
    ProcedureStep.ACCEPT,
    ProcedureStep.HOME_CHECK,
    ProcedureStep.COMPARISON,
    ProcedureStep.APPRAISAL_PUBLICITY,
    ProcedureStep.TOWNSHIP_REVIEW,
    ProcedureStep.COUNTY_DECISION,
    ProcedureStep.WHOLE,
)
STEP_LABELS = dict(ProcedureStep.choices)
OPEN_STATES = (LeadState.NEW, LeadState.VERIFIED, LeadState.REVIEWED)

NOT_STARTED = "NOT_STARTED"
IN_PROGRESS = "IN_PROGRESS"
DONE = "DONE"
DONE_LATE = "DONE_LATE"
OVERDUE = "OVERDUE"
SKIPPED = "SKIPPED"
STATUS_LABELS = {
    NOT_STARTED: "未开始",
    IN_PROGRESS: "办理中",
    DONE: "已办结",
    DONE_LATE: "已办结（超期）",
    OVERDUE: "已超期",
    SKIPPED: "未经此环节",
}


@dataclass(frozen=True)
class StepDeadline:
    step: str
    limit: StepLimit
    start: dt.date | None
    due: dt.date | None
    done_on: dt.date | None
    status: str
    late_days: int = 0  # days past due (in the limit's unit), for 已超期 and 已办结（超期）

    @property
    def label(self) -> str:
        return STEP_LABELS[self.step]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def overdue(self) -> bool:
        return self.status == OVERDUE

    @property
    def late(self) -> bool:
        return self.status in (OVERDUE, DONE_LATE)

    @property
    def late_text(self) -> str:
        """``超期 3 个工作日`` (``""`` when on time; a weekend right after the due day is 0 working days)."""
        if not self.late:
            return ""
        if self.late_days < 1:
            return "已过期限"
        return f"超期 {self.late_days} 个{DayUnit(self.limit.unit).label}"

    @property
    def open(self) -> bool:
        return self.status in (IN_PROGRESS, OVERDUE)


@dataclass(frozen=True)
class LeadDeadlines:
    lead_id: int
    steps: list[StepDeadline]
    notice: str  # the calendar is sample data / missing for a year shown (``""``: published data)

    @property
    def overdue(self) -> bool:
        return any(s.overdue for s in self.steps)

    @property
    def current(self) -> StepDeadline | None:
        """The open step due first (an overdue one before others; the whole procedure only when no
        other step is open)."""
        open_steps = [s for s in self.steps if s.open and s.step != ProcedureStep.WHOLE]
        if not open_steps:
            open_steps = [s for s in self.steps if s.open]
        if not open_steps:
            return None
        return min(open_steps, key=lambda s: (not s.overdue, s.due or dt.date.max))


def _local(value: dt.datetime | None) -> dt.date | None:
    return timezone.localdate(value) if value is not None else None


def comparisons_tracked() -> bool:
    try:
        from monitoring.selectors import comparisons
    except ImportError:  # 信息比对 not built: the step is not tracked
        return False
    return hasattr(comparisons, "comparisons_done_on")


def _comparisons_done(lead_ids: list[int]) -> dict[int, dt.date | None] | None:
    if not comparisons_tracked():
        return None
    from monitoring.selectors.comparisons import comparisons_done_on

    return comparisons_done_on(lead_ids=lead_ids)


@dataclass(frozen=True, slots=True)
class LeadDates:
    """The fields of a lead its deadlines are computed from, as an export reads them (a tuple per
    row: building a model instance for each of 140 000 rows cost more than the deadlines)."""

    pk: int
    state: str
    raised_at: dt.datetime
    accepted_on: dt.date | None
    home_checked_on: dt.date | None
    publicity_end: dt.date | None
    reviewed_at: dt.datetime | None
    decided_at: dt.datetime | None


def _step_facts(
    lead: Lead | LeadDates, *, today: dt.date, comparison_done: dt.date | None, tracked: bool
) -> list[tuple[str, dt.date | None, bool, dt.date | None]]:
    """(step, start, done?, done on) for each step, from the lead's recorded dates."""
    raised = timezone.localdate(lead.raised_at)
    accepted = lead.accepted_on or lead.home_checked_on
    home = lead.home_checked_on
    publicity_done = lead.publicity_end is not None and lead.publicity_end < today
    reviewed = _local(lead.reviewed_at)
    decided = _local(lead.decided_at)
    facts: list[tuple[str, dt.date | None, bool, dt.date | None]] = [
        (ProcedureStep.ACCEPT, raised, accepted is not None, accepted),
        (ProcedureStep.HOME_CHECK, accepted, home is not None, home),
    ]
    if tracked:
        facts.append((ProcedureStep.COMPARISON, home, comparison_done is not None, comparison_done))
    facts += [
        (
            ProcedureStep.APPRAISAL_PUBLICITY,
            home,
            publicity_done,
            lead.publicity_end if publicity_done else None,
        ),
        (
            ProcedureStep.TOWNSHIP_REVIEW,
            lead.publicity_end if publicity_done else None,
            reviewed is not None or lead.state == LeadState.REVIEWED,
            reviewed,
        ),
        (ProcedureStep.COUNTY_DECISION, reviewed, decided is not None and reviewed is not None, decided),
        (ProcedureStep.WHOLE, raised, decided is not None, decided),
    ]
    return facts


def lead_deadlines_compute(
    lead: Lead | LeadDates,
    *,
    today: dt.date,
    calendar: WorkingCalendar,
    limits: dict[str, StepLimit],
    comparison_done: dt.date | None = None,
    comparisons_tracked: bool = False,
) -> LeadDeadlines:
    """The steps of one lead (no query: the calendar and the province's limits are given)."""
    steps: list[StepDeadline] = []
    shown: list[dt.date | None] = []
    is_open = lead.state in OPEN_STATES
    for step, start, done, done_on in _step_facts(
        lead, today=today, comparison_done=comparison_done, tracked=comparisons_tracked
    ):
        limit = limits[step]
        due = calendar.due(start, limit) if start is not None else None
        late = 0
        if done:
            status = DONE
            if due is not None and done_on is not None and done_on > due:
                status, late = DONE_LATE, calendar.days_late(limit=limit, due=due, end=done_on)
        elif not is_open:
            status = SKIPPED
        elif start is None or due is None or start > today:
            status = NOT_STARTED
        elif today > due:
            status, late = OVERDUE, calendar.days_late(limit=limit, due=due, end=today)
        else:
            status = IN_PROGRESS
        steps.append(
            StepDeadline(step=step, limit=limit, start=start, due=due, done_on=done_on, status=status, late_days=late)
        )
        shown += [start, due]
    return LeadDeadlines(lead_id=lead.pk, steps=steps, notice=calendar.notice(shown))


def leads_deadlines(*, leads: Sequence[Lead], today: dt.date) -> dict[int, LeadDeadlines]:
    """The steps of many leads (a page of the queue, one lead page) in three queries: the calendar,
    the provinces' limits and the 信息比对 done dates. Each lead needs ``household`` (its village code)."""
    calendar = WorkingCalendar.load(around=today)
    defaults, provinces = step_limits_by_province()
    ids = [lead.pk for lead in leads]
    done = _comparisons_done(ids) if ids else {}
    tracked = done is not None
    return {
        lead.pk: lead_deadlines_compute(
            lead,
            today=today,
            calendar=calendar,
            limits=provinces.get(province_code_of(lead.household.village_id), defaults),
            comparison_done=(done or {}).get(lead.pk),
            comparisons_tracked=tracked,
        )
        for lead in leads
    }


def lead_deadlines(*, lead: Lead, today: dt.date) -> LeadDeadlines:
    return leads_deadlines(leads=[lead], today=today)[lead.pk]


# -- set-based: the same rule as SQL -------------------------------------------------------------
def day_start(day: dt.date) -> dt.datetime:
    """The first instant of a local day: ``localdate(x) < day`` ⇔ ``x < day_start(day)``."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def comparisons_pending_condition(prefix: str = "") -> Q:
    """信息比对 not complete: no active source, an active source without a result for the lead, or
    a 有异常 without the county's judgement (the rule of ``comparisons_done_on``, as SQL)."""
    from monitoring.models.comparisons import ComparisonSource, DataComparison
    from monitoring.selectors.comparisons import unjudged_issue_condition

    lead_ref = OuterRef(OuterRef(f"{prefix}pk"))
    active = ComparisonSource.objects.filter(active=True)
    missing = active.filter(~Exists(DataComparison.objects.filter(lead_id=lead_ref, source_id=OuterRef("pk"))))
    # no active source at all: never complete (as comparisons_done_on says)
    return ~Q(Exists(active)) | Q(Exists(missing)) | unjudged_issue_condition(prefix)


def _steps_overdue_condition(
    *, limits: dict[str, StepLimit], calendar: WorkingCalendar, today: dt.date, prefix: str, tracked: bool
) -> Q:
    def cutoff(step: str) -> dt.date:
        return calendar.overdue_cutoff(limit=limits[step], today=today)

    p = prefix
    steps = [
        # 受理: not accepted and no home check, raised before the cutoff
        Q(**{f"{p}accepted_on__isnull": True, f"{p}home_checked_on__isnull": True})
        & Q(**{f"{p}raised_at__lt": day_start(cutoff(ProcedureStep.ACCEPT))}),
        # 入户核实: accepted, no home check
        Q(**{f"{p}home_checked_on__isnull": True, f"{p}accepted_on__lt": cutoff(ProcedureStep.HOME_CHECK)}),
        # 民主评议和公示: home checked, 公示 not recorded or not yet past
        Q(**{f"{p}home_checked_on__lt": cutoff(ProcedureStep.APPRAISAL_PUBLICITY)})
        & (Q(**{f"{p}publicity_end__isnull": True}) | Q(**{f"{p}publicity_end__gte": today})),
        # 乡镇审核: 公示 past, not reviewed
        Q(**{f"{p}state__in": [LeadState.NEW, LeadState.VERIFIED], f"{p}reviewed_at__isnull": True})
        & Q(**{f"{p}publicity_end__lt": min(today, cutoff(ProcedureStep.TOWNSHIP_REVIEW))}),
        # 县级审定: reviewed, not decided
        Q(**{f"{p}reviewed_at__lt": day_start(cutoff(ProcedureStep.COUNTY_DECISION))}),
        # the whole procedure
        Q(**{f"{p}raised_at__lt": day_start(cutoff(ProcedureStep.WHOLE))}),
    ]
    if tracked:
        steps.append(
            Q(**{f"{p}home_checked_on__lt": cutoff(ProcedureStep.COMPARISON)}) & comparisons_pending_condition(p)
        )
    cond = Q()
    for step_cond in steps:
        cond |= step_cond
    return Q(**{f"{p}state__in": list(OPEN_STATES)}) & cond


LimitsByProvince = tuple[dict[str, StepLimit], dict[str, dict[str, StepLimit]]]


def by_province_condition(
    *, village_path: str, build: Callable[[dict[str, StepLimit]], Q], limits: LimitsByProvince | None = None
) -> Q:
    """``build(limits)`` for the rows of each province that sets its own time limits, and with the
    national defaults for every other row, as one condition (one query, the provinces' limits, unless
    ``limits`` — ``step_limits_by_province()`` — is given).  ``village_path``: the path to the row's
    village code."""
    defaults, provinces = limits or step_limits_by_province()
    own = Q(pk__in=[])
    elsewhere = Q()
    for province, own_limits in provinces.items():
        in_province = Q(
            **{
                f"{village_path}__gte": province_code_of(province),
                f"{village_path}__lte": province[:2].ljust(12, "9"),
            }
        )
        own |= in_province & build(own_limits)
        elsewhere &= ~in_province
    return own | (elsewhere & build(defaults))


def leads_overdue_condition(
    *,
    today: dt.date,
    prefix: str = "",
    calendar: WorkingCalendar | None = None,
    limits: LimitsByProvince | None = None,
) -> Q:
    """Leads with an overdue step on ``today``, as one condition (two queries to build it: the
    calendar and the provinces' limits). ``prefix``: the path to the lead (``"lead__"``)."""
    calendar = calendar or WorkingCalendar.load(around=today)
    tracked = comparisons_tracked()
    return by_province_condition(
        village_path=f"{prefix}household__village_id",
        build=lambda own: _steps_overdue_condition(
            limits=own, calendar=calendar, today=today, prefix=prefix, tracked=tracked
        ),
        limits=limits,
    )


def deadline_notice(*, today: dt.date, days: Iterable[dt.date | None] = ()) -> str:
    """The calendar notice for a page that shows deadlines around ``today`` (one query)."""
    return WorkingCalendar.load(around=today).notice([today, *days])


# -- exports: the current step, its due date and 是否超期 from ``values_list`` tuples -----------
EXPORT_FIELDS = (
    "pk",
    "state",
    "raised_at",
    "accepted_on",
    "home_checked_on",
    "publicity_end",
    "reviewed_at",
    "decided_at",
    "household__village_id",
)
EXPORT_COLUMNS: list[tuple[str, int]] = [("当前环节", 14), ("办理期限", 12), ("是否超期", 8)]


@dataclass
class DeadlineExport:
    """What a lead export adds: ``annotations`` and ``fields`` to read, ``cells`` of one row."""

    today: dt.date
    calendar: WorkingCalendar
    defaults: dict[str, StepLimit]
    provinces: dict[str, dict[str, StepLimit]]
    tracked: bool
    annotations: dict[str, Any]
    fields: tuple[str, ...]
    # the cells of every combination of dates met so far: most leads of an export share their
    # step dates (a day raised, nothing done yet), so each combination is computed once
    _known: dict[tuple[Any, ...], list[Any]] = field(default_factory=dict, repr=False)

    def cells(self, values: Sequence[Any]) -> list[Any]:
        _pk, state, raised_at, accepted_on, home, publicity_end, reviewed_at, decided_at, village = values[:9]
        pending = bool(values[9]) if self.tracked else True
        key = (
            state,
            timezone.localdate(raised_at),
            accepted_on,
            home,
            publicity_end,
            _local(reviewed_at),
            _local(decided_at),
            province_code_of(village),
            pending,
        )
        if (known := self._known.get(key)) is None:
            known = self._known[key] = self._cells(values[:9], pending)
        return list(known)

    def _cells(self, values: Sequence[Any], pending: bool) -> list[Any]:
        pk, state, raised_at, accepted_on, home, publicity_end, reviewed_at, decided_at, village = values
        lead = LeadDates(
            pk=pk,
            state=state,
            raised_at=raised_at,
            accepted_on=accepted_on,
            home_checked_on=home,
            publicity_end=publicity_end,
            reviewed_at=reviewed_at,
            decided_at=decided_at,
        )
        d = lead_deadlines_compute(
            lead,
            today=self.today,
            calendar=self.calendar,
            limits=self.provinces.get(province_code_of(village), self.defaults),
            # the due dates and 超期 need only whether the comparison is complete, not its day
            comparison_done=None if pending else (home or self.today),
            comparisons_tracked=self.tracked,
        )
        current = d.current
        if current is None:
            return ["", None, "否"]
        return [current.label, current.due, "是" if d.overdue else "否"]


def export_deadlines(*, today: dt.date) -> DeadlineExport:
    """Two queries (the calendar, the provinces' limits); the comparison state is read in the export's
    own statement."""
    defaults, provinces = step_limits_by_province()
    tracked = comparisons_tracked()
    annotations: dict[str, Any] = {}
    fields: tuple[str, ...] = EXPORT_FIELDS
    if tracked:
        annotations["deadline_comparisons_pending"] = ExpressionWrapper(
            comparisons_pending_condition(), output_field=BooleanField()
        )
        fields = (*EXPORT_FIELDS, "deadline_comparisons_pending")
    return DeadlineExport(
        today=today,
        calendar=WorkingCalendar.load(around=today),
        defaults=defaults,
        provinces=provinces,
        tracked=tracked,
        annotations=annotations,
        fields=fields,
    )
