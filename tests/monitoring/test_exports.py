"""Exports: Chinese headers, frozen header, text IDs, scoping, filters, audit, the command."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO, StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from fanpin.core.idcard import id_number_mask
from fanpin.core.models import AuditEntry
from fanpin.core.terms import term
from monitoring.services.exports import households_export
from tests.conftest import World
from tests.factories import IncomeFactory, MemberFactory
from tests.monitoring.xlsx import read_sheet

pytestmark = pytest.mark.django_db


def test_households_export_for_a_county_user(world: World) -> None:
    hh = world.households["520101001001"]
    MemberFactory(household=hh)
    IncomeFactory(household=hh, year=2024, family_size=2, wage_income=Decimal("10000.50"))
    out = BytesIO()
    count = households_export(user=world.users["county"], out=out, year=2024)
    assert count == 3
    out.seek(0)
    wb = load_workbook(out)
    ws = wb.active
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["C"].width == 21
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("户编号", "户主姓名", "户主身份证号", "县")
    assert "人均可支配收入" in rows[0]
    data = {r[0]: r for r in rows[1:]}
    assert set(data) == {"H520101001001", "H520101001002", "H520101002001"}
    head = hh.members.get(relation="HEAD")
    first = data["H520101001001"]
    assert first[1:3] == (head.name, id_number_mask(head.id_number))  # masked by default (issue 15)
    assert ws.cell(row=2, column=3).data_type == "s" and ws.cell(row=2, column=3).number_format == "@"
    assert first[7] == "一般农户" and first[9] == 2
    assert first[12:19] == (2024, 2, 10000.5, 5000, 0, 1000, 8000.25)
    assert rows[0][19] == "社会救助" and first[19] is None  # no current 民政 status (issue 19)
    assert data["H520101001002"][12] is None  # no income for the year: empty cells
    wb.close()
    entry = AuditEntry.objects.get(object_type="export")
    assert (entry.actor, entry.data["rows"], entry.region_code) == (world.users["county"], 3, "520101000000")


def test_export_applies_the_list_filters(world: World) -> None:
    out = BytesIO()
    count = households_export(user=world.users["county"], out=out, village_code="520101001002")
    assert count == 1
    out.seek(0)
    rows = read_sheet(out)  # type: ignore[arg-type]
    assert [r[0] for r in rows[1:]] == ["H520101001002"]


def test_export_command(world: World, tmp_path: Path) -> None:
    output = tmp_path / "hh.xlsx"
    stdout = StringIO()
    call_command(
        "export_xlsx", "--kind", "households", "--region", "520100000000", "--output", str(output), stdout=stdout
    )
    assert stdout.getvalue().strip() == f"已导出农户 4 户到 {output}。"
    assert len(read_sheet(output)) == 5
    call_command("export_xlsx", "--kind", "households", "--user", "county", "--output", str(output), stdout=stdout)
    assert {r[0] for r in read_sheet(output)[1:]} == {"H520101001001", "H520101001002", "H520101002001"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "farms"], "未知的导出类型 farms，应为：households、leads、targets、assistance。"),
        (
            ["--kind", "households", "--region", "999999999999"],
            "区划代码 999999999999 不存在（应为系统中已有的 12 位区划代码）。",
        ),
        (["--kind", "households", "--user", "village"], "用户 village 的角色无权导出数据。"),
    ],
)
def test_export_command_bad_input(world: World, tmp_path: Path, args: list[str], message: str) -> None:
    with pytest.raises(CommandError) as excinfo:
        call_command("export_xlsx", *args, "--output", str(tmp_path / "x.xlsx"))
    assert str(excinfo.value) == message


def test_export_command_leads_targets_assistance(world: World, tmp_path: Path) -> None:
    """SPEC §6: every kind of export_xlsx, with Chinese headers, scoped, audited in the access log."""
    from fanpin.core.models import AccessLog
    from monitoring.models import LeadSource, ScreeningRule
    from tests.assistance.factories import TargetMeasureFactory, target_for
    from tests.factories import LeadFactory

    LeadFactory(
        household=world.households["520101001001"],
        sources=[LeadSource.SCREENING, LeadSource.VISIT],
        rules_fired=[ScreeningRule.LOW_INCOME, ScreeningRule.INCOME_DROP],
    )
    LeadFactory(household=world.households["530101001001"])
    TargetMeasureFactory(target=target_for(world.households["520101002001"]))
    expected = {"leads": "预警线索 1 条", "targets": f"{term('target')} 1 户", "assistance": "帮扶措施 1 条"}
    for kind, noun in expected.items():
        output = tmp_path / f"{kind}.xlsx"
        stdout = StringIO()
        call_command("export_xlsx", "--kind", kind, "--user", "county", "--output", str(output), stdout=stdout)
        assert stdout.getvalue().strip() == f"已导出{noun}到 {output}。"
        rows = read_sheet(output)
        assert len(rows) == 2, kind
    header, row = read_sheet(tmp_path / "leads.xlsx")
    for column in ["户编号", "户主姓名", "村", "线索来源", "触发规则", "建议类别", "状态", "发现日期"]:
        assert column in header
    values = dict(zip(header, row, strict=True))
    assert values["线索来源"] == "系统筛查、走访排查"
    assert values["触发规则"] == "收入低于监测标准、收入骤减"
    assert values["户编号"] == "H520101001001"
    logs = AccessLog.objects.filter(action=AccessLog.Action.EXPORT).order_by("id")
    assert [(log.what, log.row_count) for log in logs] == [
        ("导出预警线索", 1),  # in the sheet's own words, not the code (an attack read "导出 households")
        (f"导出{term('target')}", 1),
        ("导出帮扶措施", 1),
    ]
