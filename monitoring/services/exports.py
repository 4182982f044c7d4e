"""Excel exports (SPEC §6): streamed write-only workbooks with Chinese headers, audited.

The other kinds live beside their data (``exports_leads``, ``assistance.services.exports``);
``manage.py export_xlsx`` maps each kind to its exporter.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError

from fanpin.core.audit import access_log_record, export_record
from fanpin.core.idcard import id_number_mask, phone_mask
from fanpin.core.masking import free_text_mask, personal_text_mask, user_sees_full_id
from fanpin.core.models import AccessLog
from fanpin.core.xlsx import SheetStream
from monitoring.models import HouseholdType
from monitoring.selectors.exports import REGION_COLUMNS, export_snapshot, households_export_rows
from monitoring.selectors.rosters import ASSISTANCE_FLAG_FIELDS, assistance_label_of

PURPOSE_MAX_LENGTH = 100

HOUSEHOLD_COLUMNS: list[tuple[str, int]] = [
    ("户编号", 16),
    ("户主姓名", 10),
    ("户主身份证号", 21),
    *REGION_COLUMNS,
    ("村级区划代码", 15),
    ("户类型", 9),
    ("脱贫年度", 9),
    ("家庭成员数", 10),
    ("联系电话", 14),
    ("住址", 24),
]
INCOME_COLUMNS: list[tuple[str, int]] = [
    ("收入年度", 9),
    ("家庭人口数", 10),
    ("工资性收入", 12),
    ("生产经营净收入", 14),
    ("财产净收入", 12),
    ("转移净收入", 12),
    ("人均可支配收入", 14),
]
ASSISTANCE_COLUMN = ("社会救助", 16)  # the current 民政 statuses (monitoring.selectors.rosters), last
_TYPE_LABELS = dict(HouseholdType.choices)
_CENT = Decimal("0.01")


ID_COLUMN = 2  # 户主身份证号: a text cell (number format @) so Excel never makes it a number


def _write_household_rows(append: Callable[[list[Any]], None], rows: Any, year: int | None, *, full: bool) -> int:
    count = 0
    for row in rows:
        no, head, id_number, county, township, village, code, kind, exit_year, size, phone, address = row[:12]
        if not full:
            id_number = id_number_mask(id_number) if id_number else id_number
            phone = phone_mask(phone) if phone else phone
            address = free_text_mask(address) if address else address  # a number typed into it
        values: list[Any] = [no, head, id_number, county, township, village, code, _TYPE_LABELS[kind], exit_year, size]
        values += [phone, address]
        if year is not None:
            income_year, family, wage, business, prop, transfer = row[12:18]
            per_capita = None
            if family:
                per_capita = ((wage + business + prop + transfer) / family).quantize(_CENT)
            values += [income_year, family, wage, business, prop, transfer, per_capita]
        values.append(assistance_label_of(row[-len(ASSISTANCE_FLAG_FIELDS) :]))
        append(values)
        count += 1
    return count


def full_ids_check(*, user: Any, purpose: str) -> str:
    """A full-number export needs a role with the right (``VIEW_FULL_ID``) and a stated purpose
    (用途); returns the purpose trimmed or raises ``PermissionDenied`` / ``ValidationError``."""
    if not user_sees_full_id(user):
        raise PermissionDenied("您的角色不能导出完整身份证号和联系电话。")
    purpose = (purpose or "").strip()
    if not purpose:
        raise ValidationError("导出完整身份证号和联系电话须填写用途。")
    if len(purpose) > PURPOSE_MAX_LENGTH:
        raise ValidationError(f"用途不能超过 {PURPOSE_MAX_LENGTH} 个字。")
    return purpose


def households_export(
    *,
    user: Any,
    out: str | IO[bytes],
    year: int | None = None,
    search: str = "",
    village_code: str = "",
    region_code: str = "",
    household_type: str = "",
    full_ids: bool = False,
    purpose: str = "",
) -> int:
    """Write the households the user may see (filtered like the list) and return the row count.

    户主身份证号 and 联系电话 are masked unless ``full_ids`` (only for roles holding
    ``VIEW_FULL_ID``, with a ``purpose`` that goes to the access log).  身份证号, 户编号, codes and
    phones are written as text cells (number format ``@``) so Excel never turns them into numbers;
    no text cell can become a formula (``fanpin.xlsx``).  The export is audited with its row count
    and filters.
    """
    if full_ids:
        purpose = full_ids_check(user=user, purpose=purpose)
    columns = HOUSEHOLD_COLUMNS + (INCOME_COLUMNS if year is not None else []) + [ASSISTANCE_COLUMN]
    sheet = SheetStream(out, title="农户", columns=columns, text_columns=[ID_COLUMN])
    rows = households_export_rows(
        user=user,
        year=year,
        search=search,
        village_code=village_code,
        region_code=region_code,
        household_type=household_type,
    )
    with export_snapshot():
        count = _write_household_rows(sheet.append, rows, year, full=full_ids)
    sheet.close()
    region = getattr(user, "region_id", None) or ""
    export_record(
        actor=user,
        personal_data=not full_ids,  # the full export's access-log row (with its purpose) is below
        kind="households",
        label="农户",
        rows=count,
        region_code=str(region),
        data={
            "filters": {
                "year": year,
                "search": personal_text_mask(header="", text=search),  # the audit keeps no full 身份证号
                "village": village_code,
                "region": region_code,
                "household_type": household_type,
            },
            "full_ids": full_ids,
            "purpose": purpose,
        },
    )
    if full_ids:
        access_log_record(
            actor=user,
            action=AccessLog.Action.EXPORT,
            what=f"导出农户（完整身份证号和联系电话）；用途：{purpose}",
            region_code=str(region),
            rows=count,
        )
    return count
