"""Reads of 信息比对 (SPEC §5.6): the lead page's panel, what holds 审核 back, when a
lead's comparisons were done (for the time limits), the export cell, who sees the notes.

The one rule of what a comparison holds back is ``comparisons_refusal``: the review services
(``monitoring.services.review``: 乡镇审核, 县级确定, the county's direct confirmation and the bulk
confirmation through them) and the lead page all ask it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from fanpin.core.audit import AuditEntry
from fanpin.core.roles import Role, effective_role
from monitoring.models import OPEN_LEAD_STATES, ComparisonResult, ComparisonSource, DataComparison, Lead, LeadState

AUDIT_TYPE = "data_comparison"  # object_id: the lead's id (one lead's history in one filter)
CONSENT_AUDIT_TYPE = "lead_consent"  # 承诺授权 recorded on an open lead before 入户核实

# Who records results and judgements: the county office (SPEC §1: county staff run the data
# checks; 市/省 see aggregates only) and administrators.
RECORDING_ROLES = frozenset({Role.COUNTY, Role.ADMIN})
# Who records the household's signed 承诺授权 before 入户核实: the village that collects it, the
# county that needs it on file to compare.
CONSENT_ROLES = frozenset({Role.VILLAGE, Role.COUNTY, Role.ADMIN})
# Who reads the notes and judgements (vehicles, property, a business, a salaried relative): those
# who decide on the lead — the county and the township reviewing it.  The village (neighbours of
# the household), 市/省 (aggregates) and everybody else see the result, the date and whether a
# 有异常 was judged, never the text.
NOTE_ROLES = frozenset({Role.COUNTY, Role.TOWNSHIP, Role.ADMIN})

RESULT_LABELS = dict(ComparisonResult.choices)


def may_record_comparisons(user: Any) -> bool:
    return effective_role(user) in RECORDING_ROLES


def may_record_consent(user: Any) -> bool:
    return effective_role(user) in CONSENT_ROLES


def may_see_comparison_notes(user: Any) -> bool:
    return effective_role(user) in NOTE_ROLES


def consent_on_file(lead: Lead) -> bool:
    """The household's signed 承诺授权 is recorded (before 入户核实, or with it)."""
    return lead.consent_signed is True


def sources_active() -> list[ComparisonSource]:
    return list(ComparisonSource.objects.filter(active=True).order_by("order", "code"))


def comparisons_refusal(*, lead_id: int) -> str:
    """Why a lead may not go on to 乡镇审核 or a county decision because of its comparisons, or
    ``""``: a 有异常 of an active source without the county's written judgement (one query).

    Comparisons not yet made do not hold a lead back (decision record 2026-12-04-data-comparison):
    the panel shows them owed, the time limits count them late."""
    names = list(
        DataComparison.objects.filter(lead_id=lead_id, source__active=True, result=ComparisonResult.ISSUE, judgement="")
        .order_by("source__order", "source__code")
        .values_list("source__name", flat=True)
    )
    if not names:
        return ""
    return (
        f"信息比对“{'、'.join(names)}”有异常，县级尚未作出书面研判，不能审核或确定；"
        "请县级先录入研判意见，或以“信息比对发现不符合条件”不予纳入。"
    )


def unjudged_issue_condition(prefix: str = "") -> Q:
    """Leads holding a 有异常 of an active source without the county's written judgement (the rule
    of ``comparisons_refusal``, as a condition): they may not go on to 乡镇审核 or a decision."""
    return Q(
        Exists(
            DataComparison.objects.filter(
                lead_id=OuterRef(f"{prefix}pk"), source__active=True, result=ComparisonResult.ISSUE, judgement=""
            )
        )
    )


def source_switch_off_refusal(*, source_id: int | None) -> str:
    """Why the source may not be switched off now, or ``""``: open leads hold a 有异常 of it that
    the county has not judged (switching it off would let them through unjudged)."""
    if source_id is None:
        return ""
    waiting = DataComparison.objects.filter(
        source_id=source_id, result=ComparisonResult.ISSUE, judgement="", lead__state__in=OPEN_LEAD_STATES
    ).count()
    if not waiting:
        return ""
    return f"该来源尚有 {waiting} 条“有异常”的比对结果（办理中的线索）未经县级研判：请先研判，再停用。"


def comparisons_done_on(*, lead_ids: Iterable[int]) -> dict[int, dt.date | None]:
    """For each lead, the day its 信息比对 was complete — every active source has a result and every
    有异常 its written judgement: the latest of the comparison dates and the judgement days — or
    ``None`` while incomplete (one query)."""
    ids = list(dict.fromkeys(int(i) for i in lead_ids))
    done: dict[int, dt.date | None] = dict.fromkeys(ids)
    if not ids:
        return done
    # the number of active sources, as a scalar subquery of the same statement (grouped by the
    # one value of ``active`` they share)
    active = (
        ComparisonSource.objects.filter(active=True).order_by().values("active").annotate(n=Count("id")).values("n")
    )
    rows = (
        DataComparison.objects.filter(lead_id__in=ids, source__active=True)
        .order_by()
        .values("lead_id")
        .annotate(
            n=Count("id"),
            open_issues=Count("id", filter=Q(result=ComparisonResult.ISSUE, judgement="")),
            last_compared=Max("compared_on"),
            last_judged=Max("judged_at"),
            sources=Coalesce(Subquery(active, output_field=IntegerField()), 0),
        )
    )
    for row in rows:
        if row["n"] < row["sources"] or row["open_issues"] or row["sources"] == 0:
            continue
        day: dt.date = row["last_compared"]
        if row["last_judged"] is not None:
            day = max(day, timezone.localdate(row["last_judged"]))
        done[row["lead_id"]] = day
    return done


