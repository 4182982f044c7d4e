"""Attacks on the recognition of unchanged member rows: files and registry states where the
recognised path and the full path (every row parsed) must give the same verdict."""

from __future__ import annotations

import datetime as dt
import zipfile
from contextlib import nullcontext
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from django.db import DatabaseError, connection, transaction
from openpyxl import load_workbook

from fanpin.core.idcard import id_check_digit
from monitoring.models import Household, Member
from monitoring.services.bulk import CHUNK
from monitoring.services.imports.kinds import MembersHandler
from monitoring.services.imports.member_store import WRITTEN, members_create, members_upsert
from monitoring.services.imports.pipeline import BATCH_SIZE, import_run
from monitoring.services.imports.reader import open_rows
from monitoring.services.imports.rows import MAX_ERRORS_KEPT
from tests.conftest import World
from tests.factories import make_id_number
from tests.monitoring.test_import_unchanged import _both_ways, _outcome, _registry, _sheet, roster  # noqa: F401

pytestmark = pytest.mark.django_db


def _wrong_check_digit(number: str) -> str:
    right = id_check_digit(number[:17])
    return number[:17] + ("0" if right != "0" else "1")


def test_a_member_stored_with_a_wrong_check_digit_is_refused_as_ever(
    tmp_path: Path,
    world: World,
    roster: list[dict[str, Any]],  # noqa: F811
) -> None:
    """A 身份证号 stored by a writer that did not check it (the database checks its format only):
    the full path refuses the cell (校验位错误); the recognised path must not count it unchanged."""
    row = roster[0]
    bad = _wrong_check_digit(row["身份证号"])
    Member.objects.filter(id_number=row["身份证号"]).update(id_number=bad)
    rows = [dict(r, 身份证号=bad) if r is row else r for r in roster[:8]]
    recognised, parsed = _both_ways(_sheet(tmp_path / "again.xlsx", rows), world.users["county"])
    assert parsed[0]["ok"] is False  # the full path: 身份证号校验位错误
    assert recognised == parsed


def test_a_member_stored_with_an_impossible_birth_date_is_refused_as_ever(
    tmp_path: Path,
    world: World,
    roster: list[dict[str, Any]],  # noqa: F811
) -> None:
    row = roster[0]
    first17 = row["身份证号"][:6] + "19990231" + row["身份证号"][14:17]  # 31 February
    bad = first17 + id_check_digit(first17)
    Member.objects.filter(id_number=row["身份证号"]).update(id_number=bad)
    rows = [dict(r, 身份证号=bad) if r is row else r for r in roster[:8]]
    recognised, parsed = _both_ways(_sheet(tmp_path / "again.xlsx", rows), world.users["county"])
    assert parsed[0]["ok"] is False
    assert recognised == parsed


def test_the_errors_kept_are_the_full_paths_when_a_file_has_more_than_can_be_kept(
    tmp_path: Path,
    world: World,
    roster: list[dict[str, Any]],  # noqa: F811
) -> None:
    """MAX_ERRORS_KEPT (5 000) keeps the errors found first.  The full path checks a batch's
    references when 2 000 clean rows have gathered; recognised rows must count toward that batch
    (they did not at first), or the batch checks of the rows after them would run later — after the
    cell errors of the rows after that — and another 5 000 of the file's errors would be kept."""

    household = Household.objects.get(household_no=f"H{roster[0]['户编号'][1:]}")
    stored = [
        Member(household=household, name=f"成员{i}", id_number=make_id_number(), relation="OTHER", health="HEALTHY",
               labor="NORMAL", employment="IN_COUNTY", has_medical_insurance=True)
        for i in range(BATCH_SIZE - 1 - 8)
    ]  # fmt: skip
    Member.objects.bulk_create(stored)
    sheet_of = {"OTHER": "其他", "HEALTHY": "健康", "NORMAL": "普通劳动力", "IN_COUNTY": "县内务工"}
    assert all(k in sheet_of for k in ("OTHER", "HEALTHY", "NORMAL", "IN_COUNTY"))
    rows = list(roster[:8]) + [
        {
            "户编号": household.household_no, "姓名": m.name, "身份证号": m.id_number, "与户主关系": sheet_of[m.relation],
            "健康状况": "健康", "残疾等级": None, "劳动能力": "普通劳动力", "在校情况": None, "务工情况": "县内务工",
            "是否参加医保": "是",
        }
        for m in stored
    ]  # fmt: skip
    # the 2 000th row: clean, but its household does not exist (an error of the batch checks)
    rows.append(dict(roster[0], 户编号="H不存在", 身份证号=make_id_number()))
    # then more rows with a bad cell than errors are kept
    rows += [dict(roster[0], 与户主关系="邻居", 身份证号=make_id_number()) for _ in range(MAX_ERRORS_KEPT)]
    recognised, parsed = _both_ways(_sheet(tmp_path / "many.xlsx", rows), world.users["county"])
    assert recognised[0]["error_count"] == parsed[0]["error_count"] == MAX_ERRORS_KEPT + 1
    assert recognised[0]["errors"] == parsed[0]["errors"]


