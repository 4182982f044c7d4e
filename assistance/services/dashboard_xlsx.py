"""One dashboard table as an .xlsx workbook (counts only: no personal data, so no access log)."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from assistance.selectors.dashboard import Table


def dashboard_table_xlsx(*, table: Table, region_name: str, year: int) -> bytes:
    """A write-only workbook: a title row, the bold header row (frozen), the table's rows."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=table.key[:31])
    ws.freeze_panes = "A3"
    for i in range(len(table.columns)):
        ws.column_dimensions[chr(ord("A") + i)].width = 18 if i else 22
    ws.append([f"{region_name} · {year}年 · {table.title}"])
    header = []
    for column in table.columns:
        cell = WriteOnlyCell(ws, value=column)
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    for row in table.rows:
        ws.append([float(v) if isinstance(v, Decimal) else ("—" if v is None else v) for v in row])
    if table.note:
        ws.append([])
        ws.append([f"说明：{table.note}"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
