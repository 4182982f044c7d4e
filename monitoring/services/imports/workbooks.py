"""Workbooks the import offers: blank templates and the annotated copy of a rejected upload."""

from __future__ import annotations

from collections import defaultdict
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from fanpin.core.xlsx import cell_text_safe, control_characters_shown, ooxml_text, safe_row
from monitoring.services.imports.reader import SheetError, find_header, open_rows
from monitoring.services.imports.spec import SPECS, Column, parse_bool

BAD_FILL = PatternFill("solid", fgColor="FFC7CE")
HEADER_FONT = Font(bold=True)
ERROR_HEADER = "错误说明"

TEMPLATE_NOTES: dict[str, str] = {
    "regions": "区划代码为 12 位统计用区划代码；深度贫困地区只对县级区划填“是”。",
    "households": "户类型：脱贫户、边缘户、一般农户；脱贫户必须填写脱贫年度。",
    "members": "身份证号列请设置为文本格式；每户只能有一个户主。",
    "incomes": "金额单位为元；生产经营净收入、财产净收入可以为负数。",
    "expenditures": "户编号和身份证号至少填写一项；日期格式 YYYY-MM-DD。",
    "alerts": "预警类型：大额医疗支出、新增残疾、受灾、申请低保、申请临时救助、失业、辍学、住房安全、其他；"
    "行业部门用户可不填来源部门（按账号所属部门记录）。",
    "medical": "每人每年一行：年度个人自付医疗费用（元）；由系统按参数判断是否转为大额医疗支出预警。",
    "assistance_roster": "救助类别：低保、特困、低保边缘、刚性支出困难；结束日期空表示仍在享受；"
    "同一身份证号+救助类别+开始日期再次报送按最新内容更新。",
}


TEMPLATE_LAST_ROW = 20000  # data validation covers the rows a county sheet fills


def enumerated_values(column: Column) -> list[str] | None:
    """The values a template's drop-down offers for ``column`` (SPEC §6 enumerated values: the
    labels of its choices; 是/否), or ``None`` for a free column."""
    if column.choices is not None:
        return [str(label) for code, label in column.choices.choices if code != ""]
    if column.parser is parse_bool:
        return ["是", "否"]
    return None


def _validation(column: Column, values: list[str], letter: str) -> DataValidation:
    allowed = "、".join(values)
    blank = column.allow_empty or not column.required
    dv = DataValidation(
        type="list",
        formula1='"' + ",".join(values) + '"',
        allow_blank=blank,
        showErrorMessage=True,
        errorStyle="stop",
        errorTitle=f"{column.header}无效"[:32],
        error=(f"{column.header}应为：{allowed}" + ("（可为空）" if blank else "") + "。")[:225],
        showInputMessage=True,
        promptTitle=column.header[:32],
        prompt=f"从下拉列表选择：{allowed}"[:255],
    )
    dv.add(f"{letter}3:{letter}{TEMPLATE_LAST_ROW}")
    return dv


def import_template_write(*, kind: str, out: str | IO[bytes]) -> None:
    """A blank template: a title row, the header row (frozen), text format for 身份证号, and a
    drop-down list (data validation) on every enumerated column."""
    spec = SPECS[kind]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(spec.label)
    for index, column in enumerate(spec.columns, start=1):
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = column.width
        values = enumerated_values(column)
        if values:
            ws.data_validations.append(_validation(column, values, letter))
    ws.freeze_panes = "A3"
    title = WriteOnlyCell(ws, value=f"{spec.label}导入模板（{TEMPLATE_NOTES[kind]}）")
    title.font = HEADER_FONT
    ws.append([title])
    header = []
    for column in spec.columns:
        cell = WriteOnlyCell(ws, value=column.header)
        cell.font = HEADER_FONT
        header.append(cell)
    ws.append(header)
    wb.save(out)


def annotated_copy_write(
    *, kind: str, source: str | IO[bytes], errors: list[dict[str, Any]], out: str | IO[bytes]
) -> None:
    """The uploaded sheet with a 错误说明 column and the bad cells highlighted (streamed)."""
    by_row: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for error in errors:
        by_row[int(error["row"])].append(error)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("错误说明")
    whole_file = [str(e["message"]) for e in by_row.pop(0, [])]  # errors of no row: after the rows
    try:
        with open_rows(source) as (rows, _max_row):
            layout = find_header(rows, SPECS[kind])
            ncols = layout.ncols
            positions = layout.positions
            for index in range(1, ncols + 2):
                ws.column_dimensions[get_column_letter(index)].width = 16
            ws.column_dimensions[get_column_letter(ncols + 1)].width = 60
            ws.freeze_panes = f"A{layout.header_row + 1}"
            for title in layout.title_rows:
                ws.append(safe_row(title))
            header = []
            for value in layout.header:
                cell = WriteOnlyCell(ws, value=cell_text_safe(value))
                cell.font = HEADER_FONT
                header.append(cell)
            tail = WriteOnlyCell(ws, value=ERROR_HEADER)
            tail.font = Font(bold=True, color="9C0006")
            ws.append([*header, tail])
            _copy_rows(ws, rows, layout.header_row, ncols, positions, by_row)
    except SheetError as exc:
        ws.append([ERROR_HEADER])
        ws.append(safe_row([exc.message]))
        # the kept list already says so (the check met the same file): not twice
        whole_file = [message for message in whole_file if message != exc.message]
    if whole_file:
        ws.append([])
        ws.append(safe_row(["；".join(whole_file)]))
    wb.save(out)


def _copy_rows(
    ws: Any, rows: Any, header_row: int, ncols: int, positions: dict[str, int], by_row: dict[int, list[dict[str, Any]]]
) -> None:
    wrap = Alignment(wrap_text=True, vertical="top")
    for number, raw in enumerate(rows, start=header_row + 1):
        errors = by_row.get(number)
        values = list(raw[:ncols]) + [None] * max(0, ncols - len(raw))
        if not errors:
            ws.append(safe_row(values))
            continue
        bad_columns = {positions[e["column"]] for e in errors if e["column"] in positions}
        cells: list[Any] = []
        for index, value in enumerate(values):
            cell = WriteOnlyCell(ws, value=cell_text_safe(value))
            if index in bad_columns:
                cell.fill = BAD_FILL
                messages = "；".join(e["message"] for e in errors if positions.get(e["column"]) == index)
                # kept lists from before too; a comment is text as a cell's is (_xHHHH_ decoded)
                cell.comment = Comment(ooxml_text(control_characters_shown(messages)), "fanpin")
            cells.append(cell)
        note = WriteOnlyCell(
            ws,
            value=cell_text_safe(
                "；".join(f"【{e['column']}】{e['message']}" if e["column"] else e["message"] for e in errors)
            ),
        )
        note.fill = BAD_FILL
        note.alignment = wrap
        ws.append([*cells, note])
