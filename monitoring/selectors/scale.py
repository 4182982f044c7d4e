"""监测规模 (SPEC 4.4): per county, active targets ÷ members of 脱贫户 households (建档立卡人口).

One unit on both sides: persons.  The 2020 guidance sets the scale as 监测对象规模 ≈ 5 % of
建档立卡人口 (persons), so the targets are counted in persons too: the members of the households
that are active monitoring targets (监测对象人数 ÷ 建档立卡人口;
docs/decisions/2026-12-03-monitoring-ratio.md).  The number of target households is kept beside it
for display.

Information only (应纳尽纳): dashboards show it and highlight a county above its cap (5 %, or 10 %
in a 深度贫困地区) or below the floor (1 %); it never blocks anything.  Three queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q

from monitoring.models import HouseholdType, Member, MemberStatus, MonitoringTarget, Region, TargetStatus
from monitoring.selectors.province_parameters import parameter_values_by_province


@dataclass(frozen=True)
class ScaleRow:
    county_code: str
    county_name: str
    is_deep_poverty: bool
    active_targets: int  # households
    target_population: int  # members of those households (the numerator)
    registered_population: int
    cap: Decimal
    floor: Decimal

    @property
    def ratio(self) -> Decimal | None:
        if not self.registered_population:
            return None
        return Decimal(self.target_population) / Decimal(self.registered_population)

    @property
    def above_cap(self) -> bool:
        return self.ratio is not None and self.ratio > self.cap

    @property
    def below_floor(self) -> bool:
        return self.ratio is not None and self.ratio < self.floor


def scale_check(*, user: Any | None = None, prefix: str = "") -> list[ScaleRow]:
    """One row per county within ``prefix`` (and the user's scope, when given)."""
    counties: Any = Region.objects.filter(level=Region.Level.COUNTY)
    targets: Any = MonitoringTarget.objects.filter(status=TargetStatus.ACTIVE)
    members: Any = Member.objects.current().filter(household__household_type=HouseholdType.EXITED)
    if user is not None:
        counties, targets, members = counties.for_user(user), targets.for_user(user), members.for_user(user)
    if prefix:
        counties, targets, members = counties.within(prefix), targets.within(prefix), members.within(prefix)
    # one query: target households and their members (one active target per household, a constraint)
    by_county_targets = _count_by_county(
        targets,
        "household__village_id",
        households=Count("pk", distinct=True),
        persons=Count("household__members", filter=Q(household__members__status=MemberStatus.ACTIVE)),
    )
    by_county_members = _count_by_county(members, "household__village_id")
    counties = list(counties.order_by("code"))
    # each county's province's bounds (its own, else the national ones): two queries
    by_province = parameter_values_by_province(province_codes={county.code for county in counties})
    rows = []
    for county in counties:
        params = by_province.of(county.code)
        rows.append(
            ScaleRow(
                county_code=county.code,
                county_name=county.name,
                is_deep_poverty=county.is_deep_poverty,
                active_targets=by_county_targets.get(county.code[:6], {}).get("households", 0),
                target_population=by_county_targets.get(county.code[:6], {}).get("persons", 0),
                registered_population=by_county_members.get(county.code[:6], 0),
                cap=params["scale_cap_deep"] if county.is_deep_poverty else params["scale_cap_normal"],
                floor=params["scale_floor"],
            )
        )
    return rows


def _count_by_county(queryset: Any, village_path: str, **aggregates: Any) -> Any:
    """``{county prefix: n}``, or ``{county prefix: {name: n}}`` with named ``aggregates``."""
    from django.db.models.functions import Substr

    grouped = queryset.annotate(county=Substr(village_path, 1, 6)).values("county").order_by()
    if aggregates:
        return {row.pop("county"): row for row in grouped.annotate(**aggregates)}
    return dict(grouped.annotate(n=Count("pk")).values_list("county", "n"))
