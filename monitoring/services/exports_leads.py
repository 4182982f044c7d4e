"""Exports of leads and monitoring targets (SPEC §6), streamed to the file, audited.

``user=None`` is the management command (everything under ``region_code``); a user is scoped.
身份证号 and phone are never written.  Rows are read as tuples (``values_list``, a server-side
cursor on PostgreSQL), never as model objects: a province's 140 000 leads in one file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone

from fanpin.core.audit import export_record
from fanpin.core.masking import free_text_mask
from fanpin.core.scoping import code_prefix
from fanpin.core.terms import term
from fanpin.core.xlsx import SheetStream
from monitoring.models import OPEN_LEAD_STATES, EliminationMethod, Lead, LeadState, MonitoringTarget, TargetStatus
from monitoring.selectors.comparisons import export_comparisons
from monitoring.selectors.deadlines import EXPORT_COLUMNS as DEADLINE_COLUMNS
from monitoring.selectors.deadlines import export_deadlines
from monitoring.selectors.exports import REGION_COLUMNS
from monitoring.selectors.leads import (
    CATEGORY_LABELS,
    RISK_LABELS,
    RULE_LABELS,
    SOURCE_LABELS,
    PublicityRow,
    QueueFilters,
    _head_name,
    labels_joined,
    lead_queue,
    overdue_cutoff,
    targets_in_scope,
)
from monitoring.selectors.rosters import ASSISTANCE_FLAG_FIELDS, assistance_flags, assistance_label_of

LEAD_COLUMNS: list[tuple[str, int]] = [
    ("户编号", 16),
    ("户主姓名", 10),
    *REGION_COLUMNS,
    ("线索来源", 24),
    ("触发规则", 36),
    ("建议类别", 14),
    ("状态", 10),
    ("发现日期", 12),
    ("逾期", 6),
    ("未纳入原因", 40),
    ("社会救助", 16),  # the household's current 民政 status (monitoring.selectors.rosters)
    ("信息比对", 48),  # each active source's result, no notes (monitoring.selectors.comparisons)
    *DEADLINE_COLUMNS,  # 当前环节 · 办理期限 · 是否超期 (monitoring.selectors.deadlines)
]


def target_columns() -> list[tuple[str, int]]:
    """The targets sheet's columns (the category column named by the glossary, fanpin.core.terms)."""
    return [
        ("户编号", 16),
        ("户主姓名", 10),
        *REGION_COLUMNS,
        (f"{term('target')}类别", 14),
        ("风险类型", 24),
        ("线索来源", 24),
        ("识别日期", 12),
        ("状态", 10),
        ("消除方式", 10),
        ("风险消除日期", 13),
        ("社会救助", 16),
    ]


STATE_LABELS = dict(LeadState.choices)
STATUS_LABELS = dict(TargetStatus.choices)
ELIMINATION_LABELS = dict(EliminationMethod.choices)
CHUNK = 2000


def _write(output: IO[bytes] | str, title: str, columns: list[tuple[str, int]], rows: Iterable[list[Any]]) -> int:
    """One sheet: widths, bold frozen header with an auto-filter, rows whose text is never a formula."""
    sheet = SheetStream(output, title=title, columns=columns)
    for row in rows:
        sheet.append(row)
    return sheet.close()


def _scoped_leads(*, user: Any, region_code: str, year: int | None, filters: QueueFilters | None) -> QuerySet[Lead]:
    qs: Any
    if user is None:
        qs = Lead.objects.all().select_related("household__village__parent__parent").annotate(head_name=_head_name())
        qs = qs.within(code_prefix(region_code)) if region_code else qs
        qs = qs.order_by("household__village_id", "household__household_no", "id")
    else:
        qs = lead_queue(user=user, filters=filters or QueueFilters(state="ALL"))
        if region_code:
            qs = qs.within(code_prefix(region_code))
    if year:
        qs = qs.filter(year=year)
    return qs


LEAD_FIELDS = (
    "household__household_no",
    "head_name",
    "household__village__parent__parent__name",
    "household__village__parent__name",
    "household__village__name",
    "sources",
    "rules_fired",
    "suggested_category",
    "state",
    "raised_at",
    "rejection_reason",
)


