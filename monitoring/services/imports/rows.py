"""What the import loop hands a kind handler: rows, the errors found, and the import's context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fanpin.core.idcard import household_no_readable
from fanpin.core.masking import personal_text_mask
from fanpin.core.scoping import sees_everything, user_region_prefix
from fanpin.core.xlsx import control_characters_shown
from monitoring.services.imports.spec import KindSpec

MAX_ERRORS_KEPT = 5000
HOUSEHOLD_NO_HEADER = "户编号"
REGION_CODE_HEADERS = frozenset({"区划代码", "村级区划代码"})


def _value_readable(header: str, raw: str) -> bool:
    """Whether a cell is shown as typed in an error list, the numbers in its message left alone: a
    户编号 (``household_no_readable``), or a region code of up to 14 digits — a code is not personal,
    and a mistyped one (11 digits from 13 look like a mobile) must be seen to be fixed."""
    if header == HOUSEHOLD_NO_HEADER:
        return household_no_readable(raw)
    return header in REGION_CODE_HEADERS and raw.isascii() and raw.isdigit() and len(raw) <= 14


@dataclass
class RowError:
    row: int  # as Excel shows it; 0 for the whole file
    column: str
    value: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "value": self.value, "message": self.message}

    def __str__(self) -> str:
        where = f"第 {self.row} 行" if self.row else "文件"
        column = f"【{self.column}】" if self.column else ""
        value = f"“{self.value}”" if self.value else ""
        return f"{where}{column}{value}：{self.message}"


@dataclass
class Row:
    number: int
    values: dict[str, Any]
    refs: dict[str, Any] = field(default_factory=dict)  # ids resolved from the database


class ImportContext:
    """What a kind handler needs: the user's scope, the error list, caches."""

    def __init__(self, *, spec: KindSpec, user: Any | None, present: set[str], job_id: int | None = None) -> None:
        self.spec = spec
        self.user = user
        self.job_id = job_id  # the ImportJob being run, if any (alerts link themselves to it)
        # No user: a management command acting as administrator (no scope limit).
        self.is_admin = user is None or sees_everything(user)
        prefix = "" if user is None else user_region_prefix(user)
        self.prefix: str | None = prefix
        self.present = present  # fields whose column is in the sheet
        self.errors: list[RowError] = []
        self.error_count = 0
        self.keys: dict[tuple[Any, ...], int] = {}  # key → first row number
        self.cache: dict[str, dict[Any, Any]] = {}
        self.extra: dict[str, int] = {}
        # rows recognised as their stored record before parsing (counted unchanged, never spooled)
        self.unchanged = 0
        self.unchanged_preview: list[Row] = []  # the first of them, for the result's preview

    def error(self, row: int, header: str, value: Any, message: str) -> None:
        """Count a row's error and keep the first ``MAX_ERRORS_KEPT`` (personal numbers masked)."""
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            # Kept in the job row and shown on its page: no full 身份证号 or phone number.
            raw = "" if value is None else str(value).strip()
            text = personal_text_mask(header=header, text=raw)
            if _value_readable(header, raw):
                # a 户编号 as long as an ID number (17 digits in some provinces) or a region code stays
                # readable, or the importer cannot tell which household or village is meant
                text = raw
                message = raw.join(personal_text_mask(header="", text=part) for part in message.split(raw))
            else:
                message = personal_text_mask(header="", text=message)
            # a NUL (Excel's _x0000_) and the like shown as ␀ …: the job's list is JSON, which
            # PostgreSQL cannot store a NUL in, and the annotated copy's comments cannot hold any
            self.errors.append(
                RowError(row, header, control_characters_shown(text[:100]), control_characters_shown(message))
            )

    def in_scope(self, code: str) -> bool:
        return self.prefix is not None and code.startswith(self.prefix)
