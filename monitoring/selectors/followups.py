"""Reads of the green channel's follow-ups (绿色通道待补办, SPEC §5.6).

A follow-up is due by the province's ``FOLLOW_UP`` limit counted from ``opened_on`` (the day of the
县级直接确定) on the working-day calendar; it is **overdue** when still open after its due day (on
the due day it is on time). Lists filter overdue rows set-based: per province with a limit of its
own, ``opened_on < WorkingCalendar.overdue_cutoff(...)`` — one query for the limits, one for the
calendar, whatever the number of rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet, Subquery
from django.utils import timezone

from monitoring.models import (
    CHECKLIST_FIELDS,
    DayUnit,
    FollowUp,
    FollowUpState,
    FollowUpStep,
    Member,
    MonitoringTarget,
    ProcedureStep,
    TargetStatus,
)
from monitoring.selectors.calendar import StepLimit, WorkingCalendar, step_limits_by_province
from monitoring.selectors.deadlines import LimitsByProvince, by_province_condition
from monitoring.selectors.regions import county_name_annotation

VILLAGE_PATH = "target__household__village_id"
STATE_FILTERS = {"OPEN": "待补办", "OVERDUE": "已超期", "DONE": "已补办", "REVIEW": "需县级复核", "ALL": "全部"}


@dataclass(frozen=True)
class FollowUpLimits:
    """The ``FOLLOW_UP`` limit of every province: its own where set, else the national default."""

    default: StepLimit
    by_province: dict[str, StepLimit]  # two-digit province prefix → limit

    def for_code(self, region_code: str) -> StepLimit:
        return self.by_province.get(region_code[:2], self.default)


def follow_up_limits() -> FollowUpLimits:
    """One query (``step_limits_by_province``): the provinces whose follow-up limit is their own."""
    defaults, provinces = step_limits_by_province()
    step = str(ProcedureStep.FOLLOW_UP)
    return FollowUpLimits(
        default=defaults[step],
        by_province={code[:2]: limits[step] for code, limits in provinces.items() if limits[step] != defaults[step]},
    )


def overdue_condition(
    *, today: dt.date, limits: LimitsByProvince | None = None, calendar: WorkingCalendar | None = None
) -> Q:
    """Open and past its due day on ``today``, as a condition on ``FollowUp`` rows (each province
    by its own ``FOLLOW_UP`` limit: ``by_province_condition``)."""
    calendar = calendar or WorkingCalendar.load(around=today)
    step = str(ProcedureStep.FOLLOW_UP)
    late = by_province_condition(
        village_path=VILLAGE_PATH,
        build=lambda own: Q(opened_on__lt=calendar.overdue_cutoff(limit=own[step], today=today)),
        limits=limits,
    )
    return Q(state=FollowUpState.OPEN) & late


@dataclass(frozen=True)
class StepLine:
    code: str
    label: str
    recorded: bool


@dataclass(frozen=True)
class FollowUpStatus:
    """When a follow-up is due and how late it is on ``today`` (or was, when it was completed)."""

    due_on: dt.date
    limit: StepLimit
    overdue: bool
    late_days: int  # working days (or calendar days, by the limit's unit) past the due day
    steps: list[StepLine]

    @property
    def late_label(self) -> str:
        unit = "个工作日" if self.limit.unit == DayUnit.WORKING else "天"
        return f"{self.late_days} {unit}"


def follow_up_status(
    follow_up: FollowUp, *, today: dt.date, calendar: WorkingCalendar, limits: FollowUpLimits
) -> FollowUpStatus:
    village = follow_up.target.household.village_id
    limit = limits.for_code(village)
    due = calendar.due(follow_up.opened_on, limit)
    # done on the owed steps' own dates (entered later, often: the paper comes after the visit)
    done_on = (
        (follow_up.steps_done_on or timezone.localdate(follow_up.completed_at)) if follow_up.completed_at else None
    )
    overdue = calendar.is_overdue(start=follow_up.opened_on, limit=limit, today=today, done_on=done_on)
    end = done_on or today
    late = calendar.days_late(limit=limit, due=due, end=end) if overdue else 0
    steps = [
        StepLine(code=code, label=str(FollowUpStep(code).label), recorded=follow_up.step_recorded(code))
        for code in follow_up.owed_steps
    ]
    return FollowUpStatus(due_on=due, limit=limit, overdue=overdue, late_days=late, steps=steps)


@dataclass(frozen=True)
class FollowUpRow:
    follow_up: FollowUp
    status: FollowUpStatus
    # what the page says about the calendar it counted on (sample data, a year not imported), or ""
    calendar_notice: str = ""


def _head_name() -> Subquery:
    return Member.objects.head_name_of("target__household_id")


def review_waiting_condition() -> Q:
    """A 不同意 appraisal sent back to the county, not answered yet, its target still monitored."""
    return Q(county_review=True, county_reviewed_at__isnull=True, target__status=TargetStatus.ACTIVE)


def follow_ups_review_count(*, user: Any) -> int:
    return FollowUp.objects.for_user(user).filter(review_waiting_condition()).count()


def follow_ups_in_scope(
    *, user: Any, state: str = "OPEN", today: dt.date | None = None, village: str = ""
) -> QuerySet[FollowUp]:
    """The follow-ups of the user's region (deny by default), oldest first (overdue before on time):
    ``state`` one of ``STATE_FILTERS`` (``OVERDUE``: open past the due day, set-based)."""
    today = today or timezone.localdate()
    qs = FollowUp.objects.for_user(user)
    if village:
        qs = qs.filter(target__household__village_id=village)
    if state == "OPEN":
        qs = qs.filter(state=FollowUpState.OPEN)
    elif state == "DONE":
        qs = qs.filter(state=FollowUpState.DONE)
    elif state == "OVERDUE":
        qs = qs.filter(overdue_condition(today=today))
    elif state == "REVIEW":
        qs = qs.filter(review_waiting_condition())
    return (
        qs.select_related("target__household__village__parent")
        .annotate(head_name=_head_name(), **county_name_annotation(user=user, village="target__household__village"))
        .order_by("opened_on", "id")
    )


def follow_up_rows(follow_ups: Any, *, today: dt.date | None = None) -> list[FollowUpRow]:
    """The rows with their due dates: two queries (limits, calendar), whatever their number."""
    today = today or timezone.localdate()
    rows = list(follow_ups)
    if not rows:
        return []
    limits = follow_up_limits()
    calendar = WorkingCalendar.load(around=today)
    statuses = [follow_up_status(f, today=today, calendar=calendar, limits=limits) for f in rows]
    notice = calendar.notice([today, *(s.due_on for s in statuses)])
    return [
        FollowUpRow(follow_up=f, status=status, calendar_notice=notice)
        for f, status in zip(rows, statuses, strict=True)
    ]


def follow_ups_overdue_count(*, user: Any, today: dt.date | None = None) -> int:
    """What the 待办 counts: the list's 已超期 filter."""
    return follow_ups_in_scope(user=user, state="OVERDUE", today=today).count()


