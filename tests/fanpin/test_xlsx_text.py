"""Text holding ``_xHHHH_`` is shown literally by every writer (fanpin.core.xlsx): readers of .xlsx
(Excel, python-calamine) decode the sequence as the character U+HHHH, XlsxWriter escapes it itself,
openpyxl does not, so the cells openpyxl writes get the escape from ``cell_text_safe``."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from python_calamine import CalamineWorkbook

from fanpin.core.xlsx import SheetStream, cell_text_safe, ooxml_text, safe_row, sheet_append, sheet_header

TEXTS = ["_x003D_1+1", "_x0041_", "a_x005F_b", "normal", "_x0000_", "_x003d_lower"]


def shown(data: bytes) -> list[list[Any]]:
    """Every row of the first sheet as python-calamine reads it (it decodes ``_xHHHH_``)."""
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def openpyxl_bytes(write_only: bool) -> bytes:
    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet("s") if write_only else wb.active
    if write_only:
        sheet_header(ws, TEXTS)
    else:
        ws.append(safe_row(TEXTS))
    sheet_append(ws, TEXTS)
    ws.append(safe_row(WriteOnlyCell(ws, value=text) for text in TEXTS))
    ws.append([cell_text_safe(text) for text in ["_x0041_x0042_", "__x0041_", "_x005F_x0041_", "=_x0041_"]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_openpyxl_cells_show_the_text_as_it_was() -> None:
    for write_only in (False, True):
        rows = shown(openpyxl_bytes(write_only))
        assert rows[:3] == [TEXTS, TEXTS, TEXTS], write_only
        # overlapping and escaped-looking text too; the formula guard still applies to the text itself
        assert rows[3][:4] == ["_x0041_x0042_", "__x0041_", "_x005F_x0041_", "'=_x0041_"]
        assert not any(str(cell).startswith("=") for row in rows for cell in row)


def test_sheet_stream_is_not_escaped_twice() -> None:
    """XlsxWriter escapes ``_xHHHH_`` itself: ``SheetStream`` passes the text as it is."""
    out = io.BytesIO()
    sheet = SheetStream(out, title="t", columns=[(text, 10) for text in TEXTS], text_columns=[1])
    sheet.append(TEXTS)
    sheet.append(["=_x0041_", *TEXTS[1:]])
    assert sheet.close() == 2
    rows = shown(out.getvalue())
    assert rows == [TEXTS, TEXTS, ["'=_x0041_", *TEXTS[1:]]]
    assert not any(str(cell).startswith("=") for row in rows for cell in row)


def test_the_escape_is_only_for_the_sequence() -> None:
    assert ooxml_text("_x003D_1+1") == "_x005F_x003D_1+1"
    assert ooxml_text("a_x005F_b") == "a_x005F_x005F_b"
    assert ooxml_text("_x0041_x0042_") == "_x005F_x0041_x005F_x0042_"
    for plain in ("normal", "_x", "_x12_", "_x004G_", "x0041_", "_x0041"):
        assert ooxml_text(plain) == plain
    assert cell_text_safe("_x003D_1+1") == "_x005F_x003D_1+1"  # starts with "_": no apostrophe
    assert cell_text_safe("_x003D_1+1", ooxml_escape=False) == "_x003D_1+1"
    assert cell_text_safe(12) == 12 and cell_text_safe(None) is None


def test_sheet_stream_writes_no_raw_rich_text() -> None:
    """XlsxWriter writes text that starts ``<r>`` and ends ``</r>`` into the XML as it is: a stored
    value could add a formula cell.  ``SheetStream`` gives it an apostrophe, so it is text."""
    injected = '<r><t>x</t></r></is></c><c r="B2"><f>1+1</f><v>2</v></c><c r="C2" t="inlineStr"><is><r><t>y</t></r>'
    out = io.BytesIO()
    sheet = SheetStream(out, title="t", columns=[("a", 10)], text_columns=[1])
    sheet.append([injected, "<r><t>z</t></r>"])
    sheet.close()
    assert shown(out.getvalue())[1] == ["'" + injected, "'<r><t>z</t></r>"]
    cells = [cell for row in load_workbook(io.BytesIO(out.getvalue())).active.iter_rows() for cell in row]
    assert not any(cell.data_type == "f" for cell in cells)
