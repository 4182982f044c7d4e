"""Member rows recognised as unchanged before they are parsed (issue 21): a re-imported roster is
counted unchanged without parsing its rows, and every file gets the verdict the full path gives —
the same counts, errors, preview, changes proposed and registry afterwards."""

from __future__ import annotations

import datetime as dt
from contextlib import nullcontext
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from monitoring.models import HouseholdChange, Member, MemberStatus
from monitoring.services.imports import spec as spec_module
from monitoring.services.imports.kinds import MembersHandler
from monitoring.services.imports.pipeline import ImportResult, import_run
from monitoring.services.imports.spec import SPECS
from tests.conftest import World
from tests.monitoring.test_imports import member_row
from tests.monitoring.xlsx import write_sheet

pytestmark = pytest.mark.django_db

IN_COUNTY = ["520101001001", "520101001002", "520101002001"]  # the county user's (520101)
OTHER_COUNTY = "520102001001"
HEADERS = SPECS["members"].headers  # 成员状态 last


def _row(village: str, name: str, relation: str = "配偶", **over: Any) -> dict[str, Any]:
    return member_row(户编号=f"H{village}", 姓名=name, 与户主关系=relation, **over)


def _sheet(path: Path, rows: list[dict[str, Any]], *, status_column: bool = True, openpyxl: bool = False) -> Path:
    """The members sheet; ``openpyxl``: with an error cell (#N/A) right of the data, so the reader
    takes openpyxl's path instead of calamine's."""
    headers = HEADERS if status_column else [h for h in HEADERS if h != "成员状态"]
    write_sheet(path, headers, [[r.get(h) for h in headers] for r in rows], titles=[["家庭成员信息表"]])
    if openpyxl:
        wb = load_workbook(path)
        cell = wb.active.cell(row=1, column=len(headers) + 2)
        cell.value, cell.data_type = "#N/A", "e"
        wb.save(path)
    return path


def _outcome(result: ImportResult) -> dict[str, Any]:
    return {
        "ok": result.ok,
        "counts": (result.rows, result.created, result.updated, result.unchanged),
        "errors": [e.as_dict() for e in result.errors],
        "error_count": result.error_count,
        "preview": result.preview,
        "extra": result.extra,
        "counties": sorted(result.counties),
    }


def _registry() -> list[tuple[Any, ...]]:
    members = Member.objects.order_by("id_number").values_list(
        "id_number", "household__household_no", "name", "relation", "health", "disability_grade", "labor",
        "schooling", "employment", "has_medical_insurance", "status",
    )  # fmt: skip
    changes = HouseholdChange.objects.order_by("id").values_list("kind", "before", "after", "state")
    return [*members, *changes]


Verdict = tuple[dict[str, Any], list[tuple[Any, ...]]]


def _both_ways(path: Path, user: Any, *, dry_run: bool = False) -> tuple[Verdict, Verdict]:
    """The file imported with the recognition and without it (every row parsed), each in a
    transaction rolled back after: (outcome, registry) of each."""
    found = []
    for recognise in (True, False):
        off = mock.patch.object(MembersHandler, "unchanged", lambda self, positions: None)
        with transaction.atomic(), nullcontext() if recognise else off:
            result = import_run(kind="members", source=str(path), user=user, dry_run=dry_run)
            found.append((_outcome(result), _registry()))
            transaction.set_rollback(True)
    return found[0], found[1]


@pytest.fixture
def roster(tmp_path: Path, world: World) -> list[dict[str, Any]]:
    """A county's roster imported once (the stored members written by an import), beside the
    world's heads (written by the factories) and a member of another county."""
    rows = [
        _row(IN_COUNTY[0], "张秀英"),
        _row(IN_COUNTY[0], "王小明", "之子", 在校情况="小学", 务工情况=None),
        _row(IN_COUNTY[1], "李桂兰", 健康状况="长期慢性病", 残疾等级="二级", 是否参加医保="否"),
        _row(IN_COUNTY[1], "赵强", "之子", 劳动能力="技能劳动力", 务工情况="省外务工"),
        _row(IN_COUNTY[2], "钱芳", "之女"),
    ]
    result = import_run(kind="members", source=str(_sheet(tmp_path / "base.xlsx", rows)), user=None)
    assert (result.ok, result.created) == (True, 5), result.errors
    for village in IN_COUNTY:  # the heads the factories wrote, as a sheet shows them
        head = Member.objects.get(household__village_id=village, relation="HEAD")
        rows.append(_row(village, head.name, "户主", 身份证号=head.id_number, 务工情况=None))
    other = _row(OTHER_COUNTY, "孙丽")
    assert import_run(kind="members", source=str(_sheet(tmp_path / "other.xlsx", [other])), user=None).ok
    rows.append(other)
    return rows