def _with_error_cell_and_empty_text(path: Path, placeholder: str) -> Path:
    """The sheet with an error cell (#N/A) right of the data, so openpyxl reads it, and each
    ``placeholder`` cell made an empty text cell (``<is><t></t></is>``, which openpyxl reads as "")."""
    wb = load_workbook(path)
    ws = wb.active
    cell = ws.cell(row=3, column=ws.max_column + 2)
    cell.value, cell.data_type = "#N/A", "e"
    wb.save(path)
    out = path.with_name("crafted.xlsx")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                assert placeholder.encode() in data
                data = data.replace(f"<t>{placeholder}</t>".encode(), b"<t></t>")
            dst.writestr(item, data)
    return out


def test_a_member_stored_with_an_empty_name_and_an_empty_text_cell_is_refused_as_ever(
    tmp_path: Path,
    world: World,
    roster: list[dict[str, Any]],  # noqa: F811
) -> None:
    """openpyxl (a file with an error cell) reads an empty text cell as "", where calamine gives
    None.  A member stored with 姓名 "" (the database allows it): the full path refuses the blank
    cell (姓名不能为空); the recognised path compares "" with "" and counts the row unchanged."""
    row = roster[0]
    Member.objects.filter(id_number=row["身份证号"]).update(name="")
    rows = [dict(r, 姓名="@@EMPTY@@") if r is row else r for r in roster[:8]]
    path = _with_error_cell_and_empty_text(_sheet(tmp_path / "again.xlsx", rows), "@@EMPTY@@")
    with open_rows(str(path)) as (read, _n):
        assert "" in list(read)[2]  # openpyxl read it, the empty text as ""
    recognised, parsed = _both_ways(path, world.users["county"])
    assert parsed[0]["ok"] is False  # 姓名不能为空
    assert recognised == parsed


def _members_table() -> list[dict[str, Any]]:
    return list(Member.objects.order_by("id_number").values())


