"""The import reader: python-calamine rows exactly as openpyxl's read-only rows were.

Every cell parser was written against openpyxl's values (``None`` for an empty cell, ``int`` for a
whole number, ``datetime`` for a date cell, the cached value of a formula, rows from row 1 and
column A).  calamine reads about ten times faster; the reader makes its rows look the same, and
leaves to openpyxl the files it would read differently (error cells) or hold whole in memory.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from monitoring.models import Member
from monitoring.services.imports import reader
from monitoring.services.imports.pipeline import import_run
from tests.conftest import World
from tests.factories import make_id_number
from tests.monitoring.test_imports import member_row
from tests.monitoring.xlsx import kind_sheet


def workbook_bytes(fill: Any) -> io.BytesIO:
    wb = Workbook()
    fill(wb.active)
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out


def awkward(ws: Any) -> None:
    """Data away from A1, gaps, every kind of value an uploaded sheet holds."""
    ws["C3"], ws["D3"], ws["E3"] = "表头", 12, 12.5
    ws["F3"], ws["G3"] = dt.date(2025, 1, 5), dt.datetime(2025, 1, 5, 10, 30)
    ws["C4"], ws["D4"], ws["E4"], ws["F4"] = True, "=1+1", "  x　", 520101196501011234
    ws["C6"] = "隔一行"
    ws["D7"] = dt.time(10, 30)
    ws["C8"].number_format = "@"
    ws["C8"] = "0012"
    ws["D8"], ws["E8"], ws["F8"], ws["G8"] = 1e17, -0.0, 3.0, 520101198005170000
    ws.append(["A"])
    ws.append([])
    ws.append(["Z", None, -12])


def rows_of(opener: Any, source: io.BytesIO) -> tuple[list[tuple[Any, ...]], int | None]:
    source.seek(0)
    with opener(source) as (rows, max_row):
        return [_trimmed(r) for r in rows], max_row


def _trimmed(row: Any) -> tuple[Any, ...]:
    values = list(row)
    while values and values[-1] is None:  # openpyxl keeps present-but-empty cells at a row's end
        values.pop()
    return tuple(values)


def typed(rows: list[tuple[Any, ...]]) -> list[list[tuple[type, Any]]]:
    return [[(type(v), v) for v in row] for row in rows]


def test_calamine_rows_are_openpyxls_rows() -> None:
    source = workbook_bytes(awkward)
    assert reader._calamine_reads(source)
    new, new_max = rows_of(reader.open_rows, source)
    old, old_max = rows_of(reader._openpyxl_rows, source)
    assert typed(new) == typed(old)
    assert new_max == old_max == 11
    assert new[2] == (None, None, "表头", 12, 12.5, dt.datetime(2025, 1, 5), dt.datetime(2025, 1, 5, 10, 30))
    assert new[3][3] is None  # a formula without a cached value
    assert new[7][:5] == (None, None, "0012", 1e17, 0)


def test_a_file_with_an_error_cell_is_read_as_before() -> None:
    """calamine gives an error cell as an empty one; openpyxl as its text, which parsers refuse."""

    def with_error(ws: Any) -> None:
        awkward(ws)
        ws["H4"] = "#N/A"

    source = workbook_bytes(with_error)
    assert not reader._calamine_reads(source)
    rows, _max = rows_of(reader.open_rows, source)
    assert rows[3][7] == "#N/A"


def test_a_sheet_too_big_to_hold_is_streamed_by_openpyxl(monkeypatch: pytest.MonkeyPatch) -> None:
    source = workbook_bytes(awkward)
    expected, _max = rows_of(reader.open_rows, source)
    monkeypatch.setattr(reader, "CALAMINE_MAX_SHEET_BYTES", 100)
    assert not reader._calamine_reads(source)
    assert rows_of(reader.open_rows, source)[0] == expected


def test_an_archive_with_a_broken_sheet_is_refused_with_the_usual_message() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(workbook_bytes(awkward)) as good, zipfile.ZipFile(out, "w") as bad:
        for item in good.infolist():
            data = good.read(item)
            bad.writestr(item, data[: len(data) // 2] if item.filename == "xl/worksheets/sheet1.xml" else data)
    out.seek(0)
    with pytest.raises(reader.SheetError) as refused, reader.open_rows(out) as (rows, _max):
        list(rows)
    assert refused.value.message == reader.NOT_XLSX


@pytest.mark.django_db
def test_an_import_reads_the_same_through_both_readers(
    tmp_path: Path, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same members file (title row, a bad row) gives the same errors either way."""
    rows = [member_row(身份证号=make_id_number()), member_row(身份证号=520101198005170000, 健康状况="很好")]
    path = kind_sheet(tmp_path / "成员.xlsx", "members", rows, titles=[["家庭成员（2025）"]])
    fast = import_run(kind="members", source=str(path), user=world.users["county"], dry_run=True)
    monkeypatch.setattr(reader, "CALAMINE_MAX_SHEET_BYTES", 0)
    slow = import_run(kind="members", source=str(path), user=world.users["county"], dry_run=True)
    assert [e.as_dict() for e in fast.errors] == [e.as_dict() for e in slow.errors]
    assert fast.errors and fast.errors[0].row == 4
    assert Member.objects.count() == len(world.households)
