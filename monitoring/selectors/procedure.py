"""Reads of the calendar and procedure-settings pages (SPEC §5.6)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import ExtractYear

from fanpin.core.models import AuditEntry
from monitoring.models import Region
from monitoring.models.calendar import (
    DEFAULT_STEP_LIMITS,
    CalendarDay,
    CalendarDayKind,
    ProcedureLimit,
    ProcedureSetting,
    ProcedureStep,
)
from monitoring.selectors.calendar import StepLimit


@dataclass(frozen=True)
class CalendarYear:
    year: int
    holidays: int
    workdays: int
    sample: bool


def calendar_years() -> list[CalendarYear]:
    """Every stored year with its counts and whether it is sample data (one query)."""
    rows = (
        CalendarDay.objects.annotate(y=ExtractYear("day"))
        .values("y")
        .annotate(
            holidays=Count("id", filter=Q(kind=CalendarDayKind.HOLIDAY)),
            workdays=Count("id", filter=Q(kind=CalendarDayKind.WORKDAY)),
            samples=Count("id", filter=Q(sample=True)),
        )
        .order_by("y")
    )
    return [CalendarYear(r["y"], r["holidays"], r["workdays"], r["samples"] > 0) for r in rows]


def calendar_days(*, year: int) -> QuerySet[CalendarDay]:
    return CalendarDay.objects.filter(day__gte=dt.date(year, 1, 1), day__lte=dt.date(year, 12, 31)).order_by("day")


def calendar_history(*, limit: int = 30) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(object_type="calendar").select_related("actor").order_by("-at", "-id")[:limit]


def procedure_provinces(*, user: Any) -> list[Region]:
    return list(Region.objects.for_user(user).filter(level=Region.Level.PROVINCE).order_by("code"))


@dataclass(frozen=True)
class LimitRow:
    step: str
    label: str
    limit: StepLimit
    default: StepLimit
    overridden: bool


def procedure_limit_rows(*, province_code: str) -> list[LimitRow]:
    stored = {p.step: p for p in ProcedureLimit.objects.filter(province_code=province_code)}
    rows = []
    for step, label in ProcedureStep.choices:
        days, unit = DEFAULT_STEP_LIMITS[step]
        default = StepLimit(step=step, days=days, unit=str(unit))
        own = stored.get(step)
        limit = StepLimit(step=step, days=own.days, unit=own.unit) if own else default
        rows.append(LimitRow(step=step, label=label, limit=limit, default=default, overridden=own is not None))
    return rows


def procedure_setting_row(*, province_code: str) -> ProcedureSetting | None:
    return ProcedureSetting.objects.filter(province_code=province_code).first()


def procedure_history(*, province_code: str, limit: int = 30) -> QuerySet[AuditEntry]:
    return (
        AuditEntry.objects.filter(object_type="procedure_setting", object_id=province_code)
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )
