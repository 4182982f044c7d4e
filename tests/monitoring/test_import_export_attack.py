"""An outside attack (2026-12-05) on the member import's shortcuts (numbers found absent not looked
up again, the write re-reading only stored members, the plain-SQL lookups), on the text the exports
write (``_xHHHH_``, ``<r>…</r>``, noncharacters, error codes) and on migration 0032's reverse."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from openpyxl import Workbook, load_workbook
from python_calamine import CalamineWorkbook

from fanpin.core.idcard import id_check_digit
from monitoring.models import Household, Member
from monitoring.services.imports import unchanged as unchanged_module
from monitoring.services.imports.kinds.base import _households_by_number
from monitoring.services.imports.member_store import heads_current
from monitoring.services.imports.pipeline import BATCH_SIZE, import_run
from monitoring.services.imports.spec import SPECS
from monitoring.services.imports.workbooks import annotated_copy_write
from tests.conftest import World
from tests.factories import HouseholdFactory, MemberFactory, region
from tests.monitoring.test_import_unchanged import _both_ways, _outcome, _sheet

pytestmark = pytest.mark.django_db

_seq = iter(range(1, 10**6))


def _id_with_x(county: str) -> str:
    """A valid 身份证号 whose check digit is X (unique within the test run)."""
    while True:
        n = next(_seq)
        day = dt.date(1985, 1, 1) + dt.timedelta(days=n // 1000)
        first17 = f"{county}{day:%Y%m%d}{n % 1000:03d}"
        if id_check_digit(first17) == "X":
            return first17 + "X"


def _member(household: Household, id_number: str, **over: Any) -> Member:
    values = {"name": "某人", "relation": "OTHER", "health": "HEALTHY", "labor": "NORMAL", **over}
    return Member.objects.create(household=household, id_number=id_number, **values)


def _file_row(household_no: str, id_cell: Any, **over: Any) -> dict[str, Any]:
    return {"户编号": household_no, "姓名": "某人", "身份证号": id_cell, "与户主关系": "其他", "健康状况": "健康",
            "劳动能力": "普通劳动力", "是否参加医保": "是", **over}  # fmt: skip


def _stored_after_the_recognition(household: Household, number: str) -> Any:
    """A patch of the recognition of unchanged rows: once it has looked the numbers up, someone
    stores ``number`` in ``household`` (another county's) — the window the batch checks now skip."""
    real = unchanged_module.MembersUnchanged.rows

    def then_stored(self: Any, numbered: Any) -> Any:
        found = real(self, numbered)
        if not Member.objects.filter(id_number=number).exists():
            _member(household, number, name="别县录入")
        return found

    return mock.patch.object(unchanged_module.MembersUnchanged, "rows", then_stored)


# --- 2. numbers found absent by the recognition ------------------------------------------------


@pytest.mark.parametrize("form", ["lower", "spaces", "fullwidth", "exact_changed"])
@pytest.mark.parametrize("where", ["in_scope", "other_county", "deceased"])
def test_raw_id_forms_get_the_full_paths_verdict(tmp_path: Path, world: World, form: str, where: str) -> None:
    """A stored member whose 身份证号 ends in X, named by a raw cell that is not the stored text
    (lower-case x, spaces, full-width spaces): the recognition finds the raw text absent; the
    checks must still find the parsed number (out of scope refused, a departed person refused)."""
    mine = world.households["520101001001"]
    other = world.households["520102001001"]
    county = "520102" if where == "other_county" else "520101"
    number = _id_with_x(county)
    household = other if where == "other_county" else mine
    status = {"status": "DECEASED", "departed_on": dt.date(2026, 1, 2)} if where == "deceased" else {}
    _member(household, number, **status)
    cell = {
        "lower": number[:-1] + "x",
        "spaces": f"  {number} ",
        "fullwidth": f"\u3000{number}\u3000",
        "exact_changed": number,
    }[form]
    over = {"姓名": "改名"} if form == "exact_changed" else {}
    rows = [_file_row(mine.household_no, cell, **over)]
    recognised, parsed = _both_ways(_sheet(tmp_path / "m.xlsx", rows), world.users["county"])
    assert recognised == parsed
    if where == "other_county":
        assert [e["message"] for e in recognised[0]["errors"]] == ["该身份证号已登记在您管辖范围以外的农户中。"]
    elif where == "deceased":
        assert recognised[0]["ok"] is False
    else:
        assert recognised[0]["ok"] is True and recognised[0]["counts"][1] == 0  # never created twice


@pytest.mark.parametrize("case", ["lower", "exact"])
def test_a_batch_spanning_three_chunks_still_checks_its_first_row(tmp_path: Path, world: World, case: str) -> None:
    """One clean row naming a member of another county (its raw cell as stored, or with a lower-case
    x the recognition asks for as it is), then more rows with a bad cell (each with its own 身份证号)
    than two chunks hold, then a new clean row: the batch is checked in the third chunk, when the
    absent sets remembered are the second's and third's."""
    mine = world.households["520101001001"]
    other = world.households["520102001001"]
    theirs = _id_with_x("520102")
    _member(other, theirs)
    rows = [_file_row(mine.household_no, theirs[:-1] + "x" if case == "lower" else theirs)]
    rows += [_file_row(mine.household_no, _id_with_x("520101"), 与户主关系="邻居") for _ in range(2 * BATCH_SIZE + 50)]
    rows.append(_file_row(mine.household_no, _id_with_x("520101")))
    recognised, parsed = _both_ways(_sheet(tmp_path / "m.xlsx", rows), world.users["county"])
    assert recognised == parsed
    assert any(e["row"] == 3 and "管辖范围以外" in e["message"] for e in recognised[0]["errors"])


def test_a_member_stored_between_the_recognition_and_the_check_never_overwritten(tmp_path: Path, world: World) -> None:
    """Someone stores, in another county, the very person this file adds — after the recognition
    found the number absent, before the batch checks (which now skip it): the import must not
    write (the COPY fails), and the other county's member stays as stored."""
    mine = world.households["520101001001"]
    other = world.households["520102001001"]
    number = _id_with_x("520101")
    path = _sheet(tmp_path / "m.xlsx", [_file_row(mine.household_no, number)])
    with _stored_after_the_recognition(other, number):
        result = import_run(kind="members", source=str(path), user=world.users["county"])
    assert result.ok is False and (result.created, result.updated) == (0, 0)
    assert Member.objects.get(id_number=number).name == "别县录入"
    assert Member.objects.get(id_number=number).household_id == other.id


def test_dry_run_in_that_window_reports_what_the_confirm_will_refuse(tmp_path: Path, world: World) -> None:
    """The same window on a dry run (the preview): before d98f6ea the checks found the person and
    refused the row (out of scope); now the preview says it will be created."""
    mine = world.households["520101001001"]
    other = world.households["520102001001"]
    number = _id_with_x("520101")
    path = _sheet(tmp_path / "m.xlsx", [_file_row(mine.household_no, number)])
    with _stored_after_the_recognition(other, number):
        result = import_run(kind="members", source=str(path), user=world.users["county"], dry_run=True)
    # documents the divergence (the previous commit gave ok False with the scope refusal)
    assert (result.ok, result.created) == (True, 1)


def test_a_nul_in_a_raw_id_cell_is_a_cell_error_not_a_crash(tmp_path: Path, world: World) -> None:
    """An uploaded 身份证号 cell holding _x0000_ (calamine reads it as NUL): the full path refuses the
    cell; the recognition hands the raw text to the database first."""
    mine = world.households["520101001001"]
    rows = [_file_row(mine.household_no, "_x0000_" + _id_with_x("520101"))]
    recognised, parsed = _both_ways(_sheet(tmp_path / "m.xlsx", rows), world.users["county"])
    assert recognised == parsed
    assert parsed[0]["ok"] is False


def test_dry_run_then_confirm_agree(tmp_path: Path, world: World) -> None:
    mine = world.households["520101001001"]
    stored = _id_with_x("520101")
    _member(mine, stored)
    rows = [_file_row(mine.household_no, stored.lower()), _file_row(mine.household_no, _id_with_x("520101"))]
    rows.append(_file_row(mine.household_no, stored, 姓名="改"))  # duplicate of row 3 (parsed)
    path = _sheet(tmp_path / "m.xlsx", rows)
    preview = _outcome(import_run(kind="members", source=str(path), user=world.users["county"], dry_run=True))
    done = _outcome(import_run(kind="members", source=str(path), user=world.users["county"]))
    assert preview["errors"] == done["errors"] and preview["counts"] == done["counts"]
    rows.pop()
    path = _sheet(tmp_path / "m2.xlsx", rows)
    preview = _outcome(import_run(kind="members", source=str(path), user=world.users["county"], dry_run=True))
    done = _outcome(import_run(kind="members", source=str(path), user=world.users["county"]))
    assert preview["counts"] == done["counts"] and done["ok"] is True


# --- 3. plain-SQL lookups equal the ORM's --------------------------------------------------------


def test_households_by_number_equals_the_orm(world: World) -> None:
    village = region("520101001002")
    odd = ["%", "_", "H%", "a_b", "'", "''", '"', "\\", "\\%", "a'b", "户编号", " lead", "trail ", "x" * 32,
           "[abc]", "NULL", "null", "1", "01", "😀", "\u3000"]  # fmt: skip
    for no in odd:
        HouseholdFactory(household_no=no, village=village)
    many = [f"N{i:05d}" for i in range(1200)]
    Household.objects.bulk_create([HouseholdFactory.build(household_no=n, village=village) for n in many[::3]])
    asked = [*odd, *many, "H", "%%", "", "x" * 33, "missing"]
    got = sorted(_households_by_number(asked))
    orm = sorted(Household.objects.filter(household_no__in=asked).values_list("household_no", "id", "village_id"))
    assert got == orm and len(got) == len(odd) + 400
    assert sorted(_households_by_number([])) == []


def test_heads_current_equals_the_orm(world: World) -> None:
    village = region("520101001002")
    households = [HouseholdFactory(household_no=f"HC{i}", village=village) for i in range(6)]
    gone = {"status": "DECEASED", "departed_on": dt.date(2026, 1, 2)}
    # two departed heads and a current one; two departed heads only; one removed; none; current only
    MemberFactory(household=households[0], relation="HEAD", **gone)
    MemberFactory(household=households[0], relation="HEAD", status="REMOVED", departed_on=dt.date(2026, 1, 3))
    MemberFactory(household=households[0], relation="HEAD")
    MemberFactory(household=households[1], relation="HEAD", **gone)
    MemberFactory(household=households[1], relation="HEAD", **gone)
    MemberFactory(household=households[2], relation="HEAD", status="REMOVED", departed_on=dt.date(2026, 1, 3))
    MemberFactory(household=households[3], relation="SPOUSE")
    MemberFactory(household=households[4], relation="HEAD")
    ids = [h.id for h in households] + list(range(10**9, 10**9 + 4500))
    got = sorted(heads_current(ids))
    orm = sorted(
        Member.objects.current().filter(household_id__in=ids, relation="HEAD").values_list("household_id", "id_number")
    )
    assert got == orm and {h for h, _ in got} >= {households[0].id, households[4].id}
    assert households[1].id not in {h for h, _ in got}


# --- 4. exports ----------------------------------------------------------------------------------


def _readable_by_both(data: bytes) -> list[Any]:
    values = []
    wb = load_workbook(io.BytesIO(data))  # strict XML: what Excel calls "unreadable content"
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type not in ("f", "e"), (cell.coordinate, cell.value, cell.data_type)
                values.append(cell.value)
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    for name in book.sheet_names:
        book.get_sheet_by_name(name).to_python()
    return values


@pytest.mark.parametrize("text", ["a\uffffb", "a\ufffeb", "_x003D_1+1", "_X003D_1+1", "_x0001_=1+1"])
def test_annotated_copy_of_a_rejected_upload_is_readable_and_holds_no_formula(tmp_path: Path, text: str) -> None:
    upload = tmp_path / "members.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append(SPECS["members"].headers)
    ws.append(["H520101001001", text, "bad", "户主", "健康", "", "普通劳动力", "", "", "是"])
    wb.save(upload)
    # what an uploaded `_xFFFF_` cell is read as: python-calamine decodes it
    out = io.BytesIO()
    errors = [{"row": 2, "column": "身份证号", "message": f"身份证号无效 {text}"}]
    annotated_copy_write(kind="members", source=str(upload), errors=errors, out=out)
    _readable_by_both(out.getvalue())


@pytest.mark.parametrize("name", ["a\uffffb", "#N/A", "<r><t>x</t></r>"])
def test_campaign_export_with_a_stored_noncharacter_or_error_code_is_readable(world: World, name: str) -> None:
    from django.urls import reverse

    from tests.monitoring.test_campaigns import _three_villages

    campaign, households = _three_villages(world)
    Member.objects.filter(household=households[0], relation="HEAD").update(name=name)
    response = world.client_for("county").get(reverse("monitoring:campaign_xlsx", args=[campaign.pk]))
    assert response.status_code == 200
    values = _readable_by_both(response.content)
    # a noncharacter is left out; an error code is text behind the apostrophe (not an error cell)
    assert {"a\uffffb": "ab", "#N/A": "'#N/A"}.get(name, name) in values


@pytest.mark.parametrize(
    "name",
    ["<r><t>x</t></r>", "\x01<r><t>x</t></r>", "<r><t>x</t></r>\x02", "<r>\r</r>", "a\uffffb", "_x003D_1+1",
     "#N/A", '<r><t>a</t></r></is></c><c r="Z9"><f>1+1</f></c><c><is><r></r>'],
)  # fmt: skip
def test_household_export_stream_writes_stored_text_as_text(world: World, name: str) -> None:
    from monitoring.services.exports import households_export

    hh = world.households["520101001001"]
    Member.objects.filter(household=hh, relation="HEAD").update(name=name)
    out = io.BytesIO()
    households_export(user=world.users["county"], out=out)
    values = _readable_by_both(out.getvalue())
    shown = name.strip("\x01\x02").replace("\uffff", "").replace("\r", "\n")
    assert any(isinstance(v, str) and v.lstrip("'").startswith(shown[:3]) for v in values)


# --- 5. migration 0032 reversed on PostgreSQL ----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_migration_0032_reverses_with_sources_and_leaves_deferred_checks_alone() -> None:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate([("monitoring", "0031_province_rule_parameters")])
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('monitoring_comparisonsource')" if connection.vendor == "postgresql"
                           else "SELECT name FROM sqlite_master WHERE name = 'monitoring_comparisonsource'")  # fmt: skip
            assert cursor.fetchone() in (None, (None,))
    finally:
        MigrationExecutor(connection).migrate(leaves)


def test_a_noncharacter_imported_into_a_name_is_left_out_of_the_campaign_export(tmp_path: Path, world: World) -> None:
    """End to end: a member sheet whose 姓名 holds U+FFFF (a raw character in the XML, as openpyxl
    writes it) is imported; python-calamine reads it and parse_text keeps it; the campaign export
    (openpyxl) used to write it raw — XML that strict readers (openpyxl, Excel) refuse."""
    from django.urls import reverse

    from tests.monitoring.test_campaigns import _three_villages

    campaign, households = _three_villages(world)
    head = Member.objects.get(household=households[0], relation="HEAD")
    row = _file_row(households[0].household_no, head.id_number, 姓名="张\uffff三", 与户主关系="户主")
    result = import_run(kind="members", source=str(_sheet(tmp_path / "m.xlsx", [row])), user=world.users["county"])
    assert result.ok, result.errors
    assert Member.objects.get(pk=head.pk).name == "张\uffff三"
    response = world.client_for("county").get(reverse("monitoring:campaign_xlsx", args=[campaign.pk]))
    _readable_by_both(response.content)


def test_the_stored_meanwhile_refusal_names_the_row_and_masks_the_number(tmp_path: Path, world: World) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's bulk_create: a plain IntegrityError (generic message)")
    mine = world.households["520101001001"]
    other = world.households["520102001001"]
    number = _id_with_x("520101")
    rows = [_file_row(mine.household_no, _id_with_x("520101")), _file_row(mine.household_no, number.lower())]
    with _stored_after_the_recognition(other, number):
        result = import_run(kind="members", source=str(_sheet(tmp_path / "m.xlsx", rows)), user=world.users["county"])
    assert [(e.row, e.column, e.value) for e in result.errors] == [
        (4, "身份证号", f"{number[:6]}********{number[-4:]}")
    ]