def test_a_re_imported_roster_is_counted_unchanged_without_parsing_a_row(
    tmp_path: Path, world: World, roster: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = [r for r in roster if r["户编号"] != f"H{OTHER_COUNTY}"]
    path = _sheet(tmp_path / "again.xlsx", mine)
    before = _registry()

    def not_parsed(value: object) -> str:
        raise AssertionError("a recognised row's 身份证号 was parsed")

    monkeypatch.setattr(spec_module, "id_number_normalize", not_parsed)
    result = import_run(kind="members", source=str(path), user=world.users["county"])
    assert (result.ok, result.rows, result.created, result.updated, result.unchanged) == (True, 8, 0, 0, 8)
    assert result.summary() == "家庭成员导入完成：共 8 行，新增 0 行，更新 0 行，未变化 8 行。"
    assert [(p["_row"], p["_action"], p["姓名"]) for p in result.preview][:3] == [
        (3, "不变", "张秀英"),
        (4, "不变", "王小明"),
        (5, "不变", "李桂兰"),
    ]
    assert result.preview[2]["残疾等级"] == "二级" and result.preview[2]["是否参加医保"] == "否"
    assert _registry() == before


def test_a_member_edited_since_the_import_is_written_back_from_the_file(
    tmp_path: Path, world: World, roster: list[dict[str, Any]]
) -> None:
    edited = Member.objects.get(name="张秀英")
    edited.health = Member.Health.SERIOUS  # changed on the household's page since the import
    edited.save(update_fields=["health"])
    path = _sheet(tmp_path / "again.xlsx", [r for r in roster if r["户编号"] != f"H{OTHER_COUNTY}"])
    result = import_run(kind="members", source=str(path), user=world.users["county"])
    assert (result.ok, result.updated, result.unchanged) == (True, 1, 7)
    edited.refresh_from_db()
    assert edited.health == Member.Health.HEALTHY


def test_a_member_of_another_county_is_not_taken_for_unchanged(
    tmp_path: Path, world: World, roster: list[dict[str, Any]]
) -> None:
    result = import_run(kind="members", source=str(_sheet(tmp_path / "all.xlsx", roster)), user=world.users["county"])
    assert not result.ok
    assert [(e.row, e.column, e.message) for e in result.errors] == [
        (11, "户编号", f"户编号 H{OTHER_COUNTY} 不在您的管辖范围内。")
    ]


def test_a_stored_name_with_a_space_is_trimmed_by_the_same_row_as_ever(
    tmp_path: Path, world: World, roster: list[dict[str, Any]]
) -> None:
    """A name stored untrimmed (by a writer that did not trim) and a sheet showing it so: the cell
    parses to the trimmed name, so the row is an update, not unchanged."""
    Member.objects.filter(name="张秀英").update(name="张秀英 ")
    rows = [dict(r, 姓名=r["姓名"] + " ") if r["姓名"] == "张秀英" else r for r in roster[:8]]
    recognised, parsed = _both_ways(_sheet(tmp_path / "again.xlsx", rows), world.users["county"])
    assert recognised == parsed
    assert recognised[0]["counts"] == (8, 0, 1, 7)


# every way a row can differ from what is stored, and every way the registry can differ from the
# file: each applied to some rows of the roster, the verdict must be the full path's
ROW_CHANGES = [
    "same",
    "health",  # another label
    "name_space",  # a trailing space: parses to the stored name
    "id_space",  # a leading space before the 身份证号
    "id_lower",  # the 身份证号 typed with a lower-case x (or one digit changed: another person)
    "status_active",  # 成员状态 正常
    "status_dead",  # 死亡: a removal for the county to review
    "move",  # to another household of the county (a move for the county to review)
    "head",  # made 户主 (a second head, unless the file also changes the first)
    "grade_word",  # 残疾等级 “无”, which is not a label
    "insured_bool",  # 是否参加医保 as a true/false cell
    "duplicate",  # the row twice
    "drop",  # left out of the file
]
STORE_CHANGES = ["none", "edited", "name_space_stored", "deceased", "moved", "bad_id"]


def _changed(row: dict[str, Any], change: str) -> list[dict[str, Any]]:
    row = dict(row)
    if change == "health":
        row["健康状况"] = "患有大病"
    elif change == "name_space":
        row["姓名"] += " "
    elif change == "id_space":
        row["身份证号"] = " " + row["身份证号"]
    elif change == "id_lower":
        number = row["身份证号"]
        row["身份证号"] = number[:-1] + "x" if number.endswith("X") else number[:-1] + str((int(number[-1]) + 1) % 10)
    elif change == "status_active":
        row["成员状态"] = "正常"
    elif change == "status_dead":
        row["成员状态"] = "死亡"
    elif change == "move":
        village = row["户编号"][1:]
        row["户编号"] = f"H{IN_COUNTY[(IN_COUNTY.index(village) + 1) % 3 if village in IN_COUNTY else 0]}"
    elif change == "head":
        row["与户主关系"] = "户主"
    elif change == "grade_word":
        row["残疾等级"] = "无"
    elif change == "insured_bool":
        row["是否参加医保"] = row["是否参加医保"] == "是"
    elif change == "duplicate":
        return [row, dict(row)]
    elif change == "drop":
        return []
    return [row]


def _store_change(id_number: str, change: str) -> str:
    """The change made to the stored member; returns their 身份证号 as stored after it."""
    member = Member.objects.get(id_number=id_number)
    if change == "bad_id":  # stored by a writer that did not check it (the database checks the format)
        bad = id_number[:17] + ("0" if id_number[17] != "0" else "1")
        Member.objects.filter(pk=member.pk).update(id_number=bad)
        return bad
    if change == "edited":
        member.labor = "LOST"
        member.save(update_fields=["labor"])
    elif change == "name_space_stored":  # written by a path that did not trim
        member.name += " "
        member.save(update_fields=["name"])
    elif change == "deceased" and member.relation != "HEAD":
        member.status, member.departed_on = MemberStatus.DECEASED, dt.date(2026, 3, 1)
        member.save(update_fields=["status", "departed_on"])
    elif change == "moved" and member.relation != "HEAD":
        member.household = Member.objects.get(household__village_id=IN_COUNTY[2], relation="HEAD").household
        member.save(update_fields=["household"])
    return id_number


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.data(),
    user=st.sampled_from(["county", "township", "admin"]),
    status_column=st.booleans(),
    dry_run=st.booleans(),
    openpyxl=st.booleans(),
)
def test_every_file_gets_the_full_paths_verdict(
    tmp_path: Path,
    world: World,
    roster: list[dict[str, Any]],
    data: st.DataObject,
    user: str,
    status_column: bool,
    dry_run: bool,
    openpyxl: bool,
) -> None:
    rows: list[dict[str, Any]] = []
    with transaction.atomic():
        for row in roster:
            # most rows as stored (most files are valid then), the rest changed
            stored_id = _store_change(row["身份证号"], data.draw(st.sampled_from(["none"] * 8 + STORE_CHANGES)))
            rows += _changed(dict(row, 身份证号=stored_id), data.draw(st.sampled_from(["same"] * 8 + ROW_CHANGES)))
        rows = data.draw(st.permutations(rows))
        path = _sheet(tmp_path / "changed.xlsx", rows, status_column=status_column, openpyxl=openpyxl)
        recognised, parsed = _both_ways(path, world.users[user], dry_run=dry_run)
        transaction.set_rollback(True)
    assert recognised == parsed


def test_the_recognition_and_the_write_know_every_column_of_the_members_sheet() -> None:
    """A column added to the members sheet (or a field to what the kind writes) must reach the
    recognition and the PostgreSQL write too: else a recognised row would drop the file's value of
    it, or the write would set it to its default."""
    from monitoring.services.imports.member_store import SHEET_FIELDS, WRITTEN, members_upsert

    assert {*SHEET_FIELDS, "status"} == {c.field for c in SPECS["members"].columns}
    assert set(WRITTEN) == {*MembersHandler.FIELDS, "id_number"}
    with pytest.raises(ValueError, match="members_upsert writes"):
        members_upsert([], update_fields=[*MembersHandler.FIELDS, "status"])
