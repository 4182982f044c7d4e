"""Reads of assistance plans: per-target plans, the measure list, 帮扶未落实, failing plans."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery

from assistance.models import MeasureStatus, TargetMeasure
from assistance.selectors.recommendation import (
    PlanCheck,
    labor_annotations,
    labor_capacity_from_flags,
    plan_check,
    plan_measures,
)
from fanpin.core.scoping import code_prefix
from monitoring.models import Member, MemberStatus, MonitoringTarget, TargetStatus

UNASSISTED_AFTER_DAYS = 15


def _head_name() -> Subquery:
    return Member.objects.head_name_of("household")


def targets_in_scope(*, user: Any, region_code: str = "", status: str = "") -> QuerySet[MonitoringTarget]:
    qs = (
        MonitoringTarget.objects.for_user(user)
        .select_related("household", "household__village", "household__village__parent__parent")
        .annotate(head_name=_head_name(), **labor_annotations())
    )
    if region_code:
        qs = qs.within(code_prefix(region_code))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("household__village_id", "household__household_no", "-identified_on")


@dataclass(frozen=True)
class PlanRow:
    target: MonitoringTarget
    labor_capacity: str
    measures: list[TargetMeasure]
    check: PlanCheck
    unassisted: bool

    @property
    def open_count(self) -> int:
        return sum(1 for tm in self.measures if tm.status != MeasureStatus.TERMINATED)


def _unassisted(target: MonitoringTarget, counted: int, today: dt.date) -> bool:
    return (
        target.status == TargetStatus.ACTIVE
        and counted == 0
        and target.identified_on <= today - dt.timedelta(days=UNASSISTED_AFTER_DAYS)
    )


def plan_rows(
    *, user: Any, today: dt.date, region_code: str = "", status: str = TargetStatus.ACTIVE, flag: str = ""
) -> list[PlanRow]:
    """Targets with their plan, labor capacity, check and 帮扶未落实 flag (three queries).

    ``flag``: ``"failing"`` only plans failing a check (or with a warning), ``"unassisted"`` only
    帮扶未落实 targets.
    """
    targets = targets_in_scope(user=user, region_code=region_code, status=status).prefetch_related(
        Prefetch("measures", queryset=TargetMeasure.objects.select_related("measure").order_by("start_on", "id"))
    )
    rows = []
    for target in targets:
        measures = list(target.measures.all())
        capacity = labor_capacity_from_flags(
            has_full_labor=target.has_full_labor,  # type: ignore[attr-defined]
            has_weak_labor=target.has_weak_labor,  # type: ignore[attr-defined]
        )
        counted = plan_measures(measures)
        check = plan_check(labor_capacity=capacity, risk_types=target.risk_types or [], measures=counted)
        row = PlanRow(
            target=target,
            labor_capacity=capacity,
            measures=measures,
            check=check,
            unassisted=_unassisted(target, len(counted), today),
        )
        if flag == "failing" and not (check.failed or check.warnings):
            continue
        if flag == "unassisted" and not row.unassisted:
            continue
        rows.append(row)
    return rows


def target_plan_detail(*, user: Any, pk: int) -> MonitoringTarget:
    """One target in the user's scope with its measures; raises ``MonitoringTarget.DoesNotExist``."""
    return (
        targets_in_scope(user=user)
        .select_related("household__village__parent__parent")
        .prefetch_related(
            Prefetch(
                "measures",
                queryset=TargetMeasure.objects.select_related("measure", "created_by").order_by("start_on", "id"),
            )
        )
        .get(pk=pk)
    )


def targets_unassisted(*, user: Any, today: dt.date, region_code: str = "") -> QuerySet[MonitoringTarget]:
    """帮扶未落实: active targets without any measure (other than 已终止) 15 days after confirmation
    (the identified date).  A queryset, so dashboards can ``.count()`` it."""
    has_measure = TargetMeasure.objects.filter(target=OuterRef("pk")).exclude(status=MeasureStatus.TERMINATED)
    return (
        targets_in_scope(user=user, region_code=region_code, status=TargetStatus.ACTIVE)
        .filter(identified_on__lte=today - dt.timedelta(days=UNASSISTED_AFTER_DAYS))
        .filter(~Exists(has_measure))
    )


def targets_unassisted_count(*, user: Any, today: dt.date, region_code: str = "") -> int:
    return targets_unassisted(user=user, today=today, region_code=region_code).count()


def target_measures_in_scope(
    *,
    user: Any,
    region_code: str = "",
    status: str = "",
    category: str = "",
    measure_code: str = "",
    search: str = "",
) -> QuerySet[TargetMeasure]:
    """Applied measures the user may see (measure list page, API, export)."""
    qs = TargetMeasure.objects.for_user(user).select_related(
        "measure",
        "target",
        "target__household",
        "target__household__village",
        "target__household__village__parent__parent",
    )
    if region_code:
        qs = qs.within(code_prefix(region_code))
    if status:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(measure__category=category)
    if measure_code:
        qs = qs.filter(measure__code=measure_code)
    search = search.strip()
    if search:
        qs = qs.filter(
            Q(target__household__household_no__startswith=search)
            | Q(responsible_name__startswith=search)
            | Q(
                target__household__members__name__startswith=search,
                target__household__members__relation="HEAD",
                target__household__members__status=MemberStatus.ACTIVE,
            )
        )
    return qs.annotate(head_name=_head_name_for_measure()).order_by(
        "target__household__village_id", "target__household__household_no", "start_on", "id"
    )


def _head_name_for_measure() -> Subquery:
    return Member.objects.head_name_of("target__household")


def measure_status_counts(*, user: Any) -> dict[str, int]:
    rows = TargetMeasure.objects.for_user(user).values("status").annotate(n=Count("pk"))
    return {row["status"]: row["n"] for row in rows}
