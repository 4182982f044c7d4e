"""Reads for screening: parameters, the rule settings of a county, runs, the what-if preview."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from fanpin.core.regions import province_code_of
from monitoring.models import Household, Region, ScreeningParameters, ScreeningRun
from monitoring.models.screening_rules import RuleSettings, rule_parameters
from monitoring.selectors.lines import monitoring_line_for
from monitoring.selectors.province_parameters import (
    national_parameters_get,
    parameter_values_by_province,
    parameter_values_for,
)
from monitoring.selectors.screening_sql import screening_compare_by_county


def screening_parameters_get() -> ScreeningParameters:
    """The national parameter row (seeded by migration 0003; created with the SPEC defaults if absent)."""
    return national_parameters_get()


def rule_settings_for(*, county_code: str, year: int, params: ScreeningParameters | None = None) -> RuleSettings:
    """The monitoring line of the county's province for ``year`` and every rule parameter's value
    there: the province's own, else the national one (``params``, the national row, when the caller
    has it) — the one place a county's rule values are resolved
    (``monitoring.selectors.province_parameters``)."""
    values = parameter_values_for(province_code=province_code_of(county_code), national=params)
    return RuleSettings(
        line=monitoring_line_for(year=year, province_code=province_code_of(county_code)),
        values={p.name: values[p.name] for p in rule_parameters()},
    )


def counties_with_households(*, prefix: str) -> list[str]:
    """Codes of the counties below ``prefix`` that have at least one household (one query)."""
    codes = (
        Region.objects.within(prefix).filter(level=Region.Level.COUNTY).order_by("code").values_list("code", flat=True)
    )
    lo, hi = prefix.ljust(12, "0"), prefix.ljust(12, "9")
    # order_by(): the model's default ordering would add household_no to the DISTINCT.
    populated = {
        village[:6]
        for village in Household.objects.filter(village_id__gte=lo, village_id__lte=hi)
        .order_by()
        .values_list("village_id", flat=True)
        .distinct()
    }
    return [code for code in codes if code[:6] in populated]


def screening_runs_for(*, user: Any) -> QuerySet[ScreeningRun]:
    """The runs the user may see, newest first: the top-level ones, and a county's part of a
    province's or city's run the user may not open (a county officer's own county in the province's
    screening: the list said 还没有筛查记录 though the county had been screened)."""
    visible = ScreeningRun.objects.for_user(user)
    return (
        visible.filter(Q(parent__isnull=True) | ~Q(parent__in=visible.values("pk")))
        .select_related("region", "parent__region", "started_by")
        .order_by("-created_at", "-id")
    )


def screening_run_detail(*, user: Any, pk: int) -> ScreeningRun:
    return ScreeningRun.objects.for_user(user).select_related("region", "started_by").get(pk=pk)


def screening_run_parent(*, user: Any, run: ScreeningRun) -> ScreeningRun | None:
    """The province's or city's run ``run`` is a county of, when ``user`` may open it (a county
    officer's own county run has none to link to)."""
    if run.parent_id is None:
        return None
    return ScreeningRun.objects.for_user(user).select_related("region").filter(pk=run.parent_id).first()


@dataclass(frozen=True)
class PreviewRow:
    county_code: str
    county_name: str
    households: int
    current: int
    proposed: int

    @property
    def change(self) -> int:
        return self.proposed - self.current


def screening_preview(
    *,
    year: int,
    prefix: str = "",
    values: Mapping[str, Decimal] | None = None,
    line: Decimal | None = None,
    line_province_code: str | None = None,
    values_province_code: str | None = None,
) -> list[PreviewRow]:
    """Per county: households in scope (any rule fires) under the current values and under the
    proposed ones.  Nothing is written.

    ``values`` (rule parameter name → proposed value; the others stay as they are): proposed
    national values — each applies in the provinces that do not set that parameter themselves —
    or, with ``values_province_code``, the proposed values of that province, and only its counties
    are previewed.  A proposed ``line`` applies to one province (``line_province_code``) or,
    without it, as the national line to every province without its own.
    One counting statement per province below ``prefix`` (both scenarios at once), plus look-ups.
    """
    from monitoring.models import MonitoringLine

    params = screening_parameters_get()
    by_province = parameter_values_by_province(national=params)
    provinces_with_own = set(
        MonitoringLine.objects.filter(year=year, province__isnull=False).values_list("province_id", flat=True)
    )
    if values_province_code:
        prefix = province_code_of(values_province_code)[:2]
    county_names = dict(Region.objects.within(prefix).filter(level=Region.Level.COUNTY).values_list("code", "name"))
    if len(prefix) >= 2:
        scopes = [prefix]
    else:
        scopes = [p[:2] for p in Region.objects.filter(level=Region.Level.PROVINCE).values_list("code", flat=True)]
    rows: list[PreviewRow] = []
    for scope in sorted(scopes):
        province = province_code_of(scope)
        in_force = by_province.of(province)
        current = RuleSettings(
            line=monitoring_line_for(year=year, province_code=province),
            values={p.name: in_force[p.name] for p in rule_parameters()},
        )
        proposed_line = current.line
        if line is not None:
            if line_province_code:
                if line_province_code == province:
                    proposed_line = line
            elif province not in provinces_with_own:
                proposed_line = line
        proposed_values = dict(values or {})
        if not values_province_code:  # national values: not where the province sets its own
            own = by_province.own.get(province, {})
            proposed_values = {name: value for name, value in proposed_values.items() if name not in own}
        proposed = RuleSettings(line=proposed_line, values={**current.values, **proposed_values})
        counts = screening_compare_by_county(prefix=scope, year=year, current=current, proposed=proposed)
        rows += [
            PreviewRow(
                county_code=county,
                county_name=county_names.get(county, county),
                households=c.households,
                current=c.current,
                proposed=c.proposed,
            )
            for county, c in sorted(counts.items())
        ]
    return rows
