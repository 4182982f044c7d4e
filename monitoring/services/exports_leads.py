"""Exports of leads and monitoring targets (SPEC §6), write-only workbooks, audited.

``user=None`` is the management command (everything under ``region_code``); a user is scoped.
身份证号 and phone are never written.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook

from fanpin.core.audit import export_record
from fanpin.core.scoping import code_prefix
from fanpin.core.xlsx import safe_row, sheet_filter, sheet_header
from monitoring.models import Lead, LeadState, MonitoringTarget, TargetStatus
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

LEAD_COLUMNS: list[tuple[str, int]] = [
    ("户编号", 16),
    ("户主姓名", 10),
    ("乡镇", 12),
    ("村", 12),
    ("线索来源", 24),
    ("触发规则", 36),
    ("建议类别", 14),
    ("状态", 10),
    ("发现日期", 12),
    ("逾期", 6),
    ("未纳入原因", 40),
]
TARGET_COLUMNS: list[tuple[str, int]] = [
    ("户编号", 16),
    ("户主姓名", 10),
    ("乡镇", 12),
    ("村", 12),
    ("监测对象类别", 14),
    ("风险类型", 24),
    ("线索来源", 24),
    ("识别日期", 12),
    ("状态", 10),
    ("消除方式", 10),
    ("风险消除日期", 13),
]
STATE_LABELS = dict(LeadState.choices)
STATUS_LABELS = dict(TargetStatus.choices)
CHUNK = 2000


def _write(output: IO[bytes] | str, title: str, columns: list[tuple[str, int]], rows: Iterable[list[Any]]) -> int:
    """One sheet: widths, bold frozen header with an auto-filter, rows whose text is never a formula."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title)
    sheet_header(ws, [name for name, _w in columns], [width for _n, width in columns])
    count = 0
    for row in rows:
        ws.append(safe_row(row))
        count += 1
    sheet_filter(ws, columns=len(columns), last_row=count + 1)
    wb.save(output)
    return count


def _scoped_leads(*, user: Any, region_code: str, year: int | None, filters: QueueFilters | None) -> QuerySet[Lead]:
    qs: Any
    if user is None:
        qs = Lead.objects.all().select_related("household__village__parent").annotate(head_name=_head_name())
        qs = qs.within(code_prefix(region_code)) if region_code else qs
        qs = qs.order_by("household__village_id", "household__household_no", "id")
    else:
        qs = lead_queue(user=user, filters=filters or QueueFilters(state="ALL"))
        if region_code:
            qs = qs.within(code_prefix(region_code))
    if year:
        qs = qs.filter(year=year)
    return qs


def _lead_rows(qs: QuerySet[Lead]) -> Iterator[list[Any]]:
    cutoff = overdue_cutoff()
    for lead in qs.iterator(chunk_size=CHUNK):
        hh = lead.household
        yield [
            hh.household_no,
            getattr(lead, "head_name", "") or "",
            hh.village.parent.name if hh.village.parent else "",
            hh.village.name,
            labels_joined(lead.sources, SOURCE_LABELS),
            labels_joined(lead.rules_fired, RULE_LABELS),
            CATEGORY_LABELS.get(lead.suggested_category, ""),
            STATE_LABELS.get(lead.state, lead.state),
            timezone.localtime(lead.raised_at).date(),
            "是" if lead.is_open and lead.raised_at < cutoff else "否",
            lead.rejection_reason,
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
    _audit(user=user, kind="leads", region_code=region_code, year=year, rows=count)
    return count


def _target_rows(qs: QuerySet[MonitoringTarget]) -> Iterator[list[Any]]:
    for t in qs.iterator(chunk_size=CHUNK):
        hh = t.household
        yield [
            hh.household_no,
            getattr(t, "head_name", "") or "",
            hh.village.parent.name if hh.village.parent else "",
            hh.village.name,
            CATEGORY_LABELS.get(t.category, t.category),
            labels_joined(t.risk_types, RISK_LABELS),
            labels_joined(t.sources, SOURCE_LABELS),
            t.identified_on,
            STATUS_LABELS.get(t.status, t.status),
            t.get_elimination_method_display() if t.elimination_method else "",
            t.eliminated_on,
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
    count = _write(output, "监测对象", TARGET_COLUMNS, _target_rows(qs))
    _audit(user=user, kind="targets", region_code=region_code, year=year, rows=count)
    return count


def _audit(*, user: Any, kind: str, region_code: str, year: int | None, rows: int) -> None:
    scope = region_code or (getattr(getattr(user, "region", None), "code", "") if user is not None else "")
    export_record(actor=user, kind=kind, rows=rows, region_code=scope or "", data={"year": year, "region": region_code})


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
    _audit(user=user, kind="publicity", region_code=village_code, year=None, rows=count)
    return count
