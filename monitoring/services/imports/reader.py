"""Reading an uploaded .xlsx: raw rows of the first worksheet, and header detection.

Rows are read with python-calamine (a Rust reader, about 10× faster than openpyxl), made to look
exactly as openpyxl's read-only, values-only rows did, which every parser was written against:
an empty cell is ``None``; a whole number is an ``int`` (calamine reads every number as a float);
a date cell is a ``datetime``; a formula cell is its cached value; rows above and columns left of
the data are there, empty; a row ends at its last non-empty cell.  Two kinds of file are still read
by openpyxl: those with an error cell (``#N/A`` …, which openpyxl returns as that text and calamine
as an empty cell, so a parser refuses it instead of taking it for a blank) and those whose sheets
inflate beyond ``CALAMINE_MAX_SHEET_BYTES`` (calamine holds the whole sheet in memory; openpyxl
streams).  openpyxl also still writes the templates and the annotated copies.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any
from xml.etree.ElementTree import ParseError

from openpyxl import load_workbook
from openpyxl.utils.escape import unescape
from openpyxl.utils.exceptions import InvalidFileException
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum

from monitoring.services.imports.spec import KindSpec, clean_text

HEADER_SCAN_ROWS = 6  # the header row plus up to 5 title rows above it (SPEC §6)
# Zip-bomb guard: an .xlsx is a zip archive; refuse one that inflates beyond these before reading.
MAX_UNCOMPRESSED_BYTES = 1024 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
MAX_ARCHIVE_MEMBERS = 10_000
# Worksheets inflating beyond this are streamed by openpyxl (calamine holds every cell).  Measured
# (docs/benchmarks.md, session 9): a county's members file of 300 000 rows is 146 MB of sheet XML and
# calamine reads it in 2–3 s at a peak of 281 MB (the whole import of it peaks at 367 MB, against
# 219 MB through openpyxl), where openpyxl takes 60–90 s: a county's whole roster is read by calamine,
# a larger sheet streams.
CALAMINE_MAX_SHEET_BYTES = 150 * 1024 * 1024
NOT_XLSX = "文件不是有效的 Excel 工作簿（.xlsx），请用 Excel 或 WPS 另存为 .xlsx 后重新上传。"
EXACT_INT = 2**53  # floats below this that are whole are the integers openpyxl returned


class SheetError(Exception):
    """The file as a whole cannot be read (not a workbook, no header row, missing columns)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class SheetLayout:
    header_row: int  # 1-based, as Excel shows it
    positions: dict[str, int]  # header → 0-based column index (only the kind's headers)
    ncols: int  # number of cells in the header row (for annotated copies)
    title_rows: list[tuple[Any, ...]]  # the rows above the header, as read
    header: tuple[Any, ...]  # the header row, as read


@contextmanager
def open_rows(source: str | IO[bytes]) -> Iterator[tuple[Iterator[tuple[Any, ...]], int | None]]:
    """Yield (iterator of raw row tuples of the first worksheet, its last row number or an
    estimate of it, for the progress bar); the workbook is closed afterwards."""
    archive_check(source)
    if _calamine_reads(source):
        with _calamine_rows(source) as opened:
            yield opened
    else:
        with _openpyxl_rows(source) as opened:
            yield opened


@contextmanager
def _calamine_rows(source: str | IO[bytes]) -> Iterator[tuple[Iterator[tuple[Any, ...]], int | None]]:
    position = None if isinstance(source, str) else source.tell()
    try:
        wb = CalamineWorkbook.from_object(source)
    except (CalamineError, OSError, ValueError):
        raise SheetError(NOT_XLSX) from None
    finally:
        if position is not None and not isinstance(source, str):
            source.seek(position)
    with wb:
        index = next(
            (i for i, meta in enumerate(wb.sheets_metadata) if meta.typ == SheetTypeEnum.WorkSheet),
            None,
        )
        if index is None:
            raise SheetError("工作簿中没有工作表。")
        try:
            sheet = wb.get_sheet_by_index(index)
        except (CalamineError, ValueError):
            raise SheetError(NOT_XLSX) from None
        start, end = sheet.start, sheet.end
        if start is None or end is None:  # no cell with a value
            yield iter(()), None
            return
        yield _as_openpyxl_rows(sheet.iter_rows(), start[1], end[1] + 1), end[0] + 1


def _as_openpyxl_rows(rows: Iterable[list[Any]], first_col: int, last_col: int) -> Iterator[tuple[Any, ...]]:
    """calamine's rows (from row 1, each padded to the data's columns: from the first non-empty
    column on) as openpyxl gave them (from column A, each ending at its last non-empty cell)."""
    lead: list[Any] | None = None
    for raw in rows:
        if lead is None:  # the columns left of the data, unless this version already gives them
            lead = [] if len(raw) == last_col else [None] * first_col
        # a non-empty text cell (most of a roster) is kept as it is without a call per cell
        row = lead + [v if type(v) is str and v else _value(v) for v in raw]
        while row and row[-1] is None:
            row.pop()
        yield tuple(row)


