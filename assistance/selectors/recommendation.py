"""Labor capacity (SPEC §2), measure recommendation and plan checks (SPEC §5).

The functions here are pure over their inputs (a labor-capacity class, risk-type codes, catalogue
measures) so that pages, lists and tests share one definition; the thin wrappers at the end read
what they need for one target.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Exists, OuterRef

from assistance.models import DEVELOPMENTAL_CATEGORIES, Measure, MeasureCategory, MeasureStatus, TargetMeasure
from monitoring.models import Labor, Member, MonitoringTarget, RiskType


class LaborCapacity(models.TextChoices):
    FULL = "FULL", "有劳动能力"
    PARTIAL = "PARTIAL", "部分劳动能力"
    NONE = "NONE", "无劳动能力"


FULL_LABOR = (Labor.NORMAL, Labor.SKILLED)


def labor_capacity_of(*, labors: Iterable[str]) -> str:
    """SPEC §2: any 普通/技能劳动力 → FULL; else any 弱劳动力或半劳动力 → PARTIAL; else NONE."""
    values = set(labors)
    if values & {str(v) for v in FULL_LABOR}:
        return LaborCapacity.FULL
    if str(Labor.WEAK) in values:
        return LaborCapacity.PARTIAL
    return LaborCapacity.NONE


def labor_annotations(household_path: str = "household") -> dict[str, Exists]:
    """Annotations (``has_full_labor``, ``has_weak_labor``) for a queryset reaching a household."""
    members = Member.objects.current().filter(household=OuterRef(household_path))
    return {
        "has_full_labor": Exists(members.filter(labor__in=FULL_LABOR)),
        "has_weak_labor": Exists(members.filter(labor=Labor.WEAK)),
    }


def labor_capacity_from_flags(*, has_full_labor: bool, has_weak_labor: bool) -> str:
    if has_full_labor:
        return LaborCapacity.FULL
    return LaborCapacity.PARTIAL if has_weak_labor else LaborCapacity.NONE


def household_labor_capacity(*, household_id: int) -> str:
    return labor_capacity_of(
        labors=Member.objects.current().filter(household_id=household_id).values_list("labor", flat=True)
    )


# -- recommendation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecommendedMeasure:
    measure: Measure
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Recommendation:
    labor_capacity: str
    explanation: str
    measures: tuple[RecommendedMeasure, ...]

    @property
    def codes(self) -> list[str]:
        return [r.measure.code for r in self.measures]


_RISK_LABELS = dict(RiskType.choices)
_CAPACITY_LABELS = dict(LaborCapacity.choices)


def measures_recommend(
    *, labor_capacity: str, risk_types: Sequence[str], catalogue: Sequence[Measure] | None = None
) -> Recommendation:
    """Recommended measures, best first, each with its reasons (shown on the plan page).

    * measures addressing one of the target's risk types come first (as the catalogue says);
    * then by labor capacity: FULL → developmental (产业/就业/金融) measures; NONE → 综合保障;
      PARTIAL → both, developmental first.
    """
    if catalogue is None:
        catalogue = list(Measure.objects.filter(is_active=True).order_by("sort_order", "code"))
    risks = [r for r in risk_types if r in _RISK_LABELS]
    want_developmental = labor_capacity in (LaborCapacity.FULL, LaborCapacity.PARTIAL)
    want_protective = labor_capacity in (LaborCapacity.NONE, LaborCapacity.PARTIAL)
    capacity_label = _CAPACITY_LABELS.get(labor_capacity, labor_capacity)

    scored: list[tuple[int, int, RecommendedMeasure]] = []
    for index, measure in enumerate(catalogue):
        reasons: list[str] = []
        matched = [r for r in risks if r in (measure.risk_types or [])]
        if matched:
            reasons.append("针对风险类型：" + "、".join(_RISK_LABELS[r] for r in matched))
        by_capacity = 0
        if want_developmental and measure.category in DEVELOPMENTAL_CATEGORIES:
            reasons.append(f"{capacity_label}，优先开发式帮扶")
            by_capacity = 1
        elif want_protective and measure.category == MeasureCategory.SOCIAL_SECURITY:
            reasons.append(f"{capacity_label}，落实综合保障")
            by_capacity = 2 if labor_capacity == LaborCapacity.PARTIAL else 1
        if not reasons:
            continue
        # rank: risk-matched first; then developmental before protective (FULL/PARTIAL)
        rank = (0 if matched else 10) + by_capacity
        scored.append((rank, index, RecommendedMeasure(measure=measure, reasons=tuple(reasons))))
    scored.sort(key=lambda item: (item[0], item[1]))

    if labor_capacity == LaborCapacity.FULL:
        explanation = "家庭有劳动能力：优先推荐产业、就业、金融等开发式帮扶措施，辅以针对风险类型的措施。"
    elif labor_capacity == LaborCapacity.PARTIAL:
        explanation = "家庭仅有弱劳动力或半劳动力：开发式帮扶与综合保障措施并用，辅以针对风险类型的措施。"
    else:
        explanation = "家庭无劳动能力：推荐低保、特困供养等综合保障措施兜底，辅以针对风险类型的措施。"
    return Recommendation(
        labor_capacity=labor_capacity, explanation=explanation, measures=tuple(item[2] for item in scored)
    )


# -- plan checks -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    code: str
    label: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class PlanCheck:
    results: tuple[CheckResult, ...] = ()
    warnings: tuple[str, ...] = ()
    empty: bool = False
    failures: tuple[CheckResult, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "failures", tuple(r for r in self.results if not r.passed))

    @property
    def failed(self) -> bool:
        return bool(self.failures)


def _has(measures: Sequence[Measure], *, categories: Iterable[str] = (), codes: Iterable[str] = ()) -> bool:
    categories, codes = set(categories), set(codes)
    return any(m.category in categories or m.code in codes for m in measures)


def plan_check(*, labor_capacity: str, risk_types: Sequence[str], measures: Sequence[Measure]) -> PlanCheck:
    """Check a plan (its measures that are not 已终止) against the risk types and labor capacity.

    A failing check flags the plan; nothing is refused.  An empty plan is not checked here: it is
    帮扶未落实 (``targets_unassisted``) once 15 days have passed.
    """
    if not measures:
        return PlanCheck(empty=True)
    results: list[CheckResult] = []
    risks = set(risk_types)
    if RiskType.ILLNESS in risks:
        ok = _has(measures, categories=[MeasureCategory.HEALTH, MeasureCategory.SOCIAL_SECURITY])
        results.append(
            CheckResult("ILLNESS", "因病：需有健康帮扶或综合保障措施", ok, "" if ok else "缺少健康帮扶或综合保障措施")
        )
    if RiskType.EDUCATION in risks:
        ok = _has(measures, categories=[MeasureCategory.EDUCATION])
        results.append(CheckResult("EDUCATION", "因学：需有教育帮扶措施", ok, "" if ok else "缺少教育帮扶措施"))
    if RiskType.HOUSING in risks:
        ok = _has(measures, codes=["DILAPIDATED_HOUSING_RENOVATION", "RELOCATION"])
        results.append(
            CheckResult("HOUSING", "住房安全：需有危房改造或易地搬迁", ok, "" if ok else "缺少危房改造或易地搬迁")
        )
    if RiskType.DRINKING_WATER in risks:
        ok = _has(measures, codes=["DRINKING_WATER_SAFETY"])
        results.append(
            CheckResult("DRINKING_WATER", "饮水安全：需有饮水安全保障", ok, "" if ok else "缺少饮水安全保障")
        )
    if labor_capacity == LaborCapacity.FULL:
        ok = _has(measures, categories=DEVELOPMENTAL_CATEGORIES)
        results.append(
            CheckResult(
                "LABOR", "有劳动能力：需至少一项产业、就业或金融帮扶", ok, "" if ok else "缺少产业、就业或金融帮扶措施"
            )
        )
    warnings: list[str] = []
    if labor_capacity == LaborCapacity.NONE and all(m.category in DEVELOPMENTAL_CATEGORIES for m in measures):
        warnings.append("该户无劳动能力，但帮扶计划只有开发式措施：建议落实综合保障措施。")
    return PlanCheck(results=tuple(results), warnings=tuple(warnings))


def plan_measures(target_measures: Iterable[TargetMeasure]) -> list[Measure]:
    """The catalogue measures of a plan that count for the checks (not 已终止)."""
    return [tm.measure for tm in target_measures if tm.status != MeasureStatus.TERMINATED]


def target_plan_check(*, target: MonitoringTarget, labor_capacity: str) -> PlanCheck:
    measures = plan_measures(TargetMeasure.objects.filter(target=target).select_related("measure"))
    return plan_check(labor_capacity=labor_capacity, risk_types=target.risk_types or [], measures=measures)
