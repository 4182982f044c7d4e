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
