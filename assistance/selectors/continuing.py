"""Measures that outlive the risk (SPEC §5.6): after 风险消除 some measures go on —
小额信贷 until the loan is repaid, 公益岗位 until the post ends, 雨露计划 until the pupil finishes, and
any measure whose end date lies after the elimination — and are still recorded (progress,
completion, the county's edits, audited) until they are closed.  Every other measure of an
eliminated target is frozen as it was (decision record 2026-12-04-announcements).
"""

from __future__ import annotations

from typing import Any

from assistance.models import MeasureStatus, TargetMeasure
from fanpin.core.terms import term
from monitoring.models import TargetStatus

# Catalogue codes of the measures that go on after the risk whatever their end date.
CONTINUING_MEASURE_CODES = frozenset({"MICROCREDIT", "PUBLIC_WELFARE_POST", "YULU_PLAN"})
CONTINUING_MEASURE_NAMES = "小额信贷、公益岗位、雨露计划"
OPEN_STATUSES = (MeasureStatus.PLANNED, MeasureStatus.IN_PROGRESS)
# what a measure left open at the elimination that does not go on may still be set to
CLOSING_STATUSES = (MeasureStatus.COMPLETED, MeasureStatus.TERMINATED)


def measure_continues(*, item: TargetMeasure, target: Any) -> bool:
    """Whether ``item`` (of ``target``) goes on after the target's 风险消除: it is still open and it
    is 小额信贷 / 公益岗位 / 雨露计划, or its end date is after the day the risk was eliminated."""
    if item.status not in OPEN_STATUSES:
        return False
    if item.measure.code in CONTINUING_MEASURE_CODES:
        return True
    eliminated_on = target.eliminated_on
    return item.end_on is not None and (eliminated_on is None or item.end_on > eliminated_on)


def measure_after_elimination_refusal(*, item: TargetMeasure, target: Any, closing: bool = False) -> str:
    """Why ``item`` may no longer be recorded or changed, or ``""`` (an active target's measures, and
    those that go on after its elimination, may).  A measure left open at the elimination that does
    not go on may still be closed (``closing``: set to 已完成 or 已终止), and nothing else, so that
    it does not stay 实施中 for ever."""
    if target.status == TargetStatus.ACTIVE or measure_continues(item=item, target=target):
        return ""
    name = item.measure.name
    if item.status not in OPEN_STATUSES:
        return f"该{term('target')}已风险消除，“{name}”{item.get_status_display()}，不能再记录或修改。"
    if closing:
        return ""
    return (
        f"该{term('target')}已风险消除，“{name}”不属于风险消除后继续实施的措施"
        f"（{CONTINUING_MEASURE_NAMES}，或结束日期在风险消除之后的措施），只能标为已完成或已终止。"
    )


def measures_continuing(*, target: Any, measures: list[TargetMeasure]) -> list[TargetMeasure]:
    """Of an eliminated target's measures (already read), those that go on (for the target page)."""
    if target.status == TargetStatus.ACTIVE:
        return []
    return [tm for tm in measures if measure_continues(item=tm, target=target)]


def measures_closable(*, target: Any, measures: list[TargetMeasure]) -> list[TargetMeasure]:
    """Of an eliminated target's measures (already read), those left open that do not go on: they
    may only be closed (``CLOSING_STATUSES``)."""
    if target.status == TargetStatus.ACTIVE:
        return []
    return [tm for tm in measures if tm.status in OPEN_STATUSES and not measure_continues(item=tm, target=target)]
