"""Import and export pages: upload → preview → confirm → job run; errors; templates; export."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from fanpin.core.models import AuditEntry
from monitoring.models import AnnualIncome, ImportJob
from monitoring.services.imports.jobs import import_job_preview_run, import_job_run
from monitoring.services.imports.spec import SPECS
from tests.conftest import World
from tests.monitoring.xlsx import kind_sheet

pytestmark = pytest.mark.django_db

H1 = "H520101001001"


def income(**over: Any) -> dict[str, Any]:
    row = {"户编号": H1, "年度": 2024, "家庭人口数": 3, "工资性收入": 100, "生产经营净收入": 0, "财产净收入": 0}
    row["转移净收入"] = 0
    row.update(over)
    return row


def client_for(world: World, name: str) -> Client:
    client = Client()
    client.force_login(world.users[name])
    return client


def xlsx_of(response: Any) -> Any:
    """The workbook of a file response (reading the content to its end closes the response)."""
    return load_workbook(BytesIO(b"".join(response.streaming_content)))


def upload(client: Client, path: Path, kind: str = "incomes") -> Any:
    """Upload, then run the check the upload enqueued (a task after the commit) as a worker would."""
    with path.open("rb") as handle:
        data = SimpleUploadedFile(path.name, handle.read())
    response = client.post(reverse("monitoring:import_list"), {"kind": kind, "file": data})
    if response.status_code == 302:
        import_job_preview_run(job_id=ImportJob.objects.latest("pk").pk)
    return response


def test_upload_preview_confirm_and_run(world: World, tmp_path: Path, django_capture_on_commit_callbacks: Any) -> None:
    client = client_for(world, "county")
    response = upload(client, kind_sheet(tmp_path / "收入.xlsx", "incomes", [income(), income(年度=2023)]))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("monitoring:import_detail", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert "校验通过（试运行，未写入）" in page and "确认导入" in page and "新增" in page
    assert not AnnualIncome.objects.exists()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("monitoring:import_confirm", args=[job.pk]))
    assert len(callbacks) == 1  # the task is enqueued on commit
    job.refresh_from_db()
    assert job.status == "QUEUED"
    progress = client.get(reverse("monitoring:import_detail", args=[job.pk]), headers={"HX-Request": "true"})
    assert 'hx-trigger="every 1s"' in progress.content.decode()
    import_job_run(job_id=job.pk)
    import_job_run(job_id=job.pk)  # idempotent: a second delivery does nothing
    job.refresh_from_db()
    assert (job.status, job.created_count, job.progress, job.created_by) == ("SUCCEEDED", 2, 100, world.users["county"])
    assert AnnualIncome.objects.count() == 2
    done = client.get(
        reverse("monitoring:import_detail", args=[job.pk]), headers={"HX-Request": "true"}
    ).content.decode()
    assert "年度收入导入完成：共 2 行，新增 2 行" in done and "every 1s" not in done
    # Confirming twice is refused.
    response = client.post(reverse("monitoring:import_confirm", args=[job.pk]), follow=True)
    assert "不能再次确认" in response.content.decode()


def test_upload_with_errors_shows_table_and_annotated_copy(world: World, tmp_path: Path) -> None:
    client = client_for(world, "county")
    rows = [income(), income(年度=2023, 家庭人口数=0, 工资性收入="多"), income(户编号="H520102001001")]
    response = upload(client, kind_sheet(tmp_path / "收入.xlsx", "incomes", rows, titles=[["2024 年收入"]]), "incomes")
    page = client.get(response["Location"]).content.decode()
    assert "年度收入导入失败：共 3 处错误，未写入任何数据。" in page
    assert "第 4 行" in page and "家庭人口数必须是正整数。" in page
    assert "户编号 H520102001001 不在您的管辖范围内。" in page
    job = ImportJob.objects.get()
    response = client.get(reverse("monitoring:import_annotated", args=[job.pk]))
    assert response["Content-Disposition"].startswith("attachment")
    wb = xlsx_of(response)
    ws = wb.active
    assert ws["A1"].value == "2024 年收入"
    header = [c.value for c in ws[2]]
    assert header[-1] == "错误说明" and header[:-1] == SPECS["incomes"].headers
    assert ws.cell(row=4, column=3).fill.fgColor.rgb.endswith("FFC7CE")  # 家庭人口数 of row 4
    assert ws.cell(row=4, column=4).fill.fgColor.rgb.endswith("FFC7CE")  # 工资性收入
    assert ws.cell(row=4, column=2).fill.fgColor.rgb in (None, "00000000")
    assert "【家庭人口数】家庭人口数必须是正整数。" in ws.cell(row=4, column=8).value
    assert ws.cell(row=3, column=8).value is None
    assert ws.cell(row=5, column=1).fill.fgColor.rgb.endswith("FFC7CE")
    wb.close()
    # the copy is the sheet as uploaded, full numbers and all: every download is access-logged
    # (an outside attack downloaded a colleague's upload, the log none the wiser)
    from fanpin.core.models import AccessLog

    (logged,) = AccessLog.objects.filter(action=AccessLog.Action.EXPORT)
    assert (logged.actor, logged.object_id, logged.row_count) == (world.users["county"], str(job.pk), 3)
    assert logged.what == "导入文件（标出错误）：收入.xlsx" and logged.ip_address == "127.0.0.1"


def test_a_long_household_number_in_an_error_stays_readable_an_id_number_does_not(world: World, tmp_path: Path) -> None:
    """A newcomer's walk: the demo's 17-digit 户编号 came back masked like a 身份证号
    (「539902********0001」), so the importer could not tell which household was meant."""
    from fanpin.core.idcard import id_check_digit

    long_no = "53990200100100001"  # 17 digits, no such household
    id_number = "52010119900101001" + id_check_digit("52010119900101001")
    rows = [income(户编号=long_no), income(户编号=id_number)]
    response = upload(client_for(world, "county"), kind_sheet(tmp_path / "收入.xlsx", "incomes", rows), "incomes")
    page = client_for(world, "county").get(response["Location"]).content.decode()
    assert f"户编号 {long_no} 不存在，请先导入农户。" in page
    assert id_number not in page and f"{id_number[:6]}********{id_number[-4:]}" in page


def test_upload_refuses_other_formats_with_the_error_next_to_the_field(world: World) -> None:
    client = client_for(world, "county")
    data = SimpleUploadedFile("data.csv", b"a,b\n")
    response = client.post(reverse("monitoring:import_list"), {"kind": "incomes", "file": data})
    assert response.status_code == 400
    assert "只能上传 .xlsx 格式的 Excel 文件" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_templates_have_the_spec_headers(world: World) -> None:
    client = client_for(world, "county")
    for kind in ("households", "members", "incomes", "expenditures", "alerts"):
        response = client.get(reverse("monitoring:import_template", args=[kind]))
        wb = xlsx_of(response)
        rows = list(wb.active.iter_rows(values_only=True))
        assert list(rows[1]) == SPECS[kind].headers
        wb.close()
    assert client.get(reverse("monitoring:import_template", args=["regions"])).status_code == 404
    admin = client_for(world, "admin")
    response = admin.get(reverse("monitoring:import_template", args=["regions"]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:2] == b"PK"


def test_only_importing_roles_reach_the_pages(world: World) -> None:
    assert client_for(world, "township").get(reverse("monitoring:import_list")).status_code == 403
    page = client_for(world, "county").get(reverse("monitoring:import_list")).content.decode()
    assert "数据导入" in page and "尚未导入数据" in page and "行政区划" not in page
    assert "行政区划导入模板" in client_for(world, "admin").get(reverse("monitoring:import_list")).content.decode()


def test_jobs_of_another_county_are_not_found(world: World, tmp_path: Path) -> None:
    client = client_for(world, "county")
    upload(client, kind_sheet(tmp_path / "收入.xlsx", "incomes", [income()]))
    job = ImportJob.objects.get()
    from tests.factories import user

    other = user("other", "COUNTY", "520102000000")
    other_client = Client()
    other_client.force_login(other)
    assert other_client.get(reverse("monitoring:import_detail", args=[job.pk])).status_code == 404
    assert client_for(world, "admin").get(reverse("monitoring:import_detail", args=[job.pk])).status_code == 200


def test_household_list_export_exports_the_filtered_rows(world: World) -> None:
    client = client_for(world, "county")
    page = client.get(reverse("monitoring:household_list"), {"village": "520101001002"}).content.decode()
    assert "导出 Excel（1 户）" in page
    response = client.get(reverse("monitoring:household_export"), {"village": "520101001002"})
    wb = xlsx_of(response)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["H520101001002"]
    assert AuditEntry.objects.get(object_type="export").data["rows"] == 1
    assert client_for(world, "township").get(reverse("monitoring:household_export")).status_code == 403
    assert "导出 Excel" not in client_for(world, "township").get(reverse("monitoring:household_list")).content.decode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_to_pollers_while_rows_are_written(
    world: World, tmp_path: Path, monkeypatch: Any, is_postgres: bool
) -> None:
    """On PostgreSQL the write phase reports progress through a second connection."""
    if not is_postgres:
        pytest.skip("needs PostgreSQL (SQLite has one writer at a time)")
    from django.db import DEFAULT_DB_ALIAS, connections

    from monitoring.services.imports import kinds
    from monitoring.services.imports.jobs import import_job_create, import_job_preview

    monkeypatch.setattr("monitoring.services.imports.pipeline.BATCH_SIZE", 1)
    path = kind_sheet(tmp_path / "收入.xlsx", "incomes", [income(年度=2020 + i) for i in range(4)])
    with path.open("rb") as handle:
        job = import_job_create(
            user=world.users["county"], kind="incomes", upload=SimpleUploadedFile(path.name, handle.read())
        )
    import_job_preview(job=job)
    ImportJob.objects.filter(pk=job.pk).update(status="QUEUED")

    seen: list[int] = []
    poller = connections.create_connection(DEFAULT_DB_ALIAS)
    original = kinds.IncomesHandler.write_batch

    def watching(self: Any, rows: Any, *, dry_run: bool) -> Any:
        with poller.cursor() as cursor:  # another session, as the progress page would be
            cursor.execute("SELECT progress FROM monitoring_importjob WHERE id = %s", [job.pk])
            seen.append(cursor.fetchone()[0])
        return original(self, rows, dry_run=dry_run)

    monkeypatch.setattr(kinds.IncomesHandler, "write_batch", watching)
    try:
        import_job_run(job_id=job.pk)
    finally:
        poller.close()
    assert seen == [90, 92, 95, 97]
    job.refresh_from_db()
    assert (job.status, job.progress, job.created_count) == ("SUCCEEDED", 100, 4)


def test_a_nul_in_a_cell_is_listed_and_the_annotated_copy_downloads(world: World, tmp_path: Path) -> None:
    """Excel's _x0000_ (a NUL) in a name and in an enumeration: the job keeps its errors (PostgreSQL's
    JSON cannot hold a NUL: shown as ␀), the page lists them, and the annotated copy downloads with
    the NUL left out (openpyxl refused to write it: the download answered 500)."""
    from tests.factories import make_id_number

    row = {"户编号": H1, "姓名": "魏_x0000_新", "身份证号": make_id_number(), "与户主关系": "之_x0001_子",
           "健康状况": "健康", "劳动能力": "普通劳动力", "是否参加医保": "是"}  # fmt: skip
    client = client_for(world, "county")
    upload(client, kind_sheet(tmp_path / "成员.xlsx", "members", [row]), kind="members")
    job = ImportJob.objects.get()
    assert job.status == "INVALID"
    assert [(e["column"], e["value"]) for e in job.errors] == [("姓名", "魏␀新"), ("与户主关系", "之␁子")]
    assert "无法保存的空字符" in job.errors[0]["message"] and "“之␁子”不是有效的与户主关系" in job.errors[1]["message"]
    assert "魏␀新" in client.get(reverse("monitoring:import_detail", args=[job.pk])).content.decode()
    response = client.get(reverse("monitoring:import_annotated", args=[job.pk]))
    assert response.status_code == 200
    sheet = xlsx_of(response).active  # opens: no control character in a cell or a comment
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:4] == (H1, "魏新", row["身份证号"], "之子") and "空字符" in rows[1][-1]
    assert "“之␁子”" in sheet.cell(row=2, column=4).comment.text


@pytest.mark.parametrize(
    ("typed", "readable"),
    [
        ("53990200100100001", True),  # the demo's 17 digits: no birth date inside
        ("H520101001001", True),
        ("520101199001011233", False),  # a 身份证号 typed into the wrong column …
        ("52010119900101123", False),  # … its first 17 digits (the check digit follows from them)
        ("520101199001011239", False),  # … with a mistyped check digit
        ("520101900101123", False),  # an old 15-digit number
        ("520101 199001011233", False),  # … with a space, or a character after it
        ("5201011990010112331号", False),
        ("13912345678", False),  # a mobile
        ("12912345678", True),
    ],
)
def test_which_household_numbers_an_error_list_keeps_as_typed(typed: str, readable: bool) -> None:
    """A review found the first version kept a full 身份证号 in the job's error list whenever it was
    not a whole valid one (a space inside, a character after, 17 digits, a wrong check digit)."""
    from fanpin.core.idcard import household_no_readable

    assert household_no_readable(typed) is readable


@pytest.mark.parametrize(
    ("header", "typed", "shown"),
    [
        ("区划代码", "13010200100", "13010200100"),  # 河北's code one digit short: not a mobile
        ("村级区划代码", "1501020010010", "1501020010010"),
        ("村级区划代码", "520101199001011233", "520101********1233"),  # an ID typed into it: masked
        ("姓名", "张三 13912345678", "张三 139****5678"),  # a phone anywhere else: masked
        ("姓名", "520101，19900101，1233", "520101，********，1233"),
    ],
)
def test_an_error_list_shows_region_codes_as_typed_and_masks_numbers(header: str, typed: str, shown: str) -> None:
    """Stored error lists go through the free-text mask (a phone typed into a name cell stayed whole),
    but a mistyped region code must be seen to be fixed: an 11-digit code from 13–15 (河北, 山西, 内蒙古)
    looks like a mobile number."""
    from monitoring.services.imports.rows import ImportContext
    from monitoring.services.imports.spec import SPECS

    context = ImportContext(spec=SPECS["regions"], user=None, present=set())
    context.error(5, header, typed, f"“{typed}”有误。")
    error = context.errors[0]
    assert (error.value, error.message) == (shown, f"“{shown}”有误。")
