"""The import pipeline (SPEC §6): cell rules, cross-row checks, all-or-nothing, idempotence."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from monitoring.models import (
    AnnualIncome,
    AssistanceEntry,
    DepartmentAlert,
    Household,
    Lead,
    MedicalSettlement,
    Member,
    Region,
    Relation,
    RigidExpenditure,
)
from monitoring.services.imports.pipeline import ImportResult, import_run
from monitoring.services.imports.spec import SPECS
from tests.conftest import World
from tests.factories import IncomeFactory, MemberFactory, make_id_number
from tests.monitoring.xlsx import kind_sheet, write_sheet

pytestmark = pytest.mark.django_db

H1 = "H520101001001"  # in the county user's scope (520101)
H_OTHER_COUNTY = "H520102001001"


def member_row(**over: Any) -> dict[str, Any]:
    row = {
        "户编号": H1,
        "姓名": "张秀英",
        "身份证号": make_id_number(),
        "与户主关系": "配偶",
        "健康状况": "健康",
        "残疾等级": None,
        "劳动能力": "普通劳动力",
        "在校情况": None,
        "务工情况": "县内务工",
        "是否参加医保": "是",
    }
    row.update(over)
    return row


def income_row(**over: Any) -> dict[str, Any]:
    row = {
        "户编号": H1,
        "年度": 2024,
        "家庭人口数": 3,
        "工资性收入": 12000,
        "生产经营净收入": 3000.5,
        "财产净收入": 0,
        "转移净收入": 1500,
    }
    row.update(over)
    return row


def run(
    tmp_path: Path, world: World, kind: str, rows: list[dict[str, Any]], *, user: str | None = "county", **kw: Any
) -> ImportResult:
    dry_run = kw.pop("dry_run", False)
    path = kind_sheet(tmp_path / f"{kind}.xlsx", kind, rows, **kw)
    return import_run(kind=kind, source=str(path), user=world.users[user] if user else None, dry_run=dry_run)


def errors_of(result: ImportResult) -> list[tuple[int, str, str]]:
    return [(e.row, e.column, e.message) for e in result.errors]


# --- cell rules ----------------------------------------------------------------------------


def test_id_number_as_number_cell_is_rejected_with_a_clear_message(tmp_path: Path, world: World) -> None:
    result = run(tmp_path, world, "members", [member_row(), member_row(身份证号=520101198005170000)])
    assert errors_of(result) == [
        (3, "身份证号", "身份证号必须是文本，不能是数字（请将该列设置为文本格式后重新录入）。")
    ]
    # what Excel shows (the digits it rounded to), masked: the error list is stored and shown
    assert result.errors[0].value == "520101********0000"
    assert Member.objects.count() == len(world.households)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("52010119800517001", "身份证号应为 18 位，当前为 17 位。"),
        ("520101198005170011", "身份证号校验位错误，请核对号码。"),
        ("52010119801317001X", "身份证号中的出生日期 19801317 不是有效日期。"),
    ],
)
def test_id_number_text_rules(tmp_path: Path, world: World, value: str, message: str) -> None:
    result = run(tmp_path, world, "members", [member_row(身份证号=value)])
    assert errors_of(result) == [(2, "身份证号", message)]


def test_enumerations_accept_exactly_the_spec_labels(tmp_path: Path, world: World) -> None:
    result = run(
        tmp_path,
        world,
        "members",
        [member_row(健康状况="良好"), member_row(与户主关系="儿子"), member_row(残疾等级="1级")],
    )
    assert errors_of(result) == [
        (2, "健康状况", "“良好”不是有效的健康状况，应为：健康、长期慢性病、患有大病、残疾。"),
        (3, "与户主关系", f"“儿子”不是有效的与户主关系，应为：{'、'.join(SPEC_RELATIONS)}。"),
        (4, "残疾等级", "“1级”不是有效的残疾等级，应为：一级、二级、三级、四级（可为空）。"),
    ]


SPEC_RELATIONS = [
    "户主",
    "配偶",
    "之子",
    "之女",
    "之儿媳",
    "之女婿",
    "之孙子",
    "之孙女",
    "之父",
    "之母",
    "之兄弟姐妹",
    "其他",
]


def test_required_cells_and_empty_allowed_enumerations(tmp_path: Path, world: World) -> None:
    result = run(
        tmp_path,
        world,
        "members",
        [member_row(姓名="  ", 残疾等级=None, 在校情况="", 务工情况=None), member_row(劳动能力=None)],
    )
    assert errors_of(result) == [
        (2, "姓名", "姓名不能为空。"),
        (3, "劳动能力", "劳动能力不能为空。"),
    ]


def test_spaces_and_full_width_spaces_are_trimmed(tmp_path: Path, world: World) -> None:
    id_number = make_id_number()
    result = run(
        tmp_path,
        world,
        "members",
        [
            member_row(
                户编号=f" {H1}\u3000", 身份证号=f"\u3000{id_number} ", 与户主关系=" 之子 ", 健康状况="\u3000患有大病"
            )
        ],
    )
    assert result.ok, errors_of(result)
    member = Member.objects.get(id_number=id_number)
    assert (member.household.household_no, member.relation, member.health) == (H1, "SON", "SERIOUS")


def test_yes_no_columns(tmp_path: Path, world: World) -> None:
    result = run(tmp_path, world, "members", [member_row(是否参加医保="Y")])
    assert errors_of(result) == [(2, "是否参加医保", "是否参加医保应填“是”或“否”。")]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("工资性收入", "一万二", "工资性收入必须是数字（当前为“一万二”）。"),
        ("工资性收入", -1, "工资性收入不能为负数。"),
        ("转移净收入", -0.01, "转移净收入不能为负数。"),
        ("工资性收入", 1.234, "工资性收入最多保留两位小数。"),
        ("家庭人口数", 0, "家庭人口数必须是正整数。"),
        ("家庭人口数", 2.5, "家庭人口数必须是正整数。"),
        ("家庭人口数", "三", "家庭人口数必须是正整数。"),
        ("年度", 1999, "年度不能小于 2000。"),
    ],
)
def test_amount_and_number_rules(tmp_path: Path, world: World, column: str, value: Any, message: str) -> None:
    result = run(tmp_path, world, "incomes", [income_row(**{column: value})])
    assert errors_of(result) == [(2, column, message)]
    assert not AnnualIncome.objects.exists()


def test_negative_business_and_property_income_are_allowed(tmp_path: Path, world: World) -> None:
    result = run(tmp_path, world, "incomes", [income_row(生产经营净收入=-2500.75, 财产净收入=-10)])
    assert result.ok, errors_of(result)
    income = AnnualIncome.objects.get()
    assert (income.business_income, income.property_income) == (Decimal("-2500.75"), Decimal("-10.00"))
    assert income.wage_income == Decimal("12000.00")


def test_dates_are_date_cells_or_iso_text(tmp_path: Path, world: World) -> None:
    member = world.households["520101001001"].members.get()
    base = {"户编号": None, "身份证号": member.id_number, "支出类别": "医疗", "支出金额": 8000, "报销金额": 3000}
    result = run(
        tmp_path,
        world,
        "expenditures",
        [
            {**base, "发生日期": dt.date(2025, 3, 14)},
            {**base, "发生日期": "2025-04-01"},
            {**base, "发生日期": "2025/04/02"},
            {**base, "发生日期": "2025-02-30"},
            {**base, "发生日期": 45000},
        ],
    )
    expected = "发生日期应为日期单元格或 YYYY-MM-DD 格式的文本（如 2025-03-14）。"
    assert errors_of(result) == [
        (4, "发生日期", expected),
        (5, "发生日期", "发生日期“2025-02-30”不是有效日期。"),
        (6, "发生日期", expected),
    ]


def test_region_code_must_have_12_digits(tmp_path: Path, world: World) -> None:
    result = run(tmp_path, world, "households", [{"户编号": "N1", "村级区划代码": "5201010010", "户类型": "一般农户"}])
    assert errors_of(result) == [(2, "村级区划代码", "村级区划代码应为 12 位数字。")]


def test_exit_year_only_and_always_for_exited_households(tmp_path: Path, world: World) -> None:
    rows = [
        {"户编号": "N1", "村级区划代码": "520101001001", "户类型": "脱贫户"},
        {"户编号": "N2", "村级区划代码": "520101001001", "户类型": "一般农户", "脱贫年度": 2019},
        {"户编号": "N3", "村级区划代码": "520101001001", "户类型": "脱贫户", "脱贫年度": 2019},
    ]
    result = run(tmp_path, world, "households", rows)
    assert errors_of(result) == [
        (2, "户类型", "脱贫户必须填写脱贫年度。"),
        (3, "脱贫年度", "只有脱贫户填写脱贫年度，边缘户和一般农户请留空。"),
    ]
    assert not Household.objects.filter(household_no="N3").exists()


# --- sheet layout --------------------------------------------------------------------------


def test_header_row_after_five_title_rows_free_order_unknown_columns(tmp_path: Path, world: World) -> None:
    id_number = make_id_number()
    header = ["备注", "身份证号", "姓名", "户编号", "与户主关系", "劳动能力", "健康状况", "残疾等级", "在校情况"]
    header += ["务工情况", "是否参加医保"]
    row = ["随便写", id_number, "王国华", H1, "之父", "丧失劳动力", "长期慢性病", "二级", None, "未务工", "否"]
    titles = [["XX县家庭成员信息表"], [], ["填报单位：XX乡"], ["填报日期：2025年3月"], ["单位：人"]]
    path = write_sheet(tmp_path / "m.xlsx", header, [row], titles=titles)
    result = import_run(kind="members", source=str(path), user=world.users["county"])
    assert result.ok, errors_of(result)
    member = Member.objects.get(id_number=id_number)
    assert (member.name, member.labor, member.disability_grade, member.has_medical_insurance) == (
        "王国华",
        "LOST",
        "G2",
        False,
    )


def test_header_below_row_six_is_not_found(tmp_path: Path, world: World) -> None:
    titles = [["标题"]] * 6
    path = kind_sheet(tmp_path / "m.xlsx", "members", [member_row()], titles=titles)
    result = import_run(kind="members", source=str(path), user=world.users["county"])
    assert errors_of(result) == [
        (
            0,
            "",
            "前 6 行中没有找到家庭成员的表头行（应包含：户编号、姓名、身份证号、与户主关系、健康状况、残疾等级、"
            "劳动能力、在校情况、务工情况、是否参加医保）。请下载模板核对表头。",
        )
    ]


def test_missing_required_column_is_named(tmp_path: Path, world: World) -> None:
    path = write_sheet(tmp_path / "i.xlsx", ["户编号", "年度", "工资性收入"], [[H1, 2024, 1]])
    result = import_run(kind="incomes", source=str(path), user=world.users["county"])
    assert errors_of(result) == [
        (0, "", "第 1 行的表头缺少必需的列：家庭人口数、生产经营净收入、财产净收入、转移净收入。")
    ]


def test_not_an_xlsx_file(tmp_path: Path, world: World) -> None:
    path = tmp_path / "x.xlsx"
    path.write_text("户编号,年度\n")
    result = import_run(kind="incomes", source=str(path), user=world.users["county"])
    assert errors_of(result) == [
        (0, "", "文件不是有效的 Excel 工作簿（.xlsx），请用 Excel 或 WPS 另存为 .xlsx 后重新上传。")
    ]


def test_blank_rows_are_skipped_and_rows_numbered_as_excel_shows(tmp_path: Path, world: World) -> None:
    rows = [member_row(), {}, {}, member_row(健康状况="差")]
    result = run(tmp_path, world, "members", rows, titles=[["标题"]])
    assert errors_of(result) == [(6, "健康状况", "“差”不是有效的健康状况，应为：健康、长期慢性病、患有大病、残疾。")]
    assert result.rows == 2


# --- cross-row checks ----------------------------------------------------------------------


def test_duplicate_keys_inside_the_file(tmp_path: Path, world: World) -> None:
    id_number = make_id_number()
    result = run(
        tmp_path, world, "members", [member_row(身份证号=id_number), member_row(), member_row(身份证号=id_number)]
    )
    assert errors_of(result) == [(4, "身份证号", "与第 2 行重复（身份证号相同）。")]
    result = run(tmp_path, world, "incomes", [income_row(), income_row(年度=2023), income_row(工资性收入=1)])
    assert errors_of(result) == [(4, "户编号+年度", "与第 2 行重复（户编号+年度相同）。")]


def test_member_household_must_exist(tmp_path: Path, world: World) -> None:
    result = run(tmp_path, world, "members", [member_row(), member_row(户编号="H999")])
    assert errors_of(result) == [(3, "户编号", "户编号 H999 不存在，请先导入农户。")]
    assert Member.objects.count() == len(world.households)


def test_two_heads_in_one_household_in_the_file(tmp_path: Path, world: World) -> None:
    hh = Household.objects.create(household_no="N1", village_id="520101001002", household_type="GENERAL")
    result = run(
        tmp_path,
        world,
        "members",
        [member_row(户编号=hh.household_no, 与户主关系="户主"), member_row(户编号=hh.household_no, 与户主关系="户主")],
    )
    assert errors_of(result) == [(3, "与户主关系", "户编号 N1 在第 2 行已有户主，一户只能有一个户主。")]


def test_second_head_against_the_database(tmp_path: Path, world: World) -> None:
    head = world.households["520101001001"].members.get()
    result = run(tmp_path, world, "members", [member_row(与户主关系="户主")])
    masked = f"{head.id_number[:6]}********{head.id_number[-4:]}"
    assert errors_of(result) == [
        (2, "与户主关系", f"户编号 {H1} 在系统中已有户主（身份证号 {masked}），一户只能有一个户主。")
    ]


def test_head_can_change_within_one_file(tmp_path: Path, world: World) -> None:
    old_head = world.households["520101001001"].members.get()
    new_id = make_id_number()
    rows = [
        member_row(身份证号=new_id, 与户主关系="户主", 姓名="新户主"),
        member_row(身份证号=old_head.id_number, 与户主关系="之父", 姓名=old_head.name),
    ]
    result = run(tmp_path, world, "members", rows)
    assert result.ok, errors_of(result)
    assert (result.created, result.updated) == (1, 1)
    assert Member.objects.get(relation=Relation.HEAD, household__household_no=H1).id_number == new_id


def test_county_user_cannot_import_outside_the_county(tmp_path: Path, world: World) -> None:
    result = run(tmp_path, world, "members", [member_row(户编号=H_OTHER_COUNTY)])
    assert errors_of(result) == [(2, "户编号", f"户编号 {H_OTHER_COUNTY} 不在您的管辖范围内。")]
    rows = [{"户编号": "N1", "村级区划代码": "520102001001", "户类型": "一般农户"}]
    result = run(tmp_path, world, "households", rows)
    assert errors_of(result) == [(2, "村级区划代码", "村级区划代码 520102001001 不在您的管辖范围内。")]
    rows = [{"户编号": H_OTHER_COUNTY, "村级区划代码": "520101001001", "户类型": "一般农户"}]
    result = run(tmp_path, world, "households", rows)
    assert errors_of(result) == [(2, "户编号", "该户编号已登记在您管辖范围以外的区划，不能修改。")]
    assert Household.objects.get(household_no=H_OTHER_COUNTY).village_id == "520102001001"


def test_member_registered_outside_the_scope_cannot_be_moved_in(tmp_path: Path, world: World) -> None:
    outsider = world.households["520102001001"].members.get()
    result = run(tmp_path, world, "members", [member_row(身份证号=outsider.id_number)])
    assert errors_of(result) == [(2, "身份证号", "该身份证号已登记在您管辖范围以外的农户中。")]


def test_regions_import_is_for_administrators_only(tmp_path: Path, world: World) -> None:
    result = run(tmp_path, world, "regions", [{"区划代码": "520101003000", "名称": "新镇"}])
    assert errors_of(result) == [(0, "", "只有系统管理员可以导入行政区划。")]
    assert not Region.objects.filter(code="520101003000").exists()


def test_regions_parents_from_file_or_database(tmp_path: Path, world: World) -> None:
    rows = [
        {"区划代码": "540101001001", "名称": "新村"},  # parents below, in any order
        {"区划代码": "540101001000", "名称": "新镇"},
        {"区划代码": "540101000000", "名称": "新县", "深度贫困地区": "是"},
        {"区划代码": "540100000000", "名称": "新市"},
        {"区划代码": "540000000000", "名称": "新省"},
        {"区划代码": "520101009001", "名称": "孤村"},  # township 520101009 is nowhere
        {"区划代码": "520101002000", "名称": "改名镇", "深度贫困地区": "是"},
    ]
    result = run(tmp_path, world, "regions", rows, user="admin")
    assert errors_of(result) == [
        (7, "区划代码", "上级区划 520101009000 既不在文件中也不在系统中，请先导入上级区划。"),
        (8, "深度贫困地区", "只有县级区划可以标记为深度贫困地区（520101002000 是乡镇级）。"),
    ]
    result = run(tmp_path, world, "regions", rows[:5], user="admin")
    assert result.ok, errors_of(result)
    assert Region.objects.get(code="540101001001").parent_id == "540101001000"
    assert Region.objects.get(code="540101000000").is_deep_poverty


def test_expenditure_rules(tmp_path: Path, world: World) -> None:
    member = world.households["520101001001"].members.get()
    base = {"支出类别": "医疗", "发生日期": "2025-03-01", "支出金额": 5000}
    rows = [
        {**base, "户编号": None, "身份证号": None},
        {**base, "身份证号": member.id_number, "报销金额": 6000},
        {**base, "户编号": "H520101001002", "身份证号": member.id_number},
        {**base, "身份证号": make_id_number()},
        {**base, "户编号": H1, "支出类别": "看病"},
    ]
    result = run(tmp_path, world, "expenditures", rows)
    assert errors_of(result) == [
        (2, "户编号", "户编号和身份证号至少填写一项。"),
        (3, "报销金额", "报销金额不能大于支出金额。"),
        (4, "户编号", f"该身份证号的家庭成员属于户编号 {H1}，与本行户编号不符。"),
        (5, "身份证号", "系统中没有该身份证号的家庭成员，请先导入家庭成员。"),
        (6, "支出类别", "“看病”不是有效的支出类别，应为：医疗、残疾康复、灾害、疫情、意外事故、教育。"),
    ]


def test_every_error_of_the_file_is_reported(tmp_path: Path, world: World) -> None:
    rows = [income_row(年度=2000 + i) for i in range(10)]
    rows[2]["家庭人口数"] = -1
    rows[5]["工资性收入"] = "abc"
    rows[5]["转移净收入"] = -3
    rows[8]["户编号"] = "NOPE"
    result = run(tmp_path, world, "incomes", rows)
    assert [(e.row, e.column) for e in result.errors] == [
        (4, "家庭人口数"),
        (7, "工资性收入"),
        (7, "转移净收入"),
        (10, "户编号"),
    ]


def test_a_row_with_a_bad_cell_also_reports_its_reference_errors(tmp_path: Path, world: World) -> None:
    result = run(tmp_path, world, "members", [member_row(户编号="H999", 健康状况="差", 身份证号=123)])
    assert [(e.row, e.column) for e in result.errors] == [(2, "户编号"), (2, "身份证号"), (2, "健康状况")]
    assert result.errors[0].message == "户编号 H999 不存在，请先导入农户。"
    rows = [{"户编号": "N1", "村级区划代码": "520102001001", "户类型": "脱贫户"}]
    result = run(tmp_path, world, "households", rows)
    assert errors_of(result) == [
        (2, "村级区划代码", "村级区划代码 520102001001 不在您的管辖范围内。"),
        (2, "户类型", "脱贫户必须填写脱贫年度。"),
    ]


@pytest.mark.slow
def test_one_bad_row_among_thousands_writes_nothing(tmp_path: Path, world: World) -> None:
    households = [
        Household(household_no=f"B{i:05d}", village_id="520101001001", household_type="GENERAL") for i in range(3000)
    ]
    Household.objects.bulk_create(households)
    rows = [income_row(户编号=f"B{i:05d}") for i in range(3000)]
    rows[2345]["财产净收入"] = "n/a"
    result = run(tmp_path, world, "incomes", rows)
    assert errors_of(result) == [(2347, "财产净收入", "财产净收入必须是数字（当前为“n/a”）。")]
    assert not AnnualIncome.objects.exists()
    # The good file writes all of it, across several batches.
    rows[2345]["财产净收入"] = 0
    result = run(tmp_path, world, "incomes", rows)
    assert (result.ok, result.created, AnnualIncome.objects.count()) == (True, 3000, 3000)


def test_failure_while_writing_rolls_everything_back(tmp_path: Path, world: World, monkeypatch: Any) -> None:
    from django.db import IntegrityError

    from monitoring.services.imports import kinds

    calls = {"n": 0}
    original = kinds.IncomesHandler.write_batch

    def flaky(self: Any, rows: Any, *, dry_run: bool) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise IntegrityError("boom")
        return original(self, rows, dry_run=dry_run)

    monkeypatch.setattr(kinds, "BATCH_SIZE", 1, raising=False)
    monkeypatch.setattr("monitoring.services.imports.pipeline.BATCH_SIZE", 1)
    monkeypatch.setattr(kinds.IncomesHandler, "write_batch", flaky)
    result = run(tmp_path, world, "incomes", [income_row(), income_row(年度=2023)])
    assert not result.ok
    assert result.errors[0].message.startswith("写入数据库失败，已全部撤销")
    assert not AnnualIncome.objects.exists()


# --- idempotence and updates ---------------------------------------------------------------


def _all_kinds_files(tmp_path: Path) -> dict[str, tuple[list[dict[str, Any]], str]]:
    id_number = make_id_number()
    return {
        "regions": (
            [{"区划代码": "520101003000", "名称": "新镇"}, {"区划代码": "520101003001", "名称": "新村"}],
            "admin",
        ),
        "households": (
            [
                {
                    "户编号": "N1",
                    "村级区划代码": "520101001001",
                    "户类型": "脱贫户",
                    "脱贫年度": 2019,
                    "联系电话": "13900000000",
                },
                {"户编号": "N2", "村级区划代码": "520101001002", "户类型": "边缘户", "住址": "一组"},
            ],
            "county",
        ),
        "members": ([member_row(身份证号=id_number), member_row(户编号="H520101002001")], "county"),
        "incomes": ([income_row(), income_row(年度=2023, 家庭人口数=4)], "county"),
        "expenditures": (
            [
                {"户编号": H1, "支出类别": "教育", "发生日期": "2025-01-05", "支出金额": 3000, "说明": "学费"},
                {"户编号": "H520101002001", "支出类别": "灾害", "发生日期": dt.date(2025, 7, 1), "支出金额": 12000.5},
            ],
            "county",
        ),
        "alerts": (
            [
                {
                    "身份证号": make_id_number(),
                    "姓名": "外来人",
                    "预警类型": "失业",
                    "预警日期": "2025-02-01",
                    "来源部门": "人社局",
                },
                {
                    "身份证号": make_id_number(),
                    "姓名": "某某",
                    "预警类型": "受灾",
                    "预警日期": "2025-02-02",
                    "金额": 500,
                    "来源部门": "应急局",
                },
            ],
            "county",
        ),
        # a 民政 roster (issue 19): one line unmatched, kept
        "assistance_roster": (
            [
                {
                    "身份证号": id_number,
                    "姓名": "某某",
                    "救助类别": "低保",
                    "开始日期": "2025-01-01",
                    "月救助金额": 450,
                },
                {"身份证号": make_id_number(), "姓名": "某某", "救助类别": "特困", "开始日期": "2025-02-01"},
            ],
            "county",
        ),
        # a 医保 extract from the 医保 department user: one line becomes an (unmatched) alert
        "medical": (
            [
                {"身份证号": make_id_number(), "年度": 2024, "个人自付医疗费用": 30000},
                {"身份证号": make_id_number(), "年度": 2024, "个人自付医疗费用": 100},
            ],
            "dept",
        ),
    }


@pytest.mark.parametrize("kind", list(SPECS))
def test_importing_the_same_file_twice_changes_nothing(tmp_path: Path, world: World, kind: str) -> None:
    rows, user = _all_kinds_files(tmp_path)[kind]
    first = run(tmp_path, world, kind, rows, user=user)
    assert first.ok, errors_of(first)
    assert (first.created, first.updated) == (2, 0)
    model = {
        "regions": Region,
        "households": Household,
        "members": Member,
        "incomes": AnnualIncome,
        "expenditures": RigidExpenditure,
        "alerts": DepartmentAlert,
        "medical": MedicalSettlement,
        "assistance_roster": AssistanceEntry,
    }[kind]
    before = sorted(map(repr, model.objects.values()))
    alerts_before = sorted(map(repr, DepartmentAlert.objects.values()))
    second = run(tmp_path, world, kind, rows, user=user)
    assert (second.ok, second.created, second.updated, second.unchanged) == (True, 0, 0, 2)
    assert sorted(map(repr, model.objects.values())) == before
    assert sorted(map(repr, DepartmentAlert.objects.values())) == alerts_before


def test_a_changed_value_updates_only_that_row(tmp_path: Path, world: World) -> None:
    rows = [income_row(年度=2020 + i) for i in range(5)]
    run(tmp_path, world, "incomes", rows)
    before = {i.year: i for i in AnnualIncome.objects.all()}
    rows[3]["转移净收入"] = 2500
    result = run(tmp_path, world, "incomes", rows)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 4)
    after = {i.year: i for i in AnnualIncome.objects.all()}
    assert after[2023].transfer_income == Decimal("2500.00")
    assert {y: i.pk for y, i in after.items()} == {y: i.pk for y, i in before.items()}
    assert all(after[y].transfer_income == Decimal("1500.00") for y in after if y != 2023)


def test_optional_columns_missing_leave_stored_values_alone(tmp_path: Path, world: World) -> None:
    hh = world.households["520101001001"]
    hh.address = "三组 12 号"
    hh.save(update_fields=["address"])
    path = write_sheet(tmp_path / "h.xlsx", ["户编号", "村级区划代码", "户类型"], [[H1, "520101001001", "边缘户"]])
    result = import_run(kind="households", source=str(path), user=world.users["county"])
    # the 户类型 change waits for the county (issue 19: tests/monitoring/test_household_changes.py)
    assert (result.ok, result.updated, result.extra["changes_pending"]) == (True, 0, 1)
    hh.refresh_from_db()
    assert (hh.household_type, hh.address, hh.phone) == ("GENERAL", "三组 12 号", "13812345678")


def test_dry_run_reports_counts_and_writes_nothing(tmp_path: Path, world: World) -> None:
    IncomeFactory(household=world.households["520101001001"], year=2023)
    result = run(tmp_path, world, "incomes", [income_row(), income_row(年度=2023)], dry_run=True)
    assert (result.ok, result.created, result.updated) == (True, 1, 1)
    assert "试运行" in result.summary()
    assert [r["_action"] for r in result.preview] == ["新增", "更新"]
    assert AnnualIncome.objects.count() == 1
    assert AnnualIncome.objects.get().wage_income == Decimal("30000.00")


# --- alerts --------------------------------------------------------------------------------


def test_alerts_are_matched_kept_when_unmatched_and_record_expenditures(tmp_path: Path, world: World) -> None:
    member = world.households["520101001001"].members.get()
    outsider = world.households["530101001001"].members.get()
    stranger = make_id_number()
    rows = [
        {
            "身份证号": member.id_number,
            "姓名": member.name,
            "预警类型": "大额医疗支出",
            "预警日期": "2025-05-01",
            "金额": 68000,
            "来源部门": "医保局",
        },
        {
            "身份证号": member.id_number,
            "姓名": member.name,
            "预警类型": "新增残疾",
            "预警日期": "2025-05-02",
            "来源部门": "残联",
        },
        {
            "身份证号": stranger,
            "姓名": "查无此人",
            "预警类型": "受灾",
            "预警日期": "2025-05-03",
            "金额": 9000,
            "来源部门": "应急局",
        },
        {
            "身份证号": outsider.id_number,
            "姓名": outsider.name,
            "预警类型": "失业",
            "预警日期": "2025-05-03",
            "来源部门": "人社局",
        },
    ]
    result = run(tmp_path, world, "alerts", rows)
    assert result.ok, errors_of(result)
    assert result.extra == {"unmatched": 2, "expenditures_created": 1, "leads_raised": 1, "leads_merged": 0}
    assert "未匹配到家庭成员的预警 2 条" in result.summary()
    alerts = {a.alert_type: a for a in DepartmentAlert.objects.all()}
    assert alerts["MEDICAL"].status == "MATCHED" and alerts["MEDICAL"].member_id == member.pk
    assert alerts["MEDICAL"].region_code == "520101001001"
    assert alerts["DISASTER"].status == "UNMATCHED" and alerts["DISASTER"].region_code == "520101000000"
    assert alerts["UNEMPLOYMENT"].status == "UNMATCHED"  # outside the importer's county: not matched
    expenditure = RigidExpenditure.objects.get()
    assert (expenditure.household_id, expenditure.category, expenditure.amount) == (
        member.household_id,
        "MEDICAL",
        Decimal("68000.00"),
    )
    assert alerts["MEDICAL"].expenditure_id == expenditure.pk
    # Scoping: the county sees its alerts; another county's user does not.
    assert DepartmentAlert.objects.for_user(world.users["county"]).count() == 4
    assert DepartmentAlert.objects.for_user(world.users["township"]).count() == 2
    again = run(tmp_path, world, "alerts", rows)
    assert (again.created, again.updated, again.extra["expenditures_created"]) == (0, 0, 0)
    assert RigidExpenditure.objects.count() == 1
    # Both matched alerts went into one DEPARTMENT_ALERT lead; the re-import added nothing to it.
    lead = Lead.objects.get()
    assert lead.household_id == member.household_id and lead.sources == ["DEPARTMENT_ALERT"]
    assert [e["alert_type"] for e in lead.evidence["DEPARTMENT_ALERT"]] == ["MEDICAL", "DISABILITY"]
    assert "leads_raised" not in again.extra


def test_command_user_without_scope_matches_everywhere(tmp_path: Path, world: World) -> None:
    outsider = world.households["530101001001"].members.get()
    row = {
        "身份证号": outsider.id_number,
        "姓名": "x",
        "预警类型": "受灾",
        "预警日期": "2025-05-03",
        "金额": 1,
        "来源部门": "应急局",
    }
    result = run(tmp_path, world, "alerts", [row], user=None)
    assert result.ok and result.extra["unmatched"] == 0
    assert DepartmentAlert.objects.get().region_code == "530101001001"


def test_members_update_keeps_existing_ids_and_proposes_the_move(tmp_path: Path, world: World) -> None:
    member = MemberFactory(household=world.households["520101001001"], relation=Relation.SON)
    result = run(
        tmp_path, world, "members", [member_row(身份证号=member.id_number, 户编号="H520101001002", 姓名="改名")]
    )
    assert (result.ok, result.updated, result.extra["changes_pending"]) == (True, 1, 1)
    # the name is written; the move to another household waits for the county (issue 19)
    kept = Member.objects.get(pk=member.pk)
    assert (kept.household.household_no, kept.name) == ("H520101001001", "改名")


# --- the command ---------------------------------------------------------------------------


def test_import_command_prints_a_summary_and_records_a_job(tmp_path: Path, world: World) -> None:
    from io import StringIO

    from django.core.management import call_command

    from monitoring.models import ImportJob

    path = kind_sheet(tmp_path / "i.xlsx", "incomes", [income_row(), income_row(年度=2023)])
    stdout = StringIO()
    call_command("import_xlsx", "--kind", "incomes", str(path), "--dry-run", stdout=stdout)
    assert (
        stdout.getvalue().strip()
        == "年度收入校验通过（试运行，未写入）：共 2 行，将新增 2 行，将更新 0 行，未变化 0 行。"
    )
    assert not AnnualIncome.objects.exists()
    call_command("import_xlsx", "--kind", "incomes", str(path), "--user", "county", stdout=stdout)
    assert "年度收入导入完成：共 2 行，新增 2 行，更新 0 行，未变化 0 行。" in stdout.getvalue()
    job = ImportJob.objects.order_by("id").last()
    assert job is not None
    assert (job.kind, job.file_name, job.created_by, job.status, job.created_count) == (
        "incomes",
        "i.xlsx",
        world.users["county"],
        "SUCCEEDED",
        2,
    )


def test_import_command_errors_exit_non_zero(tmp_path: Path, world: World) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    path = kind_sheet(tmp_path / "i.xlsx", "incomes", [income_row(), income_row(家庭人口数=0)])
    stderr = StringIO()
    with pytest.raises(CommandError, match="年度收入导入失败：共 1 处错误，未写入任何数据。"):
        call_command("import_xlsx", "--kind", "incomes", str(path), stderr=stderr)
    assert stderr.getvalue().strip() == "第 3 行【家庭人口数】“0”：家庭人口数必须是正整数。"
    with pytest.raises(CommandError, match=r"文件 .*nope\.xlsx 不存在。"):
        call_command("import_xlsx", "--kind", "incomes", str(tmp_path / "nope.xlsx"))
    with pytest.raises(CommandError, match="只有系统管理员可以导入行政区划。"):
        call_command("import_xlsx", "--kind", "regions", str(path), "--user", "county", stderr=stderr)
    with pytest.raises(CommandError, match="未知的数据类型 people，应为：regions、households、members、incomes"):
        call_command("import_xlsx", "--kind", "people", str(path))
    with pytest.raises(CommandError, match="您的角色无权导入数据。"):
        call_command("import_xlsx", "--kind", "incomes", str(path), "--user", "village")


def test_stored_error_list_never_holds_a_full_id_or_phone_number(tmp_path: Path, world: World) -> None:
    known = world.households["520101001001"].members.get().id_number
    bad_check_digit = known[:17] + ("0" if known[17] != "0" else "1")
    result = run(
        tmp_path,
        world,
        "members",
        [member_row(身份证号=bad_check_digit), member_row(身份证号=known), member_row(身份证号=known)],
    )
    assert result.errors, "the sheet has errors"
    stored = " ".join(f"{e.value} {e.message}" for e in result.errors)
    assert bad_check_digit not in stored and known not in stored
    assert f"{known[:6]}********{known[-4:]}" in stored  # still recognisable for the person fixing it


def test_a_household_sheet_refuses_an_id_as_household_number_and_a_non_phone(tmp_path: Path, world: World) -> None:
    """Attacks imported a 身份证号 as 户编号 — whole, in full-width digits, with a space, its first 17
    digits — and a mobile (each then listed unmasked to every role), and "abc" as 联系电话; the
    contact cells people keep (two numbers, an extension, a note) are phones."""
    an_id = make_id_number()
    wide = an_id.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    refused_numbers = [an_id, wide, f"{an_id[:6]} {an_id[6:]}", an_id[:17], "13698765432"]
    accepted_phones = [
        "13812345678/0851-86801234",
        "0851-86801234转8001",
        "13812345678（本人）",
        "（0851）86801234",
        "１３８１２３４５６７８",
        "13812345678 13912345678",
    ]
    row = {"村级区划代码": "520101001001", "户类型": "一般农户"}
    rows = [{**row, "户编号": number, "联系电话": ""} for number in refused_numbers]
    rows += [{**row, "户编号": "H-NEW-PHONE", "联系电话": "abc"}]
    rows += [{**row, "户编号": f"H-OK-{n}", "联系电话": phone} for n, phone in enumerate(accepted_phones)]
    rows += [{**row, "户编号": "52010100100199010", "联系电话": ""}]  # the village's code and a number: a 户编号
    result = run(tmp_path, world, "households", rows)
    errors = errors_of(result)
    assert [(r, c) for r, c, _m in errors] == [(n, "户编号") for n in range(2, 7)] + [(7, "联系电话")]
    assert "像是身份证号或手机号" in errors[0][2] and "至少 7 位数字" in errors[-1][2]
    assert an_id not in str(result.errors) and wide not in str(result.errors)
    # and on a sheet without those rows, the rest is registered
    good = [r for r in rows if r["户编号"].startswith("H-OK") or r["户编号"] == "52010100100199010"]
    assert not run(tmp_path, world, "households", good).errors
    assert Household.objects.filter(household_no__startswith="H-OK").count() == len(accepted_phones)
