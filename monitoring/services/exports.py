"""Excel exports (SPEC §6): streamed write-only workbooks with Chinese headers, audited.

The other kinds live beside their data (``exports_leads``, ``assistance.services.exports``);
``manage.py export_xlsx`` maps each kind to its exporter.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from fanpin.audit import export_record
from monitoring.idcard import personal_text_mask
from monitoring.models import HouseholdType
from monitoring.selectors.exports import export_snapshot, households_export_rows

HEADER_FONT = Font(bold=True)
TEXT = "@"

HOUSEHOLD_COLUMNS: list[tuple[str, int]] = [
    ("户编号", 16),
    ("户主姓名", 10),
    ("户主身份证号", 21),
    ("县", 12),
    ("乡镇", 12),
    ("村", 12),
    ("村级区划代码", 15),
    ("户类型", 9),
    ("脱贫年度", 9),
    ("家庭成员数", 10),
    ("联系电话", 14),
    ("住址", 24),
]
INCOME_COLUMNS: list[tuple[str, int]] = [
    ("收入年度", 9),
    ("家庭人口数", 10),
    ("工资性收入", 12),
    ("生产经营净收入", 14),
    ("财产净收入", 12),
    ("转移净收入", 12),
    ("人均可支配收入", 14),
]
_TYPE_LABELS = dict(HouseholdType.choices)
_CENT = Decimal("0.01")


def _header(ws: Any, columns: list[tuple[str, int]]) -> None:
    for index, (_name, width) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"
    cells = []
    for name, _width in columns:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = HEADER_FONT
        cells.append(cell)
    ws.append(cells)


def _write_household_rows(append: Callable[[list[Any]], None], rows: Any, id_cell: Any, year: int | None) -> int:
    count = 0
    for row in rows:
        no, head, id_number, county, township, village, code, kind, exit_year, size, phone, address = row[:12]
        id_cell.value = id_number
        values: list[Any] = [no, head, id_cell, county, township, village, code, _TYPE_LABELS[kind], exit_year, size]
        values += [phone, address]
        if year is not None:
            income_year, family, wage, business, prop, transfer = row[12:]
            per_capita = None
            if family:
                per_capita = ((wage + business + prop + transfer) / family).quantize(_CENT)
            values += [income_year, family, wage, business, prop, transfer, per_capita]
        append(values)
        count += 1
    return count


def households_export(
    *,
    user: Any,
    out: str | IO[bytes],
    year: int | None = None,
    search: str = "",
    village_code: str = "",
    region_code: str = "",
    household_type: str = "",
) -> int:
    """Write the households the user may see (filtered like the list) and return the row count.

    身份证号, 户编号, codes and phones are written as text cells (number format ``@``) so Excel
    never turns them into numbers.  The export is audited with its row count and filters.
    """
    columns = HOUSEHOLD_COLUMNS + (INCOME_COLUMNS if year is not None else [])
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("农户")
    _header(ws, columns)
    id_cell = WriteOnlyCell(ws)
    id_cell.number_format = TEXT
    rows = households_export_rows(
        user=user,
        year=year,
        search=search,
        village_code=village_code,
        region_code=region_code,
        household_type=household_type,
    )
    append = ws.append
    with export_snapshot():
        count = _write_household_rows(append, rows, id_cell, year)
    wb.save(out)
    region = getattr(user, "region_id", None) or ""
    export_record(
        actor=user,
        kind="households",
        rows=count,
        region_code=str(region),
        data={
            "filters": {
                "year": year,
                "search": personal_text_mask(header="", text=search),  # the audit keeps no full 身份证号
                "village": village_code,
                "region": region_code,
                "household_type": household_type,
            },
        },
    )
    return count
