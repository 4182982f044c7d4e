"""``export_xlsx --kind assistance``: the applied measures in a user's scope as .xlsx (audited).

Rows are read as tuples (``values_list``, a server-side cursor on PostgreSQL) and streamed to the
file (``fanpin.core.xlsx.SheetStream``); the labels are the fields' choices, as the pages show them.
"""

from __future__ import annotations

import datetime as dt
from typing import IO, Any

from django.db.models import Model, Q

from assistance.models import Measure, TargetMeasure
from assistance.selectors.plans import target_measures_in_scope
from fanpin.core.audit import export_record
from fanpin.core.masking import free_text_mask
from fanpin.core.terms import term
from fanpin.core.xlsx import SheetStream
from monitoring.models import MonitoringTarget, RiskType
from monitoring.selectors.exports import REGION_COLUMNS


def columns() -> list[tuple[str, int]]:
    """The sheet's columns (the category column named by the glossary, fanpin.core.terms)."""
    return [
        ("户编号", 16),
        ("户主姓名", 10),
        *REGION_COLUMNS,
        (f"{term('target')}类别", 14),
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


def headers() -> list[str]:
    return [name for name, _width in columns()]


_RISKS = dict(RiskType.choices)
FIELDS = (
    "target__household__household_no",
    "head_name",
    "target__household__village__parent__parent__name",
    "target__household__village__parent__name",
    "target__household__village__name",
    "target__category",
    "target__risk_types",
    "target__status",
    "measure__name",
    "measure__category",
    "measure__kind",
    "responsible_name",
    "responsible_unit",
    "responsible_phone",
    "start_on",
    "end_on",
    "amount",
    "amount_kind",
    "status",
    "progress_notes",
)


def _labels(model: type[Model], field: str) -> dict[Any, str]:
    """What ``get_<field>_display`` shows for each stored value."""
    return {value: str(label) for value, label in model._meta.get_field(field).flatchoices}  # type: ignore[union-attr]


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
    categories, statuses = _labels(MonitoringTarget, "category"), _labels(MonitoringTarget, "status")
    measure_categories, kinds = _labels(Measure, "category"), _labels(Measure, "kind")
    amount_kinds, measure_statuses = _labels(TargetMeasure, "amount_kind"), _labels(TargetMeasure, "status")
    sheet = SheetStream(output, title="帮扶措施", columns=columns())
    for row in qs.values_list(*FIELDS).iterator(chunk_size=2000):
        (no, head, county, township, village, category, risks, target_status, measure, measure_category, kind) = row[
            :11
        ]
        (name, unit, phone, start_on, end_on, amount, amount_kind, status, notes) = row[11:]
        sheet.append(
            [
                no,
                head or "",
                county or "",
                township or "",
                village,
                categories.get(category, category),
                "、".join(_RISKS.get(r, r) for r in risks or []),
                statuses.get(target_status, target_status),
                measure,
                measure_categories.get(measure_category, measure_category),
                kinds.get(kind, kind),
                free_text_mask(name) if name else name,  # typed: a number in them masked
                free_text_mask(unit) if unit else unit,
                phone,
                _date(start_on),
                _date(end_on),
                amount,  # Decimal: written as a number cell (SheetStream)
                amount_kinds.get(amount_kind, amount_kind) if amount_kind else "",
                measure_statuses.get(status, status),
                free_text_mask(notes) if notes else notes,  # numbers typed into the notes masked
            ]
        )
    rows = sheet.close()
    export_record(
        actor=user,
        kind="assistance",
        label="帮扶措施",
        rows=rows,
        region_code=region_code or (getattr(user, "region_id", "") or ""),
        data={"year": year, "region": region_code},
    )
    return rows
