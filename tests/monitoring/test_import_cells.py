"""The cells an import looks up instead of parsing (``spec.exact_cells``) parse to what the lookup
gives, for every column of every kind; cells that differ in any way still reach the parser."""

from __future__ import annotations

from typing import Any

import pytest

from monitoring.models import Member
from monitoring.services.imports.pipeline import import_run
from monitoring.services.imports.spec import SPECS, CellError, exact_cells
from tests.conftest import World
from tests.monitoring.test_imports import member_row
from tests.monitoring.xlsx import kind_sheet

COLUMNS = [(kind, column) for kind, spec in SPECS.items() for column in spec.columns]


@pytest.mark.parametrize(("kind", "column"), COLUMNS, ids=[f"{k}-{c.field}" for k, c in COLUMNS])
def test_each_looked_up_cell_parses_to_the_value_looked_up(kind: str, column: Any) -> None:
    for cell, value in exact_cells(column).items():
        parsed = column.parse(cell)
        assert (parsed, type(parsed)) == (value, type(value)), (kind, column.field, cell)


def test_enumerations_and_yes_no_are_looked_up() -> None:
    members = SPECS["members"]
    assert exact_cells(members.column("relation"))["户主"] == "HEAD"
    assert exact_cells(members.column("disability_grade"))[None] == ""
    assert None not in exact_cells(members.column("relation"))  # 与户主关系 may not be empty
    assert exact_cells(members.column("has_medical_insurance")) == {"是": True, "否": False}
    assert exact_cells(members.column("name")) == {}


@pytest.mark.django_db
def test_cells_near_a_label_still_get_the_parsers_verdict(world: World, tmp_path: Any) -> None:
    """A label with spaces is trimmed by the parser as before; a number where 是/否 belongs, or a
    label of another column, is refused with the parser's message."""
    rows = [
        member_row(**{"与户主关系": " 配偶 ", "是否参加医保": "是"}),
        member_row(**{"是否参加医保": 1}),
        member_row(**{"与户主关系": "健康", "是否参加医保": "否"}),
    ]
    result = import_run(
        kind="members", source=str(kind_sheet(tmp_path / "m.xlsx", "members", rows)), user=None, dry_run=True
    )
    messages = {(e.row - result.errors[0].row, e.column): e.message for e in result.errors}
    assert set(messages) == {(0, "是否参加医保"), (1, "与户主关系")}, result.errors
    assert "应填“是”或“否”" in messages[(0, "是否参加医保")]
    assert "不是有效的与户主关系" in messages[(1, "与户主关系")]
    # an Excel TRUE cell is not looked up (not text) and the parser reads it as 是, as before
    assert SPECS["members"].column("has_medical_insurance").parse(True) is True
    with pytest.raises(CellError):
        SPECS["members"].column("has_medical_insurance").parse(1)


@pytest.mark.django_db
def test_a_nul_character_in_a_text_cell_is_refused_with_its_row_and_column(world: World, tmp_path: Any) -> None:
    """Excel writes a NUL as _x0000_ and the reader gives it back: PostgreSQL cannot store it (the
    whole write failed with a generic message), SQLite stored it."""
    rows = [member_row(**{"姓名": "张_x0000_三"}), member_row()]
    result = import_run(kind="members", source=str(kind_sheet(tmp_path / "m.xlsx", "members", rows)), user=None)
    assert [(e.column, e.message) for e in result.errors] == [("姓名", "姓名含有无法保存的空字符，请删除后重新导入。")]
    assert not Member.objects.filter(name__startswith="张").exists()
