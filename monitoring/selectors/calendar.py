"""Working days and step deadlines (SPEC §5.6), read from the stored calendar.

A limit of *n* working days starting on day *s* is due on the *n*-th working day after *s* (the
start day itself is not counted); *n* calendar days are due on *s* + *n*. A step is **overdue** on
``today`` when it is not done and its due date is before ``today`` (on the due day it is still on
time). For set-based filters, ``overdue_cutoff`` turns that into a comparison on the start date:
overdue ⇔ start < cutoff (and not done), since the due date grows with the start.

Load a ``WorkingCalendar`` once per request/page (one query) and ask it many times.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from fanpin.core.regions import province_code_of
from monitoring.models.calendar import (
    DEFAULT_STEP_LIMITS,
    CalendarDay,
    CalendarDayKind,
    DayUnit,
    ProcedureLimit,
    ProcedureSetting,
)

# How far around the dates asked about the calendar is read (a limit is at most 365 days; holidays
# never make 365 working days longer than two years).
_MARGIN = dt.timedelta(days=2 * 366 + 60)


@dataclass(frozen=True)
class StepLimit:
    step: str
    days: int
    unit: str  # DayUnit

    @property
    def label(self) -> str:
        return f"{self.days} 个{DayUnit(self.unit).label}"


def _shifted(day: dt.date, by: dt.timedelta) -> dt.date:
    """``day + by`` kept inside the dates Python can hold (a year 9999 typed into a form)."""
    try:
        return day + by
    except OverflowError:
        return dt.date.max if by > dt.timedelta(0) else dt.date.min


class WorkingCalendar:
    """The exceptions of the stored calendar between two dates, and working-day arithmetic."""

    def __init__(
        self,
        *,
        holidays: set[dt.date],
        workdays: set[dt.date],
        lo: dt.date,
        hi: dt.date,
        sample_years: set[int] | None = None,
    ) -> None:
        self.holidays = holidays
        self.workdays = workdays
        self.lo, self.hi = lo, hi
        # years with at least one stored day, and those whose days are sample data (not published)
        self.years = {d.year for d in holidays | workdays}
        self.sample_years = sample_years or set()
        # the day arithmetic, kept per calendar (its days never change): an export of 140 000 leads
        # asks for the same few hundred (start, limit) and (due, today) pairs over and over
        self._added: dict[tuple[dt.date, int], dt.date] = {}
        self._between: dict[tuple[dt.date, dt.date], int] = {}

    def notice(self, days: Iterable[dt.date | None]) -> str:
        """What a page showing deadlines on ``days`` says about the calendar it used: sample data,
        or no holidays stored for a year (weekdays counted as working days), else ``""``."""
        years = sorted({d.year for d in days if d is not None})
        missing = [y for y in years if y not in self.years]
        sample = [y for y in years if y in self.sample_years]
        parts = []
        if sample:
            parts.append(f"{'、'.join(map(str, sample))}年节假日安排为示例数据，请系统管理员导入正式公布的安排。")
        if missing:
            parts.append(
                f"{'、'.join(map(str, missing))}年节假日安排尚未导入，工作日暂按周一至周五计算，"
                "请系统管理员导入正式公布的安排。"
            )
        return "".join(parts)

    @classmethod
    def load(
        cls, *, around: dt.date | None = None, lo: dt.date | None = None, hi: dt.date | None = None
    ) -> WorkingCalendar:
        """One query: the stored days within ``_MARGIN`` of ``around`` (or between ``lo`` and ``hi``)."""
        around = around or timezone.localdate()
        lo = lo or _shifted(around, -_MARGIN)
        hi = hi or _shifted(around, _MARGIN)
        holidays: set[dt.date] = set()
        workdays: set[dt.date] = set()
        sample_years: set[int] = set()
        rows = CalendarDay.objects.filter(day__gte=lo, day__lte=hi).values_list("day", "kind", "sample")
        for day, kind, sample in rows:
            (holidays if kind == CalendarDayKind.HOLIDAY else workdays).add(day)
            if sample:
                sample_years.add(day.year)
        return cls(holidays=holidays, workdays=workdays, lo=lo, hi=hi, sample_years=sample_years)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def working_days_add(self, start: dt.date, days: int) -> dt.date:
        """The ``days``-th working day after ``start`` (``start`` itself not counted)."""
        key = (start, days)
        if (known := self._added.get(key)) is None:
            known = self._added[key] = self._working_days_add(start, days)
        return known

    def _working_days_add(self, start: dt.date, days: int) -> dt.date:
        day, left = start, days
        while left > 0:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when ``end`` ≤ ``start``)."""
        key = (start, end)
        if (known := self._between.get(key)) is None:
            known = self._between[key] = self._working_days_between(start, end)
        return known

    def _working_days_between(self, start: dt.date, end: dt.date) -> int:
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def due(self, start: dt.date, limit: StepLimit) -> dt.date:
        if limit.unit == DayUnit.CALENDAR:
            return start + dt.timedelta(days=limit.days)
        return self.working_days_add(start, limit.days)

    def days_late(self, *, limit: StepLimit, due: dt.date, end: dt.date) -> int:
        """How late ``end`` is after ``due``, in the limit's unit (working or calendar days)."""
        if limit.unit == DayUnit.CALENDAR:
            return (end - due).days
        return self.working_days_between(due, end)

    def is_overdue(self, *, start: dt.date, limit: StepLimit, today: dt.date, done_on: dt.date | None = None) -> bool:
        """Not done by its due date: done late counts as overdue for that step, done in time not."""
        due = self.due(start, limit)
        return (done_on > due) if done_on is not None else today > due

    def overdue_cutoff(self, *, limit: StepLimit, today: dt.date) -> dt.date:
        """A step not done is overdue on ``today`` exactly when it started before this date."""
        if limit.unit == DayUnit.CALENDAR:
            return today - dt.timedelta(days=limit.days)
        # due(s) < today ⇔ at least ``days`` working days lie strictly between s and today ⇔ s is
        # before the ``days``-th working day before today.
        day, left = today, limit.days
        while left > 0:
            day -= dt.timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day


