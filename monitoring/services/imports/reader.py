"""Streaming .xlsx reading (openpyxl read-only): header detection and raw rows."""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from monitoring.services.imports.spec import KindSpec, clean_text

HEADER_SCAN_ROWS = 6  # the header row plus up to 5 title rows above it (SPEC §6)
# Zip-bomb guard: an .xlsx is a zip archive; refuse one that inflates beyond these before reading.
MAX_UNCOMPRESSED_BYTES = 1024 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
MAX_ARCHIVE_MEMBERS = 10_000


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
    """Yield (iterator of raw row tuples of the first worksheet, its stated last row number);
    the workbook is closed afterwards."""
    with warnings.catch_warnings():
        # openpyxl warns about features it does not read (data validation, default styles …);
        # they do not matter for values.
        warnings.simplefilter("ignore", UserWarning)
        archive_check(source)
        try:
            wb = load_workbook(source, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
            raise SheetError(
                "文件不是有效的 Excel 工作簿（.xlsx），请用 Excel 或 WPS 另存为 .xlsx 后重新上传。"
            ) from None
        try:
            if not wb.worksheets:
                raise SheetError("工作簿中没有工作表。")
            ws = wb.worksheets[0]
            max_row = ws.max_row  # from <dimension>: an estimate for the progress bar only
            ws.reset_dimensions()  # some writers store a wrong <dimension>; read every cell that is there
            yield ws.iter_rows(values_only=True), max_row
        finally:
            wb.close()


def archive_check(source: str | IO[bytes]) -> None:
    """Refuse archives that are not an .xlsx or that would inflate to far more than they weigh
    (a "zip bomb"), judged from the zip directory alone, before anything is decompressed."""
    not_xlsx = "文件不是有效的 Excel 工作簿（.xlsx），请用 Excel 或 WPS 另存为 .xlsx 后重新上传。"
    position = None if isinstance(source, str) else source.tell()
    try:
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
            names = {m.filename for m in members}
    except (zipfile.BadZipFile, OSError, ValueError):
        raise SheetError(not_xlsx) from None
    finally:
        if position is not None and not isinstance(source, str):
            source.seek(position)
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise SheetError(not_xlsx)
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
