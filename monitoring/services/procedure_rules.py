"""The date rules of the village's steps (入户核实, 民主评议, 公示), shared by the lead's 村级核实
(``review.verification_errors``) and the green channel's follow-up (``followups``): one wording, one
place.  Pure functions: field name → Chinese message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from monitoring.models import MIN_PUBLICITY_DAYS


def _cn(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def publicity_errors(
    *, appraisal_on: dt.date | None, publicity_start: dt.date, publicity_end: dt.date
) -> dict[str, str]:
    """公示 lasts ≥ ``MIN_PUBLICITY_DAYS`` days counted inclusively; the 民主评议 is held on or before
    its first day (``appraisal_on`` None: not checked)."""
    errors: dict[str, str] = {}
    if publicity_end < publicity_start:
        errors["publicity_end"] = "公示结束日期不能早于开始日期。"
    elif (publicity_end - publicity_start).days + 1 < MIN_PUBLICITY_DAYS:
        errors["publicity_end"] = f"公示期不少于 {MIN_PUBLICITY_DAYS} 天（含首尾两天）。"
    if appraisal_on is not None and appraisal_on > publicity_start:
        errors["appraisal_on"] = "民主评议应在公示开始之前或当天进行。"
    return errors


def step_dates_errors(
    *, dates: Mapping[str, tuple[str, dt.date]], today: dt.date, raised_on: dt.date | None = None
) -> dict[str, str]:
    """Each date (field → (label, day)) lies between the lead's raising and today: a step back-dated
    before the lead existed would skip the time it takes."""
    errors: dict[str, str] = {}
    for name, (label, day) in dates.items():
        if day > today:
            errors[name] = f"{label}不能晚于今天。"
        elif raised_on is not None and day < raised_on:
            errors[name] = f"{label}不能早于线索发现日期（{_cn(raised_on)}）。"
    return errors
