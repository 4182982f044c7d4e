"""风险消除 criteria (SPEC §5, §5.6), evaluated for many targets with a fixed number of queries.

Each criterion is shown ✓/✗ with its figures: income over the latest 12 months of data and the
rigid-spending spike (the declared screening rules, ``elimination_data``), 两不愁三保障 and 饮水 at
the latest visit or 入户核实 (≤ 90 days), a measure done or under way, 6 months monitored, no new
risk (no open lead, no matched department alert after identification in the last 365 days, the
latest visit after identification not flagged), and not a household without labour living on
兜底 (暂不标注: stays monitored).

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
from assistance.selectors.elimination_data import IncomeInput, IncomeJudgement, income_judge_many
from assistance.selectors.recommendation import LaborCapacity, labor_annotations, labor_capacity_from_flags
from fanpin.core.scoping import code_prefix
from monitoring.models import (
    OPEN_LEAD_STATES,
    AlertStatus,
    DepartmentAlert,
    FollowUp,
    FollowUpState,
    Lead,
    Member,
    MonitoringTarget,
    TargetStatus,
    Visit,
)
from monitoring.models.visits import CHECKLIST_FIELDS
from monitoring.selectors.regions import county_name_annotation

VISIT_MAX_AGE_DAYS = 90
MIN_MONITORED_MONTHS = 6
NEW_RISK_DAYS = 365  # department alerts after identification within this many days are a new risk
VISIT_LABEL = "90 天内最近一次走访（或入户核实）“两不愁三保障”及饮水安全均有保障"


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
    income: IncomeJudgement | None = None

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


def _criterion_income(j: IncomeJudgement | None) -> Criterion:
    label = "近 12 个月收入不低于监测标准"
    if j is None or j.basis is None:
        return Criterion("INCOME", label, "无收入记录（年度收入或 12 个月收支核算），无法判断", False)
    fires, missing = j.low_income
    basis = j.basis
    if missing or j.line is None:
        return Criterion("INCOME", label, f"依据{basis.label}；未设置 {basis.line_year} 年监测标准", False)
    per_capita = j.per_capita
    judged = "人均可支配收入（扣除自付刚性支出）" if j.deduct else "人均可支配收入"
    compare = "低于" if fires else "不低于"
    value = (
        f"依据{basis.label}：家庭纯收入 {_yuan(basis.income)}，{basis.family_size} 人，"
        f"{judged} {_yuan(per_capita or Decimal(0))}，"
        f"{compare} {basis.line_year} 年监测标准 {_yuan(j.line)}"
    )
    return Criterion("INCOME", label, value, not fires)


def _criterion_spike(j: IncomeJudgement | None, today: dt.date) -> Criterion:
    label = "自付刚性支出不再超过家庭收入（刚性支出骤增规则不再触发）"
    if j is None:
        return Criterion("SPIKE", label, "无数据，无法判断", False)
    fires, missing = j.spike
    period = f"{j.spend_start:%Y-%m-%d} 至 {j.spend_end:%Y-%m-%d}"
    if missing or j.basis is None:
        return Criterion("SPIKE", label, f"{period} 自付刚性支出 {_yuan(j.out_of_pocket)}；无收入记录，无法判断", False)
    compare = "超过" if fires else "未超过"
    value = (
        f"{period} 自付刚性支出 {_yuan(j.out_of_pocket)}，{compare}家庭纯收入 {_yuan(j.basis.income)}的 "
        f"{format(j.spike_ratio.normalize(), 'f')} 倍（收入依据{j.basis.label}）"
    )
    return Criterion("SPIKE", label, value, not fires)


FOLLOW_UP_LABEL = "绿色通道补办的入户核实、民主评议和公示已办结"


def elimination_assess(*, targets: Sequence[MonitoringTarget], today: dt.date) -> list[EliminationAssessment]:
    """The criteria for each target (targets need ``has_full_labor``/``has_weak_labor`` annotations
    or get them read here).  A fixed number of queries whatever the number of targets (visits,
    measures, open proposals, open leads, alerts, incomes, the ledger), plus a few per province
    and line year (line, parameters, the judging statement)."""
    if not targets:
        return []
    household_ids = {t.household_id for t in targets}
    target_ids = [t.pk for t in targets]

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
    inputs = []
    for t in targets:
        p = open_proposals.get(t.pk)
        inputs.append(
            IncomeInput(
                household_id=t.household_id,
                village_code=village_of[t.household_id],
                accounting_end=p.home_checked_on if p is not None and p.has_accounting else None,
                accounting_family_size=p.accounting_family_size if p is not None and p.has_accounting else None,
                accounting_income=p.accounting_income if p is not None else None,
            )
        )
    incomes = income_judge_many(inputs=inputs, today=today)

    open_leads: dict[int, int] = {}
    for household_id, _state in Lead.objects.filter(
        household_id__in=household_ids, state__in=OPEN_LEAD_STATES
    ).values_list("household_id", "state"):
        open_leads[household_id] = open_leads.get(household_id, 0) + 1
    recent_start = today - dt.timedelta(days=NEW_RISK_DAYS)
    alerts: dict[int, list[dt.date]] = {}
    for household_id, day in DepartmentAlert.objects.filter(
        member__household_id__in=household_ids, status=AlertStatus.MATCHED, alert_date__gte=recent_start
    ).values_list("member__household_id", "alert_date"):
        alerts.setdefault(household_id, []).append(day)

    # 绿色通道: a direct confirmation's owed 核实/评议/公示 come first (a 不同意 waits for the county)
    follow_ups = {
        target_id: (state, review and reviewed_at is None, review)
        for target_id, state, review, reviewed_at in FollowUp.objects.filter(target_id__in=target_ids).values_list(
            "target_id", "state", "county_review", "county_reviewed_at"
        )
    }

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
        judgement = incomes.get(target.household_id)
        # 1. income over the latest 12 months of data ≥ the line (the declared 收入低于监测标准 rule)
        criteria.append(_criterion_income(judgement))
        # 2. the rigid spending no longer exceeds income (the declared 刚性支出骤增 rule)
        criteria.append(_criterion_spike(judgement, today))
        # 3. the latest visit (or the proposal's 入户核实, if newer) ≤ 90 days old, every item secured
        visit = visits.get(target.household_id)
        proposal = open_proposals.get(target.pk)
        checks: list[tuple[dt.date, str, list[str]]] = []
        if visit is not None:
            checks.append((visit.visited_on, "走访", [label for label, ok in visit.checklist if not ok]))
        if proposal is not None and proposal.home_checked_on is not None:
            missing_items = [label for name, label in CHECKLIST_FIELDS if not proposal.home_checklist.get(name)]
            checks.append((proposal.home_checked_on, "入户核实", missing_items))
        if not checks:
            criteria.append(Criterion("VISIT", VISIT_LABEL, "无走访记录", False))
        else:
            day, what, missing = max(checks, key=lambda c: c[0])
            age = (today - day).days
            value = f"{what} {day:%Y-%m-%d}（{age} 天前）" + (
                "，各项均有保障" if not missing else "，未保障：" + "、".join(missing)
            )
            criteria.append(Criterion("VISIT", VISIT_LABEL, value, 0 <= age <= VISIT_MAX_AGE_DAYS and not missing))
        # 4. at least one measure in progress or completed
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
        # 5. monitored for at least 6 months (to the day)
        due = add_months(target.identified_on, MIN_MONITORED_MONTHS)
        criteria.append(
            Criterion(
                "DURATION",
                "纳入监测满 6 个月",
                f"{target.identified_on:%Y-%m-%d} 识别，{due:%Y-%m-%d} 满 6 个月",
                today >= due,
            )
        )
        # 6. no new risk since identification
        risks = []
        if open_leads.get(target.household_id):
            risks.append(f"有未办结的预警线索 {open_leads[target.household_id]} 条")
        new_alerts = [d for d in alerts.get(target.household_id, []) if d > target.identified_on]
        if new_alerts:
            risks.append(f"识别后收到部门预警 {len(new_alerts)} 条（最近 {max(new_alerts):%Y-%m-%d}）")
        if visit is not None and visit.risk_flag and visit.visited_on > target.identified_on:
            risks.append(f"最近一次走访（{visit.visited_on:%Y-%m-%d}）标记发现返贫致贫风险")
        criteria.append(
            Criterion(
                "NO_NEW_RISK",
                "无新增风险",
                "；".join(risks) if risks else f"无未办结线索，近 {NEW_RISK_DAYS} 天无新的部门预警，最近走访未发现风险",
                not risks,
            )
        )
        # 7. no labor capacity and living on 综合保障 → stays monitored
        full, weak = flags[target.pk]
        capacity = labor_capacity_from_flags(has_full_labor=full, has_weak_labor=weak)
        protective = [
            tm
            for tm in plan
            if tm.measure.category == MeasureCategory.SOCIAL_SECURITY
            and tm.status in (MeasureStatus.PLANNED, MeasureStatus.IN_PROGRESS)
        ]
        dependent = capacity == LaborCapacity.NONE and bool(protective)
        if dependent:
            names = "、".join(tm.measure.name for tm in protective)
            value = f"无劳动能力，依靠{names}兜底，暂不标注风险消除，继续监测"
        elif capacity == LaborCapacity.NONE:  # (a newcomer read 「✓ …：无劳动能力」 as a contradiction)
            value = "无劳动能力，但没有综合保障兜底措施"
        else:
            value = dict(LaborCapacity.choices)[capacity]
        criteria.append(Criterion("NOT_PROTECTIVE", "不属于“无劳动能力、依靠综合保障兜底”", value, not dependent))
        # 8. only for a direct confirmation (green channel): its 补办 done
        if target.pk in follow_ups:
            state, review, reviewed = follow_ups[target.pk]
            owed = state == FollowUpState.OPEN
            value = (
                "县级直接确定，补办尚未完成"
                if owed
                else "补办的民主评议不同意，待县级复核"
                if review
                else "补办的民主评议不同意，县级复核维持认定"
                if reviewed
                else "县级直接确定，补办已完成"
            )
            criteria.append(Criterion("FOLLOW_UP", FOLLOW_UP_LABEL, value, not owed and not review))
        result.append(
            EliminationAssessment(
                target=target,
                labor_capacity=capacity,
                criteria=tuple(criteria),
                open_proposal=proposal,
                income=judgement,
            )
        )
    return result


def _active_targets(*, user: Any, region_code: str = "") -> QuerySet[MonitoringTarget]:
    qs = (
        MonitoringTarget.objects.for_user(user)
        .filter(status=TargetStatus.ACTIVE)
        .select_related("household", "household__village", "household__village__parent")
        .annotate(
            head_name=Member.objects.head_name_of("household"),
            **labor_annotations(),
            **county_name_annotation(user=user, village="household__village"),
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
    qs = (
        EliminationProposal.objects.for_user(user)
        .select_related("target", "target__household", "target__household__village__parent", "proposed_by")
        .annotate(**county_name_annotation(user=user, village="target__household__village"))
    )
    if state:
        qs = qs.filter(state=state)
    return qs


def elimination_proposal_detail(*, user: Any, pk: int) -> EliminationProposal:
    """Raises ``EliminationProposal.DoesNotExist`` outside the user's scope."""
    return elimination_proposals(user=user).select_related("target__household__village__parent").get(pk=pk)