def test_the_postgresql_upsert_writes_what_bulk_create_wrote(world: World) -> None:
    """members_upsert (INSERT … SELECT FROM the JSON lists … ON CONFLICT) and members_create (COPY) against Django's
    bulk_create(update_conflicts=True): the same table after, new members 在册, a stored member's
    other columns (status, departed_on, departure_change) untouched."""

    if connection.vendor != "postgresql":
        pytest.skip("the JSON-list upsert is PostgreSQL's")
    household = next(iter(world.households.values()))
    gone = Member.objects.create(
        household=household, name="故人", id_number=make_id_number(), relation="OTHER", health="HEALTHY",
        labor="NORMAL", status="DECEASED", departed_on=dt.date(2026, 1, 2),
    )  # fmt: skip
    head = Member.objects.filter(household=household, relation="HEAD").get()
    rows = [
        SimpleNamespace(household_id=household.id, name="新人", id_number=make_id_number(), relation="OTHER",
                        health="HEALTHY", disability_grade="", labor="NORMAL", schooling="", employment="",
                        has_medical_insurance=False),
        SimpleNamespace(household_id=household.id, name="改名", id_number=gone.id_number, relation="OTHER",
                        health="SERIOUS", disability_grade="G1", labor="LOST", schooling="", employment="",
                        has_medical_insurance=True),
        SimpleNamespace(**{**{n: getattr(head, n) for n in WRITTEN}, "name": head.name + "乙"}),
        # the values travel as JSON text: quotes, backslashes, tabs, line breaks and ｅ as typed
        SimpleNamespace(household_id=household.id, name='引"号\\反\t斜\n线\\"ｅ', id_number=make_id_number(),
                        relation="OTHER", health="HEALTHY", disability_grade="", labor="NORMAL", schooling="",
                        employment="", has_medical_insurance=True),
    ]  # fmt: skip
    after = []
    for way in ("upsert", "create and upsert", "bulk_create"):
        with transaction.atomic():
            if way == "upsert":
                members_upsert(rows, update_fields=MembersHandler.FIELDS)
            elif way == "create and upsert":  # as the import writes: the new by COPY
                members_create([rows[0], rows[3]])
                members_upsert([rows[1], rows[2]], update_fields=MembersHandler.FIELDS)
            else:
                Member.objects.bulk_create(
                    [Member(**{n: getattr(r, n) for n in WRITTEN}) for r in rows],
                    update_conflicts=True, unique_fields=["id_number"], update_fields=MembersHandler.FIELDS,
                    batch_size=CHUNK,
                )  # fmt: skip
            after.append([{k: v for k, v in m.items() if k != "id"} for m in _members_table()])
            transaction.set_rollback(True)
    assert after[0] == after[1] == after[2]
    new = next(m for m in after[0] if m["name"] == "新人")
    assert (new["status"], new["departed_on"]) == ("ACTIVE", None)
    kept = next(m for m in after[0] if m["id_number"] == gone.id_number)
    assert (kept["status"], kept["departed_on"], kept["name"]) == ("DECEASED", dt.date(2026, 1, 2), "改名")
    assert any(m["name"] == rows[3].name and m["has_medical_insurance"] is True for m in after[0])
    # a statement the database refuses is a DatabaseError (the import's write catches it, rolls back)
    too_long = [SimpleNamespace(**{**vars(rows[0]), "id_number": make_id_number(), "name": "名" * 65})]
    with pytest.raises(DatabaseError), transaction.atomic():
        members_upsert(too_long, update_fields=MembersHandler.FIELDS)
    with pytest.raises(DatabaseError), transaction.atomic():
        members_create(too_long)
    # a 身份证号 stored since the import looked: refused, never overwritten
    with pytest.raises(DatabaseError), transaction.atomic():
        members_create([SimpleNamespace(**{**vars(rows[0]), "id_number": head.id_number})])
    assert Member.objects.get(id_number=head.id_number).name == head.name


def test_the_postgresql_lookups_give_what_the_orm_gave(world: World) -> None:
    """members_by_id_number, removals_accepted and the households by 户编号 read PostgreSQL with plain
    statements (the numbers as one array): the same values, types included, as the ORM's queries they replaced."""
    from django.db.models import CharField
    from django.db.models.fields.json import KT
    from django.db.models.functions import Cast
    from django.utils import timezone

    from monitoring.models import ChangeKind, ChangeState, HouseholdChange
    from monitoring.services.imports.changes import removals_accepted
    from monitoring.services.imports.member_store import members_by_id_number

    if connection.vendor != "postgresql":
        pytest.skip("the plain statements are PostgreSQL's")
    household = next(iter(world.households.values()))
    gone = Member.objects.create(
        household=household, name="故人", id_number=make_id_number(), relation="OTHER", health="HEALTHY",
        labor="NORMAL", status="DECEASED", departed_on=dt.date(2026, 1, 2), has_medical_insurance=True,
    )  # fmt: skip
    numbers = [*Member.objects.values_list("id_number", flat=True), make_id_number(), "52_%\\", '"}', "NULL"]
    fields = ("id", "id_number", *MembersHandler.FIELDS, "status", "departed_on", "departure_change_id",
              "household__household_no", "household__village_id")  # fmt: skip
    for asked in (fields, ("id_number", "household__village_id", "status", "departed_on")):
        by_orm = list(Member.objects.filter(id_number__in=numbers).order_by("id_number").values(*asked))
        plain = sorted(members_by_id_number(numbers, *asked), key=lambda m: m["id_number"])
        assert plain == by_orm and any(m["id_number"] == gone.id_number for m in plain)
        assert [list(m) for m in plain] == [list(m) for m in by_orm]  # the same keys in the same order
    # households by 户编号 (every import kind)
    from monitoring.models import Household
    from monitoring.services.imports.kinds.base import _households_by_number

    household_numbers = [*Household.objects.values_list("household_no", flat=True), "无此户", "52_%\\", '"}']
    by_orm_households = sorted(
        Household.objects.filter(household_no__in=household_numbers).values_list("household_no", "id", "village_id")
    )
    assert sorted(_households_by_number(household_numbers)) == by_orm_households and by_orm_households
    # the current heads of households (a departed head is none)
    from monitoring.services.imports.member_store import heads_current

    Member.objects.filter(pk=gone.pk).update(relation="HEAD")
    household_ids = [*Household.objects.values_list("id", flat=True), 0]
    heads_by_orm = sorted(
        Member.objects.current()
        .filter(household_id__in=household_ids, relation="HEAD")
        .values_list("household_id", "id_number")
    )
    assert sorted(heads_current(household_ids)) == heads_by_orm and heads_by_orm
    assert gone.id_number not in {n for _h, n in heads_by_orm}
    # accepted removals: in the region, the latest first-to-last wins; another region's not
    removed = make_id_number()
    for region, decided in (
        ("520101001001", "2026-03-01"),
        ("520101001001", "2026-05-01"),
        ("530101001001", "2026-06-01"),
    ):
        HouseholdChange.objects.create(
            kind=ChangeKind.REMOVAL, state=ChangeState.ACCEPTED, household=household, region_code=region, source="IMPORT",
            before={"id_number": removed, "name": "某"}, after={"status": "DECEASED"},
            decided_at=dt.datetime.fromisoformat(f"{decided}T23:30:00+00:00"),
        )  # fmt: skip
    HouseholdChange.objects.create(
        kind=ChangeKind.REMOVAL, state=ChangeState.ACCEPTED, household=household, region_code="520101001001", source="IMPORT",
        before={"id_number": gone.id_number}, after={}, decided_at=timezone.now(),
    )  # fmt: skip
    found = removals_accepted(id_numbers=[removed, gone.id_number, numbers[-1]], prefix="520101")
    removals_by_orm = {
        str(n): (pk, str(status or ""), timezone.localdate(at))
        for pk, n, status, at in HouseholdChange.objects.filter(region_code__startswith="520101")
        .annotate(n=Cast(KT("before__id_number"), output_field=CharField()))
        .order_by("decided_at", "id")
        .values_list("id", "n", "after__status", "decided_at")
    }
    assert {n: (r.change_id, r.status, r.decided_on) for n, r in found.items()} == removals_by_orm
    assert found[removed].decided_on == dt.date(2026, 5, 2)  # Beijing's day of the latest in the region
    assert found[gone.id_number].status == ""
    assert removals_accepted(id_numbers=[removed], prefix="52_") == {}  # a LIKE wildcard is a character


