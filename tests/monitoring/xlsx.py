"""Helpers to write small .xlsx files for import tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook

from monitoring.services.imports.spec import SPECS


def write_sheet(path: Path, header: list[str], rows: list[list[Any]], *, titles: list[list[Any]] | None = None) -> Path:
    wb = Workbook()
    ws = wb.active
    for title in titles or []:
        ws.append(title)
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def kind_sheet(path: Path, kind: str, rows: list[dict[str, Any]], **kw: Any) -> Path:
    """Rows as {header: value}; the header is the kind's full header list."""
    headers = SPECS[kind].headers
    return write_sheet(path, headers, [[row.get(h) for h in headers] for row in rows], **kw)


def read_sheet(path: Path) -> list[tuple[Any, ...]]:
    wb = load_workbook(path, read_only=True)
    try:
        return [tuple(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    finally:
        wb.close()