def _lead_rows(qs: QuerySet[Lead]) -> Iterator[list[Any]]:
    cutoff = overdue_cutoff()
    comparisons = export_comparisons()
    deadlines = export_deadlines(today=timezone.localdate())
    rows = qs.annotate(**assistance_flags(), **comparisons.annotations, **deadlines.annotations).values_list(
        *LEAD_FIELDS, *ASSISTANCE_FLAG_FIELDS, *comparisons.fields, *deadlines.fields
    )
    flags_end = len(LEAD_FIELDS) + len(ASSISTANCE_FLAG_FIELDS)
    deadlines_start = flags_end + len(comparisons.fields)
    for row in rows.iterator(chunk_size=CHUNK):
        no, head, county, township, village, sources, rules, category, state, raised_at, reason = row[
            : len(LEAD_FIELDS)
        ]
        yield [
            no,
            head or "",
            county or "",
            township or "",
            village,
            labels_joined(sources, SOURCE_LABELS),
            labels_joined(rules, RULE_LABELS),
            CATEGORY_LABELS.get(category, ""),
            STATE_LABELS.get(state, state),
            timezone.localtime(raised_at).date(),
            "是" if state in OPEN_LEAD_STATES and raised_at < cutoff else "否",
            free_text_mask(reason) if reason else reason,  # a list export masks numbers typed into text
            assistance_label_of(row[len(LEAD_FIELDS) : flags_end]),
            comparisons.label_of(row[flags_end:deadlines_start]),
            *deadlines.cells(row[deadlines_start:]),
        ]


def leads_export(
    *,
    user: Any,
    region_code: str = "",
    year: int | None = None,
    output: IO[bytes] | str,
    filters: QueueFilters | None = None,
) -> int:
    """Write the leads (SPEC §6 columns) to ``output``; returns the row count (audited)."""
    qs = _scoped_leads(user=user, region_code=region_code, year=year, filters=filters)
    count = _write(output, "预警线索", LEAD_COLUMNS, _lead_rows(qs))
    _audit(user=user, kind="leads", label="预警线索", region_code=region_code, year=year, rows=count)
    return count


TARGET_FIELDS = (
    "household__household_no",
    "head_name",
    "household__village__parent__parent__name",
    "household__village__parent__name",
    "household__village__name",
    "category",
    "risk_types",
    "sources",
    "identified_on",
    "status",
    "elimination_method",
    "eliminated_on",
)


def _target_rows(qs: QuerySet[MonitoringTarget]) -> Iterator[list[Any]]:
    rows = qs.annotate(**assistance_flags()).values_list(*TARGET_FIELDS, *ASSISTANCE_FLAG_FIELDS)
    for row in rows.iterator(chunk_size=CHUNK):
        no, head, county, township, village, category, risks, sources, identified, status, method, eliminated = row[
            : len(TARGET_FIELDS)
        ]
        yield [
            no,
            head or "",
            county or "",
            township or "",
            village,
            CATEGORY_LABELS.get(category, category),
            labels_joined(risks, RISK_LABELS),
            labels_joined(sources, SOURCE_LABELS),
            identified,
            STATUS_LABELS.get(status, status),
            ELIMINATION_LABELS.get(method, method) if method else "",
            eliminated,
            assistance_label_of(row[len(TARGET_FIELDS) :]),
        ]


def targets_export(
    *,
    user: Any,
    region_code: str = "",
    year: int | None = None,
    output: IO[bytes] | str,
    filters: dict[str, str] | None = None,
) -> int:
    """Write the monitoring targets to ``output`` (``year`` = identified in that year); audited."""
    qs: Any
    if user is None:
        qs = (
            MonitoringTarget.objects.all().select_related("household__village__parent").annotate(head_name=_head_name())
        )
        qs = qs.within(code_prefix(region_code)) if region_code else qs
        qs = qs.order_by("household__village_id", "household__household_no", "id")
    else:
        qs = targets_in_scope(user=user, **(filters or {}))
        if region_code:
            qs = qs.within(code_prefix(region_code))
    if year:
        qs = qs.filter(identified_on__year=year)
    count = _write(output, term("target"), target_columns(), _target_rows(qs))
    _audit(user=user, kind="targets", label=term("target"), region_code=region_code, year=year, rows=count)
    return count


def _audit(*, user: Any, kind: str, label: str, region_code: str, year: int | None, rows: int) -> None:
    scope = region_code or (getattr(getattr(user, "region", None), "code", "") if user is not None else "")
    export_record(
        actor=user,
        kind=kind,
        label=label,
        rows=rows,
        region_code=scope or "",
        data={"year": year, "region": region_code},
    )


PUBLICITY_COLUMNS: list[tuple[str, int]] = [
    ("户主姓名", 10),
    ("村", 12),
    ("类别", 14),
    ("纳入原因", 36),
    ("公示开始", 12),
    ("公示结束", 12),
]


def publicity_xlsx(*, user: Any, village_code: str, rows: list[PublicityRow], output: IO[bytes] | str) -> int:
    """The 公示名单 of one village: name, village, category, reason and the posting period only."""
    count = _write(
        output,
        "公示名单",
        PUBLICITY_COLUMNS,
        ([r.name, r.village, r.category, r.reason, r.start, r.end] for r in rows),
    )
    _audit(user=user, kind="publicity", label="公示名单", region_code=village_code, year=None, rows=count)
    return count