def follow_ups_open_count(*, user: Any) -> int:
    return FollowUp.objects.for_user(user).filter(state=FollowUpState.OPEN).count()


def follow_up_detail(*, user: Any, pk: int) -> FollowUp:
    """One follow-up in scope (``FollowUp.DoesNotExist`` outside)."""
    return (
        FollowUp.objects.for_user(user)
        .select_related(
            "target__household__village__parent",
            "lead",
            "opened_by",
            "home_check_recorded_by",
            "appraisal_recorded_by",
            "publicity_recorded_by",
        )
        .annotate(head_name=_head_name())
        .get(pk=pk)
    )


def follow_up_of_target(*, target: MonitoringTarget, today: dt.date | None = None) -> FollowUpRow | None:
    """The target page's 「绿色通道待补办」 panel (None: the target owes nothing)."""
    follow_up = (
        FollowUp.objects.filter(target_id=target.pk)
        .select_related("target__household", "home_check_recorded_by", "appraisal_recorded_by", "publicity_recorded_by")
        .first()
    )
    if follow_up is None:
        return None
    return follow_up_rows([follow_up], today=today)[0]


def checklist_lines(follow_up: FollowUp) -> list[tuple[str, bool]]:
    """The recorded 两不愁三保障 checklist as (label, secured), in the SPEC's order."""
    return [(label, bool(follow_up.home_checklist.get(name))) for name, label in CHECKLIST_FIELDS]