def step_limits_for(*, province_code: str) -> dict[str, StepLimit]:
    """Every step's limit in the province (one query): its own where set, else the national default."""
    limits = {
        step: StepLimit(step=str(step), days=days, unit=str(unit)) for step, (days, unit) in DEFAULT_STEP_LIMITS.items()
    }
    for step, days, unit in ProcedureLimit.objects.filter(province_code=province_code_of(province_code)).values_list(
        "step", "days", "unit"
    ):
        limits[step] = StepLimit(step=step, days=days, unit=unit)
    return limits


def step_limits_by_province() -> tuple[dict[str, StepLimit], dict[str, dict[str, StepLimit]]]:
    """One query: the national defaults, and every province that overrides any step (its full set)."""
    defaults = {
        str(step): StepLimit(step=str(step), days=days, unit=str(unit))
        for step, (days, unit) in DEFAULT_STEP_LIMITS.items()
    }
    provinces: dict[str, dict[str, StepLimit]] = {}
    for province, step, days, unit in ProcedureLimit.objects.values_list("province_code", "step", "days", "unit"):
        provinces.setdefault(province, dict(defaults))[step] = StepLimit(step=step, days=days, unit=unit)
    return defaults, provinces


def step_limit_for(*, province_code: str, step: str) -> StepLimit:
    return step_limits_for(province_code=province_code)[step]


def procedure_setting_for(*, province_code: str) -> ProcedureSetting:
    """The province's settings row, or an unsaved row with the defaults."""
    code = province_code_of(province_code)
    return ProcedureSetting.objects.filter(province_code=code).first() or ProcedureSetting(province_code=code)


def step_due(*, province_code: str, step: str, start: dt.date, calendar: WorkingCalendar | None = None) -> dt.date:
    """When a step started on ``start`` in the province is due (convenience: two queries)."""
    calendar = calendar or WorkingCalendar.load(around=start)
    return calendar.due(start, step_limit_for(province_code=province_code, step=step))
