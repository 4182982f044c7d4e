"""``export_xlsx --kind assistance``: the applied measures in a user's scope as .xlsx (audited)."""

from __future__ import annotations

import datetime as dt
from typing import IO, Any

from django.db.models import Q
from openpyxl import Workbook

from assistance.selectors.plans import target_measures_in_scope
from fanpin.core.audit import export_record
from fanpin.core.xlsx import safe_row, sheet_filter, sheet_header
from monitoring.models import RiskType

COLUMNS: list[tuple[str, int]] = [
    ("户编号", 16),
    ("户主姓名", 10),
    ("乡镇", 12),
    ("村", 12),
    ("监测对象类别", 14),
    ("风险类型", 24),
    ("监测状态", 10),
    ("帮扶措施", 24),
    ("措施类别", 12),
    ("措施性质", 10),
    ("帮扶责任人", 10),
    ("责任人单位", 20),
    ("责任人电话", 14),
    ("开始日期", 12),
    ("结束日期", 12),
    ("金额（元）", 12),
    ("金额类型", 10),
    ("状态", 10),
    ("进展情况", 40),
]
HEADERS = [name for name, _width in COLUMNS]
_RISKS = dict(RiskType.choices)


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def assistance_export(*, user: Any, region_code: str = "", year: int | None = None, output: str | IO[bytes]) -> int:
    """Write the measures (of ``region_code`` within the user's scope; with ``year``, those whose
    period overlaps that year) to ``output``; returns the number of rows.  Audited."""
    qs = target_measures_in_scope(user=user, region_code=region_code)
    if year is not None:
        qs = qs.filter(start_on__lte=dt.date(year, 12, 31)).filter(
            Q(end_on__isnull=True) | Q(end_on__gte=dt.date(year, 1, 1))
        )
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("帮扶措施")
    sheet_header(sheet, HEADERS, [width for _n, width in COLUMNS])
    rows = 0
    for tm in qs.iterator(chunk_size=2000):
        target = tm.target
        household = target.household
        sheet.append(
            safe_row(
                [
                    household.household_no,
                    getattr(tm, "head_name", "") or "",
                    household.village.parent.name if household.village.parent else "",
                    household.village.name,
                    target.get_category_display(),
                    "、".join(_RISKS.get(r, r) for r in target.risk_types or []),
                    target.get_status_display(),
                    tm.measure.name,
                    tm.measure.get_category_display(),
                    tm.measure.get_kind_display(),
                    tm.responsible_name,
                    tm.responsible_unit,
                    tm.responsible_phone,
                    _date(tm.start_on),
                    _date(tm.end_on),
                    float(tm.amount) if tm.amount is not None else None,
                    tm.get_amount_kind_display() if tm.amount_kind else "",
                    tm.get_status_display(),
                    tm.progress_notes,
                ]
            )
        )
        rows += 1
    sheet_filter(sheet, columns=len(HEADERS), last_row=rows + 1)
    workbook.save(output)
    export_record(
        actor=user,
        kind="assistance",
        rows=rows,
        region_code=region_code or (getattr(user, "region_id", "") or ""),
        data={"year": year, "region": region_code},
    )
    return rows