def test_a_member_edited_between_the_check_and_the_write_keeps_the_edit(
    tmp_path: Path,
    world: World,
    roster: list[dict[str, Any]],  # noqa: F811
) -> None:
    """The one difference from the full path, by design (docs/decisions/2026-12-04-unchanged-member-
    rows.md): a member edited on their household's page between the import's check and its write
    (a county's file takes seconds in the worker).  The full path reads the member again when it
    writes and puts the file's value back over the edit (updated 1); a row recognised during the
    check is not looked at again: the edit, the later of the two, stays and the row counts as
    unchanged, as it was when the file was checked."""
    edited = roster[0]["身份证号"]

    def progress(percent: int, stage: str) -> None:
        if stage == "writing" and percent == 90:  # after the check, before the write
            Member.objects.filter(id_number=edited).update(health="SERIOUS")

    path = _sheet(tmp_path / "again.xlsx", roster[:8])
    found = []
    for recognise in (True, False):
        off = mock.patch.object(MembersHandler, "unchanged", lambda self, positions: None)
        with transaction.atomic(), nullcontext() if recognise else off:
            result = import_run(kind="members", source=str(path), user=world.users["county"], progress=progress)
            found.append((_outcome(result)["counts"], Member.objects.get(id_number=edited).health))
            transaction.set_rollback(True)
    assert found == [((8, 0, 0, 8), "SERIOUS"), ((8, 0, 1, 7), "HEALTHY")]


