"""Declarative column specs for the import kinds (SPEC §6, plus 医保 extracts) and the cell parsers.

A kind is a list of ``Column``s (header, field, type, required, enumeration) and a key; the
pipeline (``pipeline.py``) is the same loop for every kind.  Parsers take a raw cell value
(whatever openpyxl returns) and return the clean Python value or raise ``CellError`` with a
Chinese reason.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from fanpin.core.idcard import id_number_normalize, phone_cell_plausible
from fanpin.core.typed import plain
from monitoring.models import (
    AlertType,
    AssistanceCategory,
    DisabilityGrade,
    Employment,
    ExpenditureCategory,
    Health,
    HouseholdType,
    Labor,
    MemberStatus,
    Relation,
    Schooling,
)


class CellError(Exception):
    """A bad cell: ``message`` is the Chinese reason shown to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def clean_text(value: Any) -> str:
    """Cell → text with surrounding (also full-width) spaces trimmed; ``None`` → ``""``."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()  # str.strip() removes U+3000 (full-width space) and NBSP too
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    return str(value).strip()


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- parsers: raw cell → value -------------------------------------------------------------


def parse_text(value: Any, column: Column) -> str:
    text = clean_text(value)
    if "\x00" in text:  # an Excel _x0000_: PostgreSQL cannot store it (SQLite would, silently)
        raise CellError(f"{column.header}含有无法保存的空字符，请删除后重新导入。")
    if column.max_length and len(text) > column.max_length:
        raise CellError(f"{column.header}不能超过 {column.max_length} 个字符（当前 {len(text)} 个）。")
    return text


def parse_code(value: Any, column: Column) -> str:
    """户编号 and similar identifiers: text; an integer number cell is accepted as its digits."""
    if isinstance(value, float) and not value.is_integer():
        raise CellError(f"{column.header}不能是小数。")
    return parse_text(value, column)


def parse_phone(value: Any, column: Column) -> str:
    """联系电话: empty, or what a contact cell holds (``phone_cell_plausible``)."""
    text = parse_code(value, column)
    if text and not phone_cell_plausible(text):
        raise CellError(f"{column.header}应为电话号码（手机号，或带区号的座机号），至少 7 位数字。")
    return text


_REGION_RE = re.compile(r"^[0-9]{12}$")


def parse_region_code(value: Any, column: Column) -> str:
    text = parse_code(value, column)
    if not _REGION_RE.match(text):
        raise CellError(f"{column.header}应为 12 位数字。")
    return text


def parse_id_number(value: Any, column: Column) -> str:
    if isinstance(value, str):
        value = value.strip()
    try:
        return id_number_normalize(value)
    except ValidationError as exc:
        raise CellError(exc.messages[0]) from None


@functools.cache
def _labels(choices: type[models.TextChoices]) -> dict[str, str]:
    """Label → code of an enumeration (the empty code, 空, is handled by ``allow_empty``)."""
    return {str(label): str(code) for code, label in choices.choices if code != ""}


def parse_enum(value: Any, column: Column) -> str:
    assert column.choices is not None
    text = value.strip() if isinstance(value, str) else clean_text(value)
    labels = _labels(column.choices)
    code = labels.get(text)
    if code is not None:
        return code
    if text == "" and column.allow_empty:
        return ""
    allowed = "、".join(labels)
    if column.allow_empty:
        allowed += "（可为空）"
    raise CellError(f"“{text}”不是有效的{column.header}，应为：{allowed}。")


def parse_bool(value: Any, column: Column) -> bool:
    text = clean_text(value)
    if text == "是":
        return True
    if text == "否":
        return False
    raise CellError(f"{column.header}应填“是”或“否”。")


def parse_int(value: Any, column: Column) -> int:
    if isinstance(value, bool):
        raise CellError(f"{column.header}必须是整数。")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit() and value.strip().isascii():
        number = int(value.strip())
    else:
        raise CellError(column.int_message or f"{column.header}必须是整数。")
    if column.min_value is not None and number < column.min_value:
        raise CellError(column.int_message or f"{column.header}不能小于 {column.min_value}。")
    if column.max_value is not None and number > column.max_value:
        raise CellError(f"{column.header}不能大于 {column.max_value}。")
    return number


_MONEY_LIMIT = Decimal("1e12")
_CENT = Decimal("0.01")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def number_text_parse(text: str) -> Decimal | None:
    """The one reading of a typed amount (imports, the 收支核算 form, the roster API): NFKC-normalised
    (full-width ``１０００`` reads as 1000), thousands commas dropped, then plain digits with an
    optional sign and decimal point only: exponent notation (``1e9``), underscores (``1_000``),
    NaN and Infinity are refused (``None``), where ``Decimal()`` would accept them silently."""
    digits = plain(text).replace(",", "")
    return Decimal(digits) if _PLAIN_NUMBER.fullmatch(digits) else None


def parse_money(value: Any, column: Column) -> Decimal:
    if isinstance(value, bool):
        raise CellError(f"{column.header}必须是数字。")
    if isinstance(value, int | float):
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        parsed = number_text_parse(value)
        if parsed is None:
            raise CellError(f"{column.header}必须是数字（当前为“{value.strip()}”）。")
        amount = parsed
    else:
        raise CellError(f"{column.header}必须是数字。")
    if not amount.is_finite():
        raise CellError(f"{column.header}必须是数字。")
    if abs(amount - amount.quantize(_CENT)) > Decimal("1e-9"):
        raise CellError(f"{column.header}最多保留两位小数。")
    amount = amount.quantize(_CENT)
    if abs(amount) >= _MONEY_LIMIT:
        raise CellError(f"{column.header}数值过大。")
    if not column.negative_ok and amount < 0:
        raise CellError(f"{column.header}不能为负数。")
    return amount


_DATE_RE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")


def parse_date(value: Any, column: Column) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        match = _DATE_RE.match(value.strip())
        if match:
            try:
                return dt.date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                raise CellError(f"{column.header}“{value.strip()}”不是有效日期。") from None
    raise CellError(f"{column.header}应为日期单元格或 YYYY-MM-DD 格式的文本（如 2025-03-14）。")


def exact_cells(column: Column) -> dict[Any, Any]:
    """The raw cells a column parses to a fixed value without error, with that value: an
    enumeration's labels as listed (and the empty cell where 空 is allowed), 是 and 否.  The import
    looks a cell up here before it calls the parser (2 M of a 300 000-member roster's 3.3 M cells
    are such cells); any other cell takes ``Column.parse``."""
    if column.choices is not None:
        cells: dict[Any, Any] = dict(_labels(column.choices))
        if column.allow_empty:
            cells |= {None: "", "": ""}
        return cells
    if column.parser is parse_bool:
        return {"是": True, "否": False}
    return {}


# --- the spec ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    parser: Callable[[Any, Column], Any]
    required: bool = True  # the cell must not be empty
    optional_column: bool = False  # the column may be missing from the sheet
    choices: type[models.TextChoices] | None = None
    allow_empty: bool = False  # enumerations whose SPEC list includes 空
    negative_ok: bool = False
    min_value: int | None = None
    max_value: int | None = None
    max_length: int | None = None
    int_message: str = ""
    width: int = 14  # column width in templates

    def parse(self, value: Any) -> Any:
        if is_blank(value):
            if self.choices is not None and self.allow_empty:
                return ""
            if self.required:
                raise CellError(f"{self.header}不能为空。")
            return None
        return self.parser(value, self)

    def label_of(self, value: Any) -> Any:
        """Clean value → what a sheet shows (enum labels, 是/否)."""
        if self.choices is not None:
            return "" if value in ("", None) else str(self.choices(value).label)
        if isinstance(value, bool):
            return "是" if value else "否"
        return value


def _text(header: str, field_name: str, max_length: int, **kw: Any) -> Column:
    return Column(header, field_name, parse_text, max_length=max_length, **kw)


def _enum(header: str, field_name: str, choices: type[models.TextChoices], **kw: Any) -> Column:
    return Column(header, field_name, parse_enum, choices=choices, **kw)


def _money(header: str, field_name: str, **kw: Any) -> Column:
    return Column(header, field_name, parse_money, width=14, **kw)


ID_NUMBER = Column("身份证号", "id_number", parse_id_number, width=22)
HOUSEHOLD_NO = Column("户编号", "household_no", parse_code, max_length=32, width=16)


@dataclass(frozen=True)
class KindSpec:
    kind: str
    label: str
    key: tuple[str, ...]  # fields forming the key (SPEC §6)
    columns: tuple[Column, ...]
    key_label: str = ""
    extra_required_any: tuple[tuple[str, ...], ...] = field(default=())  # at least one of these columns

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    @property
    def required_headers(self) -> list[str]:
        any_of = {h for group in self.extra_required_any for h in group}
        return [c.header for c in self.columns if not c.optional_column and c.header not in any_of]

    def column(self, field_name: str) -> Column:
        return next(c for c in self.columns if c.field == field_name)


SPECS: dict[str, KindSpec] = {
    "regions": KindSpec(
        "regions",
        "行政区划",
        key=("code",),
        key_label="区划代码",
        columns=(
            Column("区划代码", "code", parse_region_code, width=16),
            _text("名称", "name", 64, width=20),
            Column("深度贫困地区", "is_deep_poverty", parse_bool, required=False, optional_column=True),
        ),
    ),
    "households": KindSpec(
        "households",
        "农户",
        key=("household_no",),
        key_label="户编号",
        columns=(
            HOUSEHOLD_NO,
            Column("村级区划代码", "village_code", parse_region_code, width=16),
            _enum("户类型", "household_type", HouseholdType),
            Column(
                "脱贫年度", "exit_year", parse_int, required=False, optional_column=True, min_value=2013, max_value=2030
            ),
            Column("联系电话", "phone", parse_phone, max_length=32, required=False, optional_column=True),
            _text("住址", "address", 200, required=False, optional_column=True, width=30),
        ),
    ),
    "members": KindSpec(
        "members",
        "家庭成员",
        key=("id_number",),
        key_label="身份证号",
        columns=(
            HOUSEHOLD_NO,
            _text("姓名", "name", 64),
            ID_NUMBER,
            _enum("与户主关系", "relation", Relation),
            _enum("健康状况", "health", Health),
            _enum("残疾等级", "disability_grade", DisabilityGrade, allow_empty=True),
            _enum("劳动能力", "labor", Labor, width=20),
            _enum("在校情况", "schooling", Schooling, allow_empty=True),
            _enum("务工情况", "employment", Employment, allow_empty=True),
            Column("是否参加医保", "has_medical_insurance", parse_bool),
            # 死亡 / 注销 proposes the member's removal to the county (空 = 正常)
            _enum("成员状态", "status", MemberStatus, allow_empty=True, optional_column=True),
        ),
    ),
    "incomes": KindSpec(
        "incomes",
        "年度收入",
        key=("household_no", "year"),
        key_label="户编号+年度",
        columns=(
            HOUSEHOLD_NO,
            Column("年度", "year", parse_int, min_value=2000, max_value=2100),
            Column(
                "家庭人口数",
                "family_size",
                parse_int,
                min_value=1,
                max_value=100,
                int_message="家庭人口数必须是正整数。",
            ),
            _money("工资性收入", "wage_income"),
            _money("生产经营净收入", "business_income", negative_ok=True),
            _money("财产净收入", "property_income", negative_ok=True),
            _money("转移净收入", "transfer_income"),
        ),
    ),
    "expenditures": KindSpec(
        "expenditures",
        "刚性支出",
        key=("household_no", "id_number", "category", "occurred_on", "amount"),
        key_label="户编号或身份证号+支出类别+发生日期+支出金额",
        extra_required_any=(("户编号", "身份证号"),),
        columns=(
            Column("户编号", "household_no", parse_code, required=False, max_length=32, width=16),
            Column("身份证号", "id_number", parse_id_number, required=False, width=22),
            _enum("支出类别", "category", ExpenditureCategory),
            Column("发生日期", "occurred_on", parse_date, width=12),
            _money("支出金额", "amount"),
            _money("报销金额", "reimbursed", required=False, optional_column=True),
            _text("说明", "note", 200, required=False, optional_column=True, width=30),
        ),
    ),
    "alerts": KindSpec(
        "alerts",
        "部门预警",
        key=("department", "id_number", "alert_type", "alert_date"),  # 来源部门 is filled in first
        key_label="来源部门+身份证号+预警类型+预警日期",
        columns=(
            ID_NUMBER,
            _text("姓名", "name", 64),
            _enum("预警类型", "alert_type", AlertType),
            Column("预警日期", "alert_date", parse_date, width=12),
            _money("金额", "amount", required=False, optional_column=True),
            # Required for county staff and administrators (checked by the alerts handler); a
            # department user may leave it out or empty: its own department is used.
            _text("来源部门", "department", 64, required=False, optional_column=True, width=16),
            _text("说明", "note", 200, required=False, optional_column=True, width=30),
        ),
    ),
    # A 医保 settlement extract: stored as sent; the system decides which lines become
    # 大额医疗支出 alerts (monitoring.services.alerts.medical).  Not in SPEC §6's list: an addition.
    "medical": KindSpec(
        "medical",
        "医保结算数据",
        key=("id_number", "year"),
        key_label="身份证号+年度",
        columns=(
            ID_NUMBER,
            Column("年度", "year", parse_int, min_value=2000, max_value=2100),
            _money("个人自付医疗费用", "out_of_pocket"),
        ),
    ),
    # A 民政 roster (SPEC §6, from 2026): matched and written by monitoring.services.rosters.
    "assistance_roster": KindSpec(
        "assistance_roster",
        "民政救助名单",
        key=("id_number", "category", "start_date"),
        key_label="身份证号+救助类别+开始日期",
        columns=(
            ID_NUMBER,
            _text("姓名", "name", 64),
            _enum("救助类别", "category", AssistanceCategory, width=16),
            Column("开始日期", "start_date", parse_date, width=12),
            Column("结束日期", "end_date", parse_date, required=False, optional_column=True, width=12),
            _money("月救助金额", "monthly_amount", required=False, optional_column=True),
        ),
    ),
}

KINDS = tuple(SPECS)
