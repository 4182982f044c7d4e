"""The reads several panels share, per child region of the region shown.

Every read is one set-based ``GROUP BY`` over the leading digits of the village code
(``Substr(village_id, 1, n)``, n = the child level's prefix length), so the number of queries is
fixed whatever the size of the region.  ``DashboardReads`` runs each read once, when the first
panel asks for it; the panels then only add up and arrange.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Substr

from assistance.models import DEVELOPMENTAL_CATEGORIES, MeasureCategory, MeasureStatus, TargetMeasure
from assistance.selectors.dashboard.common import LEVELS, OPEN_STATES, leads_of_year, level_of, prefix_of
from assistance.selectors.plans import UNASSISTED_AFTER_DAYS
from assistance.selectors.recommendation import FULL_LABOR
from fanpin.core.scoping import LEVEL_PREFIX_LENGTH
from monitoring.models import (
    Household,
    Lead,
    LeadSource,
    LeadState,
    Member,
    MonitoringTarget,
    Region,
    RiskType,
    TargetCategory,
    TargetStatus,
)
from monitoring.models.households import MEMBER_CURRENT, Labor
from monitoring.selectors.calendar import WorkingCalendar, step_limits_by_province
from monitoring.selectors.deadlines import LimitsByProvince
from monitoring.selectors.leads import _json_list_has, overdue_cutoff
from monitoring.selectors.scale import ScaleRow, scale_check

Grouped = dict[str, dict[str, int]]  # child region prefix → figure name → count


@dataclass(frozen=True)
class DashboardScope:
    """The region shown, the year asked for, and who asks (scoping every read)."""

    user: Any
    code: str  # "" = everything
    name: str
    year: int
    today: dt.date
    now: dt.datetime | None  # a fixed time (tests, snapshots computed ahead); None = now

    @property
    def level(self) -> str:
        return level_of(self.code)

    @property
    def prefix(self) -> str:
        return prefix_of(self.code)

    @property
    def child_level(self) -> str:
        if not self.level:
            return "PROVINCE"
        if self.level == "VILLAGE":
            return "VILLAGE"  # a village has no children: its own row
        return LEVELS[LEVELS.index(self.level) + 1]

    @property
    def n(self) -> int:
        """Digits of the village code that name a child region."""
        return LEVEL_PREFIX_LENGTH[self.child_level]

    @property
    def as_of(self) -> dt.date:
        """Figures *as of the end of the year* are as of today for the current year."""
        return min(dt.date(self.year, 12, 31), self.today)


def total(grouped: Grouped, key: str) -> int:
    return sum(row.get(key, 0) for row in grouped.values())


def _grouped(qs: Any, path: str, n: int, **aggregates: Any) -> Grouped:
    rows = qs.annotate(child=Substr(path, 1, n)).values("child").order_by().annotate(**aggregates)
    return {row.pop("child"): row for row in rows}


def _by_capacity(qs: Any, **aggregates: Any) -> Grouped:
    """Aggregates per child region, also split by labor capacity (``{name}_{FULL|PARTIAL|NONE}``)."""
    out: Grouped = {}
    for row in qs.values("child", "full", "weak").order_by().annotate(**aggregates):
        capacity = "FULL" if row.pop("full") else "PARTIAL" if row.pop("weak") else "NONE"
        row.pop("weak", None)
        into = out.setdefault(row.pop("child"), {})
        for name, value in row.items():
            into[name] = into.get(name, 0) + value
            into[f"{name}_{capacity}"] = into.get(f"{name}_{capacity}", 0) + value
    return out


class DashboardReads:
    """The shared reads of one dashboard, each run once on first use (one query each)."""

    def __init__(self, scope: DashboardScope) -> None:
        self.scope = scope

    def scoped(self, model: Any) -> Any:
        """``model``'s rows the user sees, within the region shown."""
        qs = model.objects.for_user(self.scope.user)
        return qs.within(self.scope.prefix) if self.scope.prefix else qs

    @cached_property
    def calendar(self) -> WorkingCalendar:
        """The working-day calendar around the dashboard's day (one query)."""
        return WorkingCalendar.load(around=self.scope.today)

    @cached_property
    def step_limits(self) -> LimitsByProvince:
        """The national time limits and every province's own (one query)."""
        return step_limits_by_province()

    @cached_property
    def children(self) -> list[tuple[str, str]]:
        """(code, name) of the child regions, the rows of the regions table (a village: itself)."""
        s = self.scope
        if s.level == "VILLAGE":
            return [(s.code, s.name)]
        if not s.level:
            return list(Region.objects.filter(level="PROVINCE").order_by("code").values_list("code", "name"))
        return list(Region.objects.filter(parent_id=s.code).order_by("code").values_list("code", "name"))

    @cached_property
    def households(self) -> Grouped:
        return _grouped(
            self.scoped(Household),
            "village_id",
            self.scope.n,
            households=Count("pk"),
            exited=Count("pk", filter=Q(household_type=Household.Type.EXITED)),
        )

    @cached_property
    def members(self) -> Grouped:
        """建档立卡人口: the members of 脱贫户 households."""
        return _grouped(
            self.scoped(Member).filter(MEMBER_CURRENT, household__household_type=Household.Type.EXITED),
            "household__village_id",
            self.scope.n,
            registered=Count("pk"),
        )

    @cached_property
    def targets(self) -> Grouped:
        """Targets identified by the end of the year: monitored then vs eliminated by then, by
        category and (monitored) by risk type."""
        s = self.scope
        eliminated_by = Q(status=TargetStatus.ELIMINATED, eliminated_on__lte=s.as_of)
        monitored = ~eliminated_by
        aggregates: dict[str, Any] = {
            "identified": Count("pk"),
            "monitored": Count("pk", filter=monitored),
            "eliminated": Count("pk", filter=eliminated_by),
            "new": Count("pk", filter=Q(identified_on__year=s.year)),
            "eliminated_year": Count("pk", filter=eliminated_by & Q(eliminated_on__year=s.year)),
        }
        for cat in TargetCategory.values:
            aggregates[f"cat_m_{cat}"] = Count("pk", filter=monitored & Q(category=cat))
            aggregates[f"cat_e_{cat}"] = Count("pk", filter=eliminated_by & Q(category=cat))
        for risk in RiskType.values:
            aggregates[f"risk_{risk}"] = Count("pk", filter=monitored & _json_list_has("risk_types", risk))
        return _grouped(
            self.scoped(MonitoringTarget).filter(identified_on__lte=s.as_of),
            "household__village_id",
            s.n,
            **aggregates,
        )

    @cached_property
    def active(self) -> Grouped:
        """Current active targets by labor capacity, and 帮扶未落实 among them (grouped by the two
        labor flags, so each correlated subquery runs once per row rather than once per aggregate)."""
        s = self.scope
        household_members = Member.objects.current().filter(household=OuterRef("household"))
        open_measures = TargetMeasure.objects.filter(target=OuterRef("pk")).exclude(status=MeasureStatus.TERMINATED)
        overdue_plan = Q(identified_on__lte=s.today - dt.timedelta(days=UNASSISTED_AFTER_DAYS))
        return _by_capacity(
            self.scoped(MonitoringTarget)
            .filter(status=TargetStatus.ACTIVE)
            .annotate(
                child=Substr("household__village_id", 1, s.n),
                full=Exists(household_members.filter(labor__in=FULL_LABOR)),
                weak=Exists(household_members.filter(labor=Labor.WEAK)),
            ),
            active=Count("pk"),
            unassisted=Count("pk", filter=overdue_plan & ~Exists(open_measures)),  # type: ignore[operator,arg-type]
        )

    @cached_property
    def measures(self) -> Grouped:
        """Measures of active targets (not 已终止): distinct targets per category and kind, by
        capacity (a target has one capacity, so distinct counts add up across the capacity groups)."""
        members = Member.objects.current().filter(household=OuterRef("target__household"))
        dev = Q(measure__category__in=DEVELOPMENTAL_CATEGORIES)
        aggregates: dict[str, Any] = {
            "any": Count("target", distinct=True),
            "dev": Count("target", distinct=True, filter=dev),
            "prot": Count("target", distinct=True, filter=~dev),
        }
        for cat in MeasureCategory.values:
            aggregates[f"mc_{cat}"] = Count("target", distinct=True, filter=Q(measure__category=cat))
        return _by_capacity(
            self.scoped(TargetMeasure)
            .filter(target__status=TargetStatus.ACTIVE)
            .exclude(status=MeasureStatus.TERMINATED)
            .annotate(
                child=Substr("target__household__village_id", 1, self.scope.n),
                full=Exists(members.filter(labor__in=FULL_LABOR)),
                weak=Exists(members.filter(labor=Labor.WEAK)),
            ),
            **aggregates,
        )

    @cached_property
    def leads(self) -> Grouped:
        """The leads of the year by state and source, and the open leads of any year (for 逾期)."""
        in_year = leads_of_year(self.scope.year)
        aggregates: dict[str, Any] = {
            "leads": Count("pk", filter=in_year),
            "overdue": Count("pk", filter=Q(state__in=OPEN_STATES, raised_at__lt=overdue_cutoff(self.scope.now))),
        }
        for state in LeadState.values:
            aggregates[f"state_{state}"] = Count("pk", filter=in_year & Q(state=state))
        for source in LeadSource.values:
            aggregates[f"source_{source}"] = Count("pk", filter=in_year & _json_list_has("sources", source))
        return _grouped(
            self.scoped(Lead).filter(in_year | Q(state__in=OPEN_STATES)),
            "village_id",  # the lead's copy of its household's village: no join with the households
            self.scope.n,
            **aggregates,
        )

    @cached_property
    def scale(self) -> list[ScaleRow]:
        """The scale check (SPEC 4.4) per county; below a county, the county's own row."""
        return scale_check(user=self.scope.user, prefix=self.scope.prefix[:6])