def _value(value: Any) -> Any:
    if value == "" and isinstance(value, str):
        return None  # an empty cell (or a formula without a cached value)
    if isinstance(value, float) and value.is_integer() and -EXACT_INT < value < EXACT_INT:
        return int(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    return value


@contextmanager
def _openpyxl_rows(source: str | IO[bytes]) -> Iterator[tuple[Iterator[tuple[Any, ...]], int | None]]:
    with warnings.catch_warnings():
        # openpyxl warns about features it does not read (data validation, default styles …);
        # they do not matter for values.
        warnings.simplefilter("ignore", UserWarning)
        try:
            wb = load_workbook(source, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
            raise SheetError(NOT_XLSX) from None
        try:
            if not wb.worksheets:
                raise SheetError("工作簿中没有工作表。")
            ws = wb.worksheets[0]
            max_row = ws.max_row  # from <dimension>: an estimate for the progress bar only
            ws.reset_dimensions()  # some writers store a wrong <dimension>; read every cell that is there
            yield _openpyxl_values(ws.iter_rows(values_only=True)), max_row
        finally:
            wb.close()


def _openpyxl_values(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """openpyxl's rows, their text as calamine reads it (``_xHHHH_`` decoded: Excel writes a typed
    ``_x0041_`` as ``_x005F_x0041_``, which openpyxl leaves as it is, so one file read differently
    on the two paths); a sheet whose XML breaks off or holds what XML cannot (found only as it is
    read: a character such as U+FFFF written raw by a careless program) is ``NOT_XLSX``, not a
    system error."""
    try:
        for row in rows:
            if any(type(v) is str and "_x" in v for v in row):
                row = tuple(unescape(v) if type(v) is str and "_x" in v else v for v in row)
            yield row
    except (ParseError, zipfile.BadZipFile, zlib.error, EOFError):
        raise SheetError(NOT_XLSX) from None


def _calamine_reads(source: str | IO[bytes]) -> bool:
    """Whether calamine reads this (already checked) archive: worksheets small enough to hold in
    memory and no error cell in them (``t="e"``, found by inflating the sheets' XML without
    parsing it: a tenth of the time of reading them)."""
    position = None if isinstance(source, str) else source.tell()
    try:
        with zipfile.ZipFile(source) as archive:
            sheets = [m for m in archive.infolist() if m.filename.startswith("xl/worksheets/")]
            if sum(m.file_size for m in sheets) > CALAMINE_MAX_SHEET_BYTES:
                return False
            return not any(_has_error_cell(archive, member) for member in sheets)
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, NotImplementedError, zlib.error):
        return False  # openpyxl then says what is wrong with it, as before
    finally:
        if position is not None and not isinstance(source, str):
            source.seek(position)


_ERROR_CELL = re.compile(rb"""\st\s*=\s*(?:"e"|'e')""")  # <c r="B2" t="e"><v>#N/A</v></c>


def _has_error_cell(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    tail = b""
    with archive.open(member) as xml:
        while chunk := xml.read(1 << 20):
            window = tail + chunk
            # the quoted e every match contains, looked for first (a plain search is a fraction of
            # the pattern's time over a county's 146 MB of sheet XML)
            if (b'"e"' in window or b"'e'" in window) and _ERROR_CELL.search(window):
                return True
            tail = chunk[-16:]
    return False


def archive_check(source: str | IO[bytes]) -> None:
    """Refuse archives that are not an .xlsx or that would inflate to far more than they weigh
    (a "zip bomb"), judged from the zip directory alone, before anything is decompressed."""
    position = None if isinstance(source, str) else source.tell()
    try:
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
            names = {m.filename for m in members}
    except (zipfile.BadZipFile, OSError, ValueError):
        raise SheetError(NOT_XLSX) from None
    finally:
        if position is not None and not isinstance(source, str):
            source.seek(position)
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise SheetError(NOT_XLSX)
    total = sum(m.file_size for m in members)
    too_dense = any(m.compress_size and m.file_size / m.compress_size > MAX_COMPRESSION_RATIO for m in members)
    if len(members) > MAX_ARCHIVE_MEMBERS or total > MAX_UNCOMPRESSED_BYTES or too_dense:
        raise SheetError("文件解压后异常巨大或结构异常，已拒绝读取。请用 Excel 或 WPS 重新保存为 .xlsx 后上传。")


def find_header(rows: Iterator[tuple[Any, ...]], spec: KindSpec) -> SheetLayout:
    """Read up to ``HEADER_SCAN_ROWS`` rows and find the header row; ``rows`` continues after it."""
    known = set(spec.headers)
    seen: list[tuple[Any, ...]] = []
    best: tuple[int, int] | None = None  # (number of known headers, index)
    for index, row in enumerate(rows):
        seen.append(row)
        texts = [clean_text(v) for v in row]
        hits = known.intersection(texts)
        required_hit = all(h in texts for h in spec.required_headers)
        if required_hit:
            return _layout(index, texts, spec, seen)
        if hits and (best is None or len(hits) > best[0]):
            best = (len(hits), index)
        if index + 1 >= HEADER_SCAN_ROWS:
            break
    if best is not None and best[0] >= 2:
        texts = [clean_text(v) for v in seen[best[1]]]
        missing = [h for h in spec.required_headers if h not in texts]
        raise SheetError(f"第 {best[1] + 1} 行的表头缺少必需的列：{'、'.join(missing)}。")
    raise SheetError(
        f"前 {HEADER_SCAN_ROWS} 行中没有找到{spec.label}的表头行（应包含：{'、'.join(spec.required_headers)}）。"
        "请下载模板核对表头。"
    )


def _layout(index: int, texts: list[str], spec: KindSpec, seen: list[tuple[Any, ...]]) -> SheetLayout:
    positions: dict[str, int] = {}
    for col, text in enumerate(texts):
        if text in spec.headers and text not in positions:
            positions[text] = col
    for group in spec.extra_required_any:
        if not any(h in positions for h in group):
            raise SheetError(f"表头至少需要以下列之一：{'、'.join(group)}。")
    return SheetLayout(
        header_row=index + 1, positions=positions, ncols=len(texts), title_rows=seen[:index], header=seen[index]
    )