@pytest.mark.django_db(transaction=True)
def test_migration_0032_reverses_with_a_comparison_stored() -> None:
    """Reversing 0032 when a comparison uses a seeded source: the source's deletion is PROTECTed
    (the tables are dropped a moment later anyway)."""
    from django.db.migrations.executor import MigrationExecutor
    from django.utils import timezone

    from monitoring.models import ComparisonSource, DataComparison
    from tests.factories import LeadFactory

    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    lead = LeadFactory()
    source, _ = ComparisonSource.objects.get_or_create(code="REAL_ESTATE", defaults={"name": "不动产登记", "order": 20})
    DataComparison.objects.create(lead=lead, source=source, compared_on=dt.date(2026, 1, 1),
                                  result="NO_ISSUE", recorded_at=timezone.now())  # fmt: skip
    try:
        MigrationExecutor(connection).migrate([("monitoring", "0031_province_rule_parameters")])
    finally:
        MigrationExecutor(connection).migrate(leaves)


def test_a_sheet_whose_xml_breaks_off_while_read_is_refused_clearly(tmp_path: Path) -> None:
    """A file openpyxl reads (an error cell sends it there) whose XML holds a raw U+FFFF: found only
    as the rows are read; the import says the file is no valid workbook instead of a system error."""
    upload = tmp_path / "broken.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append(SPECS["members"].headers)
    ws.append(["H520101001001", "蒋\uffff荣", "52010119870408015X", "之女", "健康", "", "普通劳动力", "", "", "是"])
    ws.append(["H520101001001", "#N/A", "52010119870408015X", "户主", "健康", "", "普通劳动力", "", "", "是"])
    wb.save(upload)
    result = import_run(kind="members", source=str(upload), user=None)
    assert [(e.row, e.message) for e in result.errors] == [
        (0, "文件不是有效的 Excel 工作簿（.xlsx），请用 Excel 或 WPS 另存为 .xlsx 后重新上传。")
    ]
    # its annotated copy says so once (the kept list and the copy's own reading met the same file)
    out = io.BytesIO()
    kept = [{"row": e.row, "column": e.column, "message": e.message} for e in result.errors]
    annotated_copy_write(kind="members", source=str(upload), errors=kept, out=out)
    cells = [value for row in load_workbook(out).active.iter_rows(values_only=True) for value in row if value]
    assert cells.count(result.errors[0].message) == 1