# -- the lead page's panel -------------------------------------------------------------------------
@dataclass(frozen=True)
class PanelRow:
    source: ComparisonSource
    comparison: DataComparison | None

    @property
    def awaits_judgement(self) -> bool:
        return self.comparison is not None and self.comparison.awaits_judgement


@dataclass(frozen=True)
class ComparisonPanel:
    rows: list[PanelRow]
    consent: bool
    is_open: bool
    is_new: bool
    history: list[AuditEntry] = field(default_factory=list)
    # what the user may do and see (the services check again)
    may_record: bool = False
    may_see_notes: bool = False
    may_record_consent: bool = False

    @property
    def recording_open(self) -> bool:
        """The user may record results on this lead now (county, open lead, consent on file)."""
        return self.may_record and self.is_open and self.consent

    @property
    def consent_recordable(self) -> bool:
        return self.may_record_consent and self.is_new and not self.consent

    @property
    def missing(self) -> list[str]:
        return [r.source.name for r in self.rows if r.comparison is None and r.source.active]

    @property
    def awaiting(self) -> list[str]:
        return [r.source.name for r in self.rows if r.awaits_judgement and r.source.active]

    @property
    def complete(self) -> bool:
        return not self.missing and not self.awaiting


def comparison_panel(*, lead: Lead, user: Any) -> ComparisonPanel:
    """Every active source with its current result (and a current result of a source switched off
    since), the consent, the history, what ``user`` may do: three queries."""
    current = {
        c.source_id: c
        for c in DataComparison.objects.filter(lead_id=lead.pk).select_related("source", "recorded_by", "judged_by")
    }
    sources = sources_active()
    seen = {s.pk for s in sources}
    rows = [PanelRow(s, current.get(s.pk)) for s in sources]
    rows += [PanelRow(c.source, c) for sid, c in current.items() if sid not in seen]
    history = list(
        AuditEntry.objects.filter(object_type__in=(AUDIT_TYPE, CONSENT_AUDIT_TYPE), object_id=str(lead.pk))
        .select_related("actor")
        .order_by("at", "id")
    )
    return ComparisonPanel(
        rows=rows,
        consent=consent_on_file(lead),
        is_open=lead.state in OPEN_LEAD_STATES,
        is_new=lead.state == LeadState.NEW,
        history=history,
        may_record=may_record_comparisons(user),
        may_see_notes=may_see_comparison_notes(user),
        may_record_consent=may_record_consent(user),
    )


def comparison_source_get(*, code: str, active_only: bool = True) -> ComparisonSource:
    qs = ComparisonSource.objects.filter(code=code)
    if active_only:
        qs = qs.filter(active=True)
    return qs.get()


def comparison_current(*, lead_id: int, source_id: int) -> DataComparison | None:
    return DataComparison.objects.filter(lead_id=lead_id, source_id=source_id).first()


# -- the API ---------------------------------------------------------------------------------------
def comparisons_in_scope(*, user: Any, lead_id: int | None = None) -> QuerySet[DataComparison]:
    qs = DataComparison.objects.for_user(user).select_related("source", "recorded_by", "judged_by")
    if lead_id is not None:
        qs = qs.filter(lead_id=lead_id)
    return qs.order_by("lead_id", "source__order", "source__code")


# -- the lead export -------------------------------------------------------------------------------
_JUDGED = "J"
_OPEN = "O"


@dataclass(frozen=True)
class ExportComparisons:
    """Annotations (one scalar subquery per active source) for a lead export's ``values_list`` and
    the cell text of their values: ``公安车辆:无异常；不动产登记:有异常(已研判)；…`` (no notes)."""

    names: Sequence[str]
    annotations: dict[str, Any]

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.annotations)

    def label_of(self, values: Iterable[str | None]) -> str:
        values = list(values)
        if not any(values):
            return "未比对"
        parts = []
        for name, value in zip(self.names, values, strict=True):
            if not value:
                parts.append(f"{name}:未比对")
            elif value == ComparisonResult.NO_ISSUE:
                parts.append(f"{name}:无异常")
            else:
                parts.append(f"{name}:有异常({'已研判' if value.endswith(_JUDGED) else '未研判'})")
        return "；".join(parts)


def export_comparisons(*, lead: str = "pk") -> ExportComparisons:
    """The 信息比对 column of a lead export (one query for the active sources)."""
    sources = sources_active()
    annotations: dict[str, Any] = {}
    for s in sources:
        value = Case(
            When(result=ComparisonResult.NO_ISSUE, then=Value(ComparisonResult.NO_ISSUE.value)),
            When(judgement="", then=Value(ComparisonResult.ISSUE.value + _OPEN)),
            default=Value(ComparisonResult.ISSUE.value + _JUDGED),
            output_field=CharField(),
        )
        sub = DataComparison.objects.filter(lead_id=OuterRef(lead), source_id=s.pk).annotate(v=value).values("v")[:1]
        annotations[f"dc_{s.pk}"] = Subquery(sub, output_field=CharField())
    return ExportComparisons(names=[s.name for s in sources], annotations=annotations)
