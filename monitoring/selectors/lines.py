"""Monitoring lines: the national figure, overridden by a province's own (SPEC §2)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Q

from monitoring.models import MonitoringLine


def monitoring_lines_for_province(*, province_code: str, years: Iterable[int]) -> dict[int, Decimal]:
    """{year: effective line} for a province: its own line if set, else the national one."""
    years = sorted(set(years))
    if not years:
        return {}
    result: dict[int, Decimal] = {}
    rows = MonitoringLine.objects.filter(
        Q(province__isnull=True) | Q(province_id=province_code), year__in=years
    ).values_list("year", "province_id", "line")
    # national rows first, then the province's own overrides them
    for year, _province_id, line in sorted(rows, key=lambda r: r[1] is not None):
        result[year] = line
    return result


def monitoring_line_for(*, year: int, province_code: str) -> Decimal | None:
    return monitoring_lines_for_province(province_code=province_code, years=[year]).get(year)


def monitoring_line_year_latest(*, province_code: str, up_to: int) -> int | None:
    """The latest year ≤ ``up_to`` with a line for the province (its own or the national one), or
    None: the 12-month 核算 judges with the end year's line, or the latest one set before it."""
    return (
        MonitoringLine.objects.filter(Q(province__isnull=True) | Q(province_id=province_code), year__lte=up_to)
        .order_by("-year")
        .values_list("year", flat=True)
        .first()
    )
