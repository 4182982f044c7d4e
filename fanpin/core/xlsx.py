"""What every .xlsx the system hands out shares: text that no spreadsheet evaluates (SPEC §6), the
sheet layout (bold frozen header, widths, auto-filter) and the download's file name.

Every export writer appends its rows through ``safe_row`` (or ``sheet_append``), so a text cell
that starts with ``=``, ``+``, ``-``, ``@``, tab or CR is written with a leading apostrophe as a
plain string cell, and the characters no sheet can hold (C0 controls, U+FFFE, U+FFFF, lone
surrogates) are left out of text; numbers, dates
and empty cells pass through unchanged (docs/decisions/2026-12-03-formula-injection-in-exports.md).
Text holding ``_xHHHH_`` (which Excel and calamine read as the character U+HHHH) is shown literally:
openpyxl's cells get the OOXML escape ``_x005F_`` before it, XlsxWriter writes that escape itself.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from typing import IO, Any
from urllib.parse import quote

import xlsxwriter
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# ``_`` starting ``_xHHHH_`` (a lookahead, so ``_x0041_x0042_`` gets both): readers decode the
# sequence as U+HHHH (``_x003D_1+1`` shown as ``=1+1``); ``_x005F_`` is the escaped ``_``.
_OOXML_ESCAPABLE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
HEADER_FONT = Font(bold=True)
# the characters no sheet can hold: the C0 controls but tab and line breaks (openpyxl refuses them),
# the noncharacters U+FFFE and U+FFFF and lone surrogates (not XML 1.0: openpyxl wrote them into a
# file no strict reader opens)
_NOT_IN_SHEETS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_C0_END = 0x20


def control_characters_in(text: str) -> bool:
    """Whether ``text`` holds a character a sheet cannot hold (see below)."""
    return not text.isprintable() and _NOT_IN_SHEETS.search(text) is not None


def _picture(match: re.Match[str]) -> str:
    code = ord(match[0])
    return chr(0x2400 + code) if code < _C0_END else "\ufffd"


def control_characters_shown(text: str) -> str:
    """``text`` with each character a sheet cannot hold shown: a control character (NUL … US, not tab
    or line breaks) as its Unicode picture (NUL → ␀), U+FFFE, U+FFFF and a lone surrogate as �: for
    texts kept and shown back, such as an import's error list (PostgreSQL's JSON cannot hold a NUL; a
    comment in an annotated copy cannot hold any of them)."""
    if text.isprintable():
        return text
    return _NOT_IN_SHEETS.sub(_picture, text)


def ooxml_text(text: str) -> str:
    """``text`` as openpyxl is to write it (a cell, a comment) so that it is shown literally: each
    ``_xHHHH_`` in it escaped as ``_x005F_xHHHH_`` (openpyxl writes text as it is; XlsxWriter escapes
    it itself, so never for ``SheetStream``)."""
    if "_x" in text:  # a C scan; the pattern only for the rare text that needs it
        return _OOXML_ESCAPABLE.sub("_x005F_", text)
    return text


def cell_text_safe(value: Any, *, ooxml_escape: bool = True) -> Any:
    """``value`` as written to a sheet: a string that a spreadsheet would read as a formula (or as
    the start of one, DDE included) gets a leading ``'``; the control characters a sheet cannot hold
    (NUL and the like, not tab or line breaks) are left out first (openpyxl refused to write them,
    XlsxWriter wrote them as ``_x0001_`` text; U+FFFE, U+FFFF and lone surrogates made openpyxl's
    XML unreadable); ``_xHHHH_`` is escaped (``ooxml_text``) unless ``ooxml_escape`` is false
    (XlsxWriter); for openpyxl, text equal to an error code (``#N/A`` …) gets the ``'`` too (openpyxl
    writes it as an error cell, which readers show empty); every other value is returned as is.  The
    text is then shown as it was, so the apostrophe goes by its own first character (an escaped one
    starts ``_``)."""
    if isinstance(value, str):
        if not value.isprintable():  # a C scan; the pattern only for the rare text that needs it
            value = _NOT_IN_SHEETS.sub("", value)
        if ooxml_escape and "_x" in value:
            value = ooxml_text(value)
        if value.startswith(FORMULA_TRIGGERS) or (ooxml_escape and value in ERROR_CODES):
            return "'" + value
    return value


def safe_row(values: Iterable[Any], *, ooxml_escape: bool = True) -> list[Any]:
    """A row for ``ws.append``: text values made safe; a prepared cell (``WriteOnlyCell``) keeps its
    style, with its value made safe.  ``ooxml_escape``: as ``cell_text_safe`` (false for XlsxWriter)."""
    row: list[Any] = []
    for value in values:
        if isinstance(value, Cell):
            if isinstance(value.value, str):
                value.value = cell_text_safe(value.value, ooxml_escape=ooxml_escape)
            row.append(value)
        else:
            row.append(cell_text_safe(value, ooxml_escape=ooxml_escape))
    return row


def sheet_append(ws: Any, values: Iterable[Any]) -> None:
    ws.append(safe_row(values))


def sheet_header(
    ws: Any, headers: Sequence[str], widths: Sequence[int] | None = None, *, title: str | None = None
) -> int:
    """Column widths, an optional bold title row, then the bold header row, frozen below it.  Call
    before anything is appended (a write-only sheet writes its widths and panes first).  Returns
    the header's row number (for ``sheet_filter``)."""
    for index, header in enumerate(headers, start=1):
        width = widths[index - 1] if widths is not None else max(10, 2 * len(header) + 2)
        ws.column_dimensions[get_column_letter(index)].width = width
    header_row = 1 if title is None else 2
    ws.freeze_panes = f"A{header_row + 1}"
    if title is not None:
        cell = WriteOnlyCell(ws, value=cell_text_safe(title))
        cell.font = HEADER_FONT
        ws.append([cell])
    cells = []
    for header in headers:
        cell = WriteOnlyCell(ws, value=cell_text_safe(header))
        cell.font = HEADER_FONT
        cells.append(cell)
    ws.append(cells)
    return header_row


