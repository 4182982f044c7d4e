"""One dashboard table as an .xlsx workbook (counts only: no personal data, so no access log)."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import Workbook

from assistance.selectors.dashboard import Table
from fanpin.core.xlsx import safe_row, sheet_filter, sheet_header, sheet_title


def dashboard_table_xlsx(*, table: Table, region_name: str, year: int) -> bytes:
    """A write-only workbook, its sheet named after the table (Chinese): a title row, the bold
    header row (frozen, with an auto-filter over the table), the table's rows."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet_title(table.title))
    widths = [22] + [18] * (len(table.columns) - 1)
    title = f"{region_name} · {year}年 · {table.title}"
    header_row = sheet_header(ws, list(table.columns), widths, title=title)
    for row in table.rows:
        ws.append(safe_row(float(v) if isinstance(v, Decimal) else ("—" if v is None else v) for v in row))
    sheet_filter(ws, columns=len(table.columns), last_row=len(table.rows) + header_row, header_row=header_row)
    if table.note:
        ws.append([])
        ws.append(safe_row([f"说明：{table.note}"]))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