def test_a_member_stored_by_someone_else_while_the_file_is_checked_fails_the_import_clearly(
    tmp_path: Path, world: World
) -> None:
    """Another county's import (or a form) stores a person after this import's check found no
    member of that 身份证号 and before its write: the write (which reads again only the members the
    check found) fails as a whole with a message naming the row and the masked 身份证号, nothing of
    the file written, the other member untouched (the upsert used to overwrite it with the file's
    row)."""
    if connection.vendor != "postgresql":
        pytest.skip("new members are written by COPY on PostgreSQL; SQLite has one writer at a time")
    from monitoring.services.imports.kinds import members as kind

    household = next(iter(world.households.values()))
    meanwhile = make_id_number()
    new_one = make_id_number()
    rows = [
        {"户编号": household.household_no, "姓名": "导入者", "身份证号": meanwhile, "与户主关系": "之子",
         "健康状况": "健康", "劳动能力": "普通劳动力", "是否参加医保": "是"},
        {"户编号": household.household_no, "姓名": "新成员", "身份证号": new_one, "与户主关系": "之女",
         "健康状况": "健康", "劳动能力": "普通劳动力", "是否参加医保": "是"},
    ]  # fmt: skip

    def someone_stores(percent: int, stage: str) -> None:
        if stage == "writing" and percent == 90:  # after the check, before the write
            Member.objects.create(
                household=household,
                name="别人录入",
                id_number=meanwhile,
                relation="OTHER",
                health="HEALTHY",
                labor="NORMAL",
            )  # fmt: skip

    write_reads: list[list[str]] = []
    real = kind.members_by_id_number

    def recorded(ids: Any, *fields: str) -> Any:
        if "id" in fields:  # the write's own read
            write_reads.append(sorted(ids))
        return real(ids, *fields)

    with mock.patch.object(kind, "members_by_id_number", recorded):
        result = import_run(
            kind="members", source=str(_sheet(tmp_path / "m.xlsx", rows)), user=None, progress=someone_stores
        )
    assert write_reads == [[]]  # neither was found by the check: the write read no member again
    assert [(e.row, e.column, e.value) for e in result.errors] == [
        (3, "身份证号", f"{meanwhile[:6]}********{meanwhile[-4:]}")
    ]
    assert "已由他人录入系统" in result.errors[0].message and "未写入任何数据" in result.errors[0].message
    assert (result.created, result.updated) == (0, 0)
    assert not Member.objects.filter(id_number=new_one).exists()  # the whole write undone
    assert Member.objects.get(id_number=meanwhile).name == "别人录入"  # the other's member untouched


def test_members_create_refuses_an_empty_value(world: World) -> None:
    household = next(iter(world.households.values()))
    row = SimpleNamespace(household_id=household.id, name="某", id_number=make_id_number(), relation="OTHER",
                          health="HEALTHY", disability_grade=None, labor="NORMAL", schooling="", employment="",
                          has_medical_insurance=True)  # fmt: skip
    with pytest.raises(DatabaseError), transaction.atomic():
        members_create([row])
    assert not Member.objects.filter(id_number=row.id_number).exists()


def test_numbers_the_recognition_found_absent_are_not_looked_up_again(tmp_path: Path, world: World) -> None:
    """A first import: the recognition asked for every 身份证号 and found none; the batch checks and
    the write then ask the database for none of them, and the import creates every row.  A person who
    died (stored, not current) is still looked up by the checks, whose refusal words it."""
    from monitoring.services.imports.kinds import members as kind

    household = next(iter(world.households.values()))
    dead = Member.objects.create(
        household=household, name="故人", id_number=make_id_number(), relation="OTHER", health="HEALTHY",
        labor="NORMAL", status="DECEASED", departed_on=dt.date(2026, 1, 2),
    )  # fmt: skip
    new = [make_id_number() for _ in range(3)]
    rows = [
        {"户编号": household.household_no, "姓名": f"新成员{i}", "身份证号": n, "与户主关系": "其他",
         "健康状况": "健康", "劳动能力": "普通劳动力", "是否参加医保": "是"}
        for i, n in enumerate(new)
    ]  # fmt: skip
    asked: list[list[str]] = []
    real = kind.members_by_id_number

    def recorded(ids: Any, *fields: str) -> Any:
        asked.append(sorted(ids))
        return real(ids, *fields)

    with mock.patch.object(kind, "members_by_id_number", recorded):
        result = import_run(kind="members", source=str(_sheet(tmp_path / "new.xlsx", rows)), user=None)
        assert (result.ok, result.created) == (True, 3)
        assert asked == [[], []]  # the batch checks', the write's
        asked.clear()
        again = [*rows[:1], dict(rows[1], 身份证号=dead.id_number, 姓名="故人")]
        result = import_run(kind="members", source=str(_sheet(tmp_path / "dead.xlsx", again)), user=None)
    assert asked == [[dead.id_number]]  # the recognised row asks nothing; the departed one is checked
    assert [(e.row, e.column) for e in result.errors] == [(4, "成员状态")]
    assert Member.objects.filter(id_number__in=new).count() == 3
