"""风险消除 criteria (SPEC §5), evaluated for many targets with a fixed number of queries.

Every time-dependent criterion takes ``today`` explicitly.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from assistance.models import (
    EFFECTIVE_STATUSES,
    EliminationProposal,
    MeasureCategory,
    MeasureStatus,
    ProposalState,
    TargetMeasure,
)
from assistance.selectors.recommendation import LaborCapacity, labor_annotations, labor_capacity_from_flags
from fanpin.core.scoping import code_prefix
from monitoring.models import AnnualIncome, Member, MonitoringTarget, TargetStatus, Visit
from monitoring.selectors.lines import monitoring_lines_for_province

VISIT_MAX_AGE_DAYS = 90
MIN_MONITORED_MONTHS = 6


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months (the 31st becomes the month's last day)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Criterion:
    code: str
    label: str
    value: str
    met: bool


@dataclass(frozen=True)
class EliminationAssessment:
    target: MonitoringTarget
    labor_capacity: str
    criteria: tuple[Criterion, ...]
    open_proposal: EliminationProposal | None = None

    @property
    def eligible(self) -> bool:
        """Every criterion met: the target is proposed for 风险消除."""
        return all(c.met for c in self.criteria)

    @property
    def unmet(self) -> list[Criterion]:
        return [c for c in self.criteria if not c.met]

    def as_json(self) -> list[dict[str, Any]]:
        return [{"code": c.code, "label": c.label, "value": c.value, "met": c.met} for c in self.criteria]


def _yuan(value: Decimal) -> str:
    return f"{value:,.2f} 元"


def elimination_assess(*, targets: Sequence[MonitoringTarget], today: dt.date) -> list[EliminationAssessment]:
    """The criteria for each target (targets need ``has_full_labor``/``has_weak_labor`` annotations
    or get them read here).  Five queries whatever the number of targets, plus one per province."""
    if not targets:
        return []
    household_ids = {t.household_id for t in targets}
    target_ids = [t.pk for t in targets]

    latest_income: dict[int, AnnualIncome] = {}
    for row in AnnualIncome.objects.filter(household_id__in=household_ids).order_by("household_id", "year"):
        latest_income[row.household_id] = row  # the last one per household is the latest year

    latest_visit_ids = (
        Visit.objects.filter(household_id__in=household_ids)
        .annotate(
            latest=Subquery(
                Visit.objects.filter(household_id=OuterRef("household_id"))
                .order_by("-visited_on", "-id")
                .values("id")[:1]
            )
        )
        .values_list("latest", flat=True)
        .distinct()
    )
    visits = {v.household_id: v for v in Visit.objects.filter(pk__in=latest_visit_ids)}

    measures: dict[int, list[TargetMeasure]] = {}
    for tm in TargetMeasure.objects.filter(target_id__in=target_ids).select_related("measure"):
        measures.setdefault(tm.target_id, []).append(tm)

    open_proposals = {
        p.target_id: p
        for p in EliminationProposal.objects.filter(
            target_id__in=target_ids, state__in=[ProposalState.PROPOSED, ProposalState.REVIEWED]
        )
    }

    village_of = {t.household_id: t.household.village_id for t in targets}
    lines: dict[tuple[str, int], Decimal] = {}
    years_by_province: dict[str, set[int]] = {}
    for household_id, income in latest_income.items():
        years_by_province.setdefault(village_of[household_id][:2] + "0" * 10, set()).add(income.year)
    for province, years in years_by_province.items():
        for year, line_value in monitoring_lines_for_province(province_code=province, years=years).items():
            lines[(province, year)] = line_value

    if not all(hasattr(t, "has_full_labor") for t in targets):
        flags = {
            t.pk: (t.has_full_labor, t.has_weak_labor)  # type: ignore[attr-defined]
            for t in MonitoringTarget.objects.filter(pk__in=target_ids).annotate(**labor_annotations())
        }
    else:
        flags = {t.pk: (t.has_full_labor, t.has_weak_labor) for t in targets}  # type: ignore[attr-defined]

    result = []
    for target in targets:
        criteria: list[Criterion] = []
        # 1. per-capita income of the latest year ≥ that year's line
        latest = latest_income.get(target.household_id)
        if latest is None:
            criteria.append(Criterion("INCOME", "最近年度人均纯收入不低于监测标准", "无收入记录", False))
        else:
            income = latest
            line = lines.get((village_of[target.household_id][:2] + "0" * 10, income.year))
            if line is None:
                value = f"{income.year} 年 {_yuan(income.per_capita)}；未设置 {income.year} 年监测标准"
                criteria.append(Criterion("INCOME", "最近年度人均纯收入不低于监测标准", value, False))
            else:
                value = f"{income.year} 年 {_yuan(income.per_capita)}（监测标准 {_yuan(line)}）"
                criteria.append(
                    Criterion("INCOME", "最近年度人均纯收入不低于监测标准", value, income.per_capita >= line)
                )
        # 2. the latest visit is at most 90 days old and shows every item secured
        visit = visits.get(target.household_id)
        if visit is None:
            criteria.append(Criterion("VISIT", "90 天内最近一次走访“两不愁三保障”均有保障", "无走访记录", False))
        else:
            age = (today - visit.visited_on).days
            missing = [label for label, ok in visit.checklist if not ok]
            value = f"{visit.visited_on:%Y-%m-%d}（{age} 天前）" + (
                "，各项均有保障" if not missing else "，未保障：" + "、".join(missing)
            )
            met = 0 <= age <= VISIT_MAX_AGE_DAYS and not missing
            criteria.append(Criterion("VISIT", "90 天内最近一次走访“两不愁三保障”均有保障", value, met))
        # 3. at least one measure in progress or completed
        plan = measures.get(target.pk, [])
        effective = [tm for tm in plan if tm.status in EFFECTIVE_STATUSES]
        criteria.append(
            Criterion(
                "MEASURES",
                "至少一项帮扶措施实施中或已完成",
                f"实施中或已完成 {len(effective)} 项（共 {len(plan)} 项）",
                bool(effective),
            )
        )
        # 4. monitored for at least 6 months (to the day)
        due = add_months(target.identified_on, MIN_MONITORED_MONTHS)
        criteria.append(
            Criterion(
                "DURATION",
                "纳入监测满 6 个月",
                f"{target.identified_on:%Y-%m-%d} 识别，{due:%Y-%m-%d} 满 6 个月",
                today >= due,
            )
        )
        # 5. no labor capacity and living on 综合保障 → stays monitored
        full, weak = flags[target.pk]
        capacity = labor_capacity_from_flags(has_full_labor=full, has_weak_labor=weak)
        protective = [
            tm
            for tm in plan
            if tm.measure.category == MeasureCategory.SOCIAL_SECURITY
            and tm.status in (MeasureStatus.PLANNED, MeasureStatus.IN_PROGRESS)
        ]
        dependent = capacity == LaborCapacity.NONE and bool(protective)
        value = (
            "无劳动能力，依靠" + "、".join(tm.measure.name for tm in protective) + "兜底，继续监测"
            if dependent
            else dict(LaborCapacity.choices)[capacity]
        )
        criteria.append(Criterion("NOT_PROTECTIVE", "非无劳动能力且依靠综合保障兜底", value, not dependent))
        result.append(
            EliminationAssessment(
                target=target,
                labor_capacity=capacity,
                criteria=tuple(criteria),
                open_proposal=open_proposals.get(target.pk),
            )
        )
    return result


def _active_targets(*, user: Any, region_code: str = "") -> QuerySet[MonitoringTarget]:
    qs = (
        MonitoringTarget.objects.for_user(user)
        .filter(status=TargetStatus.ACTIVE)
        .select_related("household", "household__village", "household__village__parent")
        .annotate(
            head_name=Subquery(
                Member.objects.filter(household=OuterRef("household"), relation=Member.Relation.HEAD).values("name")[:1]
            ),
            **labor_annotations(),
        )
    )
    if region_code:
        qs = qs.within(code_prefix(region_code))
    return qs.order_by("household__village_id", "household__household_no")


def elimination_candidates(
    *, user: Any, today: dt.date, include_all: bool = False, region_code: str = ""
) -> list[EliminationAssessment]:
    """Active targets in the user's scope meeting every criterion (or all of them, with
    ``include_all``), each with its criteria."""
    assessments = elimination_assess(targets=list(_active_targets(user=user, region_code=region_code)), today=today)
    return assessments if include_all else [a for a in assessments if a.eligible]


def elimination_criteria(*, target: MonitoringTarget, today: dt.date) -> EliminationAssessment:
    return elimination_assess(targets=[target], today=today)[0]


def elimination_proposals(*, user: Any, state: str = "") -> QuerySet[EliminationProposal]:
    qs = EliminationProposal.objects.for_user(user).select_related(
        "target", "target__household", "target__household__village", "proposed_by"
    )
    if state:
        qs = qs.filter(state=state)
    return qs


def elimination_proposal_detail(*, user: Any, pk: int) -> EliminationProposal:
    """Raises ``EliminationProposal.DoesNotExist`` outside the user's scope."""
    return elimination_proposals(user=user).select_related("target__household__village__parent").get(pk=pk)