def sheet_filter(ws: Any, *, columns: int, last_row: int, header_row: int = 1) -> None:
    """The auto-filter on the header row over the written rows (set after the rows, before save)."""
    end = max(last_row, header_row)
    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(columns)}{end}"


def _xlsxwriter_text(value: Any) -> Any:
    """Text as XlsxWriter is to be given it.  CR as XML reads it back from any .xlsx (a line feed):
    XlsxWriter would write it as the escape ``_x000D_``, which readers other than Excel show as those
    characters.  Text that starts ``<r>`` and ends ``</r>`` gets a leading ``'`` as a formula does:
    XlsxWriter writes such a string into the sheet's XML as it is (rich text made by
    ``write_rich_string``), so a stored value could have added any cell, a formula too."""
    if isinstance(value, str):
        if "\r" in value:
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        if value.startswith("<r>") and value.endswith("</r>"):
            return "'" + value
    return value


class SheetStream:
    """One-sheet download written row by row: the layout of ``sheet_header``/``sheet_filter`` (bold
    frozen header, column widths, auto-filter over the rows) and ``safe_row``'s cells, through
    XlsxWriter in ``constant_memory`` mode — each row goes to disk as it is appended, so memory
    stays flat, and it writes about 2.5× faster than openpyxl's write-only workbook.

    Cells are what openpyxl wrote: text as text (never a formula, a link or a number: XlsxWriter's
    string conversions are off and ``safe_row`` quotes formula triggers), numbers and ``Decimal`` as
    numbers, dates as date cells (``yyyy-mm-dd``), ``None`` as no cell; the cells of the columns in
    ``text_columns`` (0-based) are text with the number format ``@``, empty ones too (身份证号).  ``close()`` finishes
    the file and returns the number of rows appended.
    """

    def __init__(
        self,
        output: str | IO[bytes],
        *,
        title: str,
        columns: Sequence[tuple[str, int]],
        text_columns: Collection[int] = (),
    ) -> None:
        self.workbook = xlsxwriter.Workbook(
            output,
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "default_date_format": "yyyy-mm-dd",
            },
        )
        self.sheet = self.workbook.add_worksheet(sheet_title(title))
        self.width = len(columns)
        self.text_format = self.workbook.add_format({"num_format": "@"})
        self.text_columns = sorted(text_columns)
        for index, (_name, width) in enumerate(columns):
            # in pixels, so that the file says exactly ``width`` characters as openpyxl wrote it
            self.sheet.set_column_pixels(index, index, width * self.sheet.max_digit_width)
        self.sheet.freeze_panes(1, 0)
        bold = self.workbook.add_format({"bold": True})
        # XlsxWriter escapes ``_xHHHH_`` itself: the text is not escaped here too
        names = [_xlsxwriter_text(cell_text_safe(name, ooxml_escape=False)) for name, _width in columns]
        self.sheet.write_row(0, 0, names, bold)
        self.rows = 0

    def append(self, values: Iterable[Any]) -> None:
        self.rows += 1
        row = [_xlsxwriter_text(value) for value in safe_row(values, ooxml_escape=False)]
        write = self.sheet.write
        for col, value in enumerate(row):
            if col in self.text_columns:
                if value is None:
                    self.sheet.write_blank(self.rows, col, None, self.text_format)
                else:
                    self.sheet.write_string(self.rows, col, str(value), self.text_format)
            elif value is not None:
                write(self.rows, col, value)

    def close(self) -> int:
        self.sheet.autofilter(0, 0, self.rows, self.width - 1)
        self.workbook.close()
        return self.rows


_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


def sheet_title(text: str) -> str:
    """A worksheet name Excel accepts: no ``[]:*?/\\``, at most 31 characters."""
    return _SHEET_NAME_BAD.sub("-", text).strip("'")[:31] or "Sheet1"


def attachment_disposition(*, filename: str, fallback: str) -> str:
    """``Content-Disposition`` of a download: the Chinese name in RFC 5987 ``filename*`` (what
    browsers use) and an ASCII ``filename`` for clients that do not read it."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", fallback) or "download.xlsx"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
