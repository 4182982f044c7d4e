"""How far back and forward a department's dates may lie: 预警日期 of alerts (API and
Excel import, and the alerts made from 医保 extracts) and 结算年度 of settlement lines.

A date in the future has not happened; one before ``ALERT_MAX_AGE_YEARS`` whole calendar years ago
(from 1 January of the year that many years back) is a typing error (1900, 0202 …) or history
that no longer tells of a present risk.  docs/decisions/2026-12-03-department-dates.md explains the choice.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

ALERT_MAX_AGE_YEARS = 5


def alert_earliest_date(*, today: dt.date | None = None) -> dt.date:
    """1 January of the year ``ALERT_MAX_AGE_YEARS`` before this one."""
    return dt.date((today or timezone.localdate()).year - ALERT_MAX_AGE_YEARS, 1, 1)


def alert_date_error(day: dt.date, *, label: str = "预警日期") -> str:
    """Why ``day`` is refused (Chinese, naming ``label`` and the date), or ``""``."""
    today = timezone.localdate()
    if day > today:
        return f"{label} {day.isoformat()} 晚于今天，不能是将来的日期。"
    earliest = alert_earliest_date(today=today)
    if day < earliest:
        return (
            f"{label} {day.isoformat()} 过早：只接受 {earliest.isoformat()} 及以后的日期"
            f"（近 {ALERT_MAX_AGE_YEARS} 年），请核对。"
        )
    return ""


def settlement_year_error(year: int) -> str:
    """Why 结算年度 ``year`` is refused (Chinese), or ``""``."""
    today = timezone.localdate()
    if year > today.year:
        return "结算年度不能晚于今年。"
    earliest = alert_earliest_date(today=today).year
    if year < earliest:
        return f"结算年度 {year} 过早：只接受 {earliest} 年及以后（近 {ALERT_MAX_AGE_YEARS} 年）的结算数据，请核对。"
    return ""