def test_a_head_named_for_another_countys_household_shows_nothing_of_its_head(tmp_path: Path, world: World) -> None:
    """A county user's file names a household of another county as a 户主's: refused as out of
    their region, and nothing of that household's stored head (not even masked) is said."""
    other = world.households["520102001001"]
    head = Member.objects.current().filter(household=other, relation="HEAD").first() or _member(
        other, _id_with_x("520102"), relation="HEAD"
    )
    rows = [_file_row(other.household_no, _id_with_x("520101"), 与户主关系="户主")]
    result = import_run(kind="members", source=str(_sheet(tmp_path / "m.xlsx", rows)), user=world.users["county"])
    messages = " ".join(e.message for e in result.errors)
    assert "不在您的管辖范围内" in messages
    assert "已有户主" not in messages and head.id_number[-4:] not in messages


def test_text_reads_the_same_on_both_readers(tmp_path: Path) -> None:
    """Excel writes a typed ``_x0041_`` as ``_x005F_x0041_``: calamine decodes it, and so does the
    openpyxl path (taken for a file with an error cell), so the annotated copy shows what was typed."""
    from monitoring.services.imports.reader import open_rows

    read = []
    for error_cell in (False, True):
        upload = tmp_path / f"m{error_cell}.xlsx"
        wb = Workbook()
        ws = wb.active
        ws.append(["姓名", "备注"])
        ws.append(["_x005F_x0041_", "#N/A" if error_cell else "x"])
        wb.save(upload)
        with open_rows(str(upload)) as (rows, _max):
            read.append(list(rows)[1][0])
    assert read == ["_x0041_", "_x0041_"]
