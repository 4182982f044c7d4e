"""The working-day calendar as data (SPEC §5.6): a year's holidays and 调休 working days imported
from xlsx in two steps — the upload is parsed and checked into a ``CalendarImportPreview`` (nothing
written to the calendar), 确认导入 then replaces that year's rows by exactly the previewed rows, at
once, unless the stored year changed since the preview — edited one day at a time, the demo's
sample years; every change audited (``object_type="calendar"``, object id the year)."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from fanpin.core.audit import audit_record
from fanpin.core.locks import named_locks_acquire
from fanpin.core.masking import personal_text_mask
from fanpin.core.scoping import ObjectOutOfScope
from fanpin.core.xlsx import control_characters_in, safe_row
from monitoring.models.calendar import (
    CalendarDay,
    CalendarDayKind,
    CalendarImportPreview,
    CalendarPreviewStatus,
)
from monitoring.selectors.calendar_imports import (
    PREVIEW_WHAT,
    calendar_preview_diff,
    calendar_rows_digest,
    calendar_year_digest,
)
from monitoring.services.imports.reader import HEADER_SCAN_ROWS, SheetError, archive_check, open_rows
from monitoring.services.imports.spec import clean_text, is_blank

HEADERS = ("日期", "类型", "名称")
KIND_BY_LABEL = {label: code for code, label in CalendarDayKind.choices}
AUDIT_TYPE = "calendar"
MAX_ROWS = 400  # a year has 366 days
MAX_FILE_BYTES = 2 * 1024 * 1024  # the sheet has a few dozen rows


@dataclass
class CalendarRowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"第 {self.row} 行「{self.column}」：{self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": personal_text_mask(header="", text=self.message)}


@dataclass
class CalendarImportOutcome:
    year: int
    holidays: int = 0
    workdays: int = 0
    errors: list[CalendarRowError] = field(default_factory=list)


def calendar_summary(*, year: int) -> str:
    """``法定节假日 11 天、调休上班 2 天（示例数据）`` of a stored year (``无`` when empty)."""
    rows = list(CalendarDay.objects.filter(day__year=year).values_list("kind", "sample"))
    if not rows:
        return "无"
    holidays = sum(1 for kind, _s in rows if kind == CalendarDayKind.HOLIDAY)
    text = f"法定节假日 {holidays} 天、调休上班 {len(rows) - holidays} 天"
    return text + ("（示例数据）" if any(s for _k, s in rows) else "")


def calendar_template() -> bytes:
    """The blank template: 日期 · 类型 · 名称 and no rows (uploaded unchanged it is refused, never
    an almost empty year), with the examples on a second sheet 填写说明 that the import ignores."""
    wb = Workbook()
    ws = wb.active
    ws.title = "节假日安排"
    ws.append(list(HEADERS))
    for col, width in zip("ABC", (14, 14, 20), strict=True):
        ws.column_dimensions[col].width = width
    notes = wb.create_sheet("填写说明")
    for line in (
        ["在“节假日安排”表中按国务院办公厅公布的当年安排，每个放假日、每个调休上班日各填一行。"],
        ["导入会替换该年度已有的全部安排（全年一次导入）：上传后先预览，确认后才写入。本表不会被导入。"],
        ["示例：", "", ""],
        list(HEADERS),
        ["2027-01-01", CalendarDayKind.HOLIDAY.label, "元旦"],
        ["2027-02-06", CalendarDayKind.WORKDAY.label, "春节调休上班"],
    ):
        notes.append(safe_row(line))
    notes.column_dimensions["A"].width = 14
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _formula_cells(data: bytes) -> set[tuple[int, int]]:
    """(row, 0-based column) of every formula cell of the first worksheet (in the workbook's own
    order), read with openpyxl as written (not the cached values the rows are read with); only
    the rows a calendar may have are looked at."""
    cells: set[tuple[int, int]] = set()
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        return cells  # the reader then says what is wrong with the file
    try:
        ws = wb.worksheets[0] if wb.worksheets else None
        if ws is None:
            return cells
        ws.reset_dimensions()  # a wrong <dimension> (A1) would hide the columns right of it
        for number, row in enumerate(ws.iter_rows(max_row=HEADER_SCAN_ROWS + MAX_ROWS + 1), start=1):
            for index, cell in enumerate(row):
                if getattr(cell, "data_type", None) == "f":
                    cells.add((number, index))
    finally:
        wb.close()
    return cells


_TEXT_DATE = re.compile(r"([0-9]{4})\s*(?:-|/|\.|年)\s*([0-9]{1,2})\s*(?:-|/|\.|月)\s*([0-9]{1,2})\s*日?")


def _date(value: Any) -> dt.date | None:
    """A date cell (a datetime cell's date), or a text date ``2027-01-01``, ``2027/1/1``,
    ``2027.1.1`` or ``2027年1月1日``; anything else ``None``."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    match = _TEXT_DATE.fullmatch(clean_text(value))
    if match:
        try:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return None
    return None


def _date_error(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"“{clean_text(value)}”是数字而不是日期：请把单元格格式设为日期，或填写 YYYY-MM-DD。"
    if isinstance(value, dt.time):
        return f"“{value}”是时间而不是日期（应为日期单元格或 YYYY-MM-DD）。"
    return f"“{clean_text(value)[:40]}”不是有效日期（应为日期单元格或 YYYY-MM-DD）。"


def calendar_rows_parse(
    *, source: IO[bytes], year: int
) -> tuple[list[tuple[dt.date, str, str]], list[CalendarRowError]]:
    """The rows of an uploaded calendar sheet, or every bad row (row number, column, reason)."""
    data = source.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError(
            {"file": f"文件过大（超过 {MAX_FILE_BYTES // 1024 // 1024} MB）：节假日安排表只有几十行。"}
        )
    try:
        archive_check(io.BytesIO(data))  # not an .xlsx, or a "zip bomb": refused before anything is inflated
    except SheetError as exc:
        raise ValidationError({"file": exc.message}) from None
    formulas = _formula_cells(data)
    errors: list[CalendarRowError] = []
    parsed: list[tuple[dt.date, str, str]] = []
    try:
        with open_rows(io.BytesIO(data)) as (rows, _total):
            positions: dict[str, int] | None = None
            header_row = 0
            first_seen: dict[dt.date, int] = {}
            for number, raw in enumerate(rows, start=1):
                if positions is None:
                    texts = [clean_text(c) for c in raw]
                    if all(h in texts for h in HEADERS[:2]):
                        positions = {h: texts.index(h) for h in HEADERS if h in texts}
                        header_row = number
                    elif number >= HEADER_SCAN_ROWS:
                        raise SheetError("未找到表头：第一张工作表的前 6 行中应有“日期”“类型”（和“名称”）三列。")
                    continue
                cells = {h: (raw[i] if i < len(raw) else None) for h, i in positions.items()}
                if all(is_blank(v) for v in cells.values()):
                    continue
                if number - header_row > MAX_ROWS:
                    raise SheetError(f"行数超过 {MAX_ROWS} 行：一年的节假日安排不会有这么多行。")
                row_errors = len(errors)
                for header, index in positions.items():
                    if (number, index) in formulas:
                        errors.append(CalendarRowError(number, header, "不能是公式，请复制后“粘贴为数值”再上传。"))
                    value = cells.get(header)
                    if isinstance(value, str) and control_characters_in(value):
                        # Excel's _x0000_ and the like: the preview (JSON) cannot hold a NUL
                        errors.append(CalendarRowError(number, header, "含有无法保存的控制字符，请删除后重新上传。"))
                if len(errors) > row_errors:
                    continue
                day = _date(cells["日期"])
                kind = KIND_BY_LABEL.get(clean_text(cells["类型"]))
                name = clean_text(cells.get("名称"))
                if is_blank(cells["日期"]):
                    errors.append(CalendarRowError(number, "日期", "不能为空。"))
                elif day is None:
                    errors.append(CalendarRowError(number, "日期", _date_error(cells["日期"])))
                elif day.year != year:
                    errors.append(CalendarRowError(number, "日期", f"{day:%Y-%m-%d} 不在 {year} 年。"))
                elif day in first_seen:
                    errors.append(CalendarRowError(number, "日期", f"{day:%Y-%m-%d} 与第 {first_seen[day]} 行重复。"))
                if kind is None:
                    shown = clean_text(cells["类型"])[:20]
                    expected = "应为“法定节假日”或“调休上班”"
                    errors.append(
                        CalendarRowError(number, "类型", f"{expected}（填的是“{shown}”）。" if shown else "不能为空。")
                    )
                elif day is not None and kind == CalendarDayKind.WORKDAY and day.weekday() < 5:
                    errors.append(
                        CalendarRowError(number, "类型", f"{day:%Y-%m-%d} 是工作日（周一至周五），不需要标为调休上班。")
                    )
                if len(name) > 40:
                    errors.append(CalendarRowError(number, "名称", "不能超过 40 个字。"))
                if len(errors) == row_errors and day is not None and kind is not None:
                    first_seen[day] = number
                    parsed.append((day, kind, name))
            if positions is None:
                raise SheetError("未找到表头：第一张工作表的前 6 行中应有“日期”“类型”（和“名称”）三列。")
    except SheetError as exc:
        raise ValidationError({"file": exc.message}) from None
    return parsed, errors


def _year_check(year: int) -> None:
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": "年度应在 2000–2100 之间。"})


@transaction.atomic
def calendar_import_preview(*, actor: Any, year: int, source: IO[bytes], file_name: str = "") -> CalendarImportPreview:
    """Parse and check an uploaded year (the whole file) into a preview; nothing is written to the
    calendar. A file that cannot be read as a calendar at all (not .xlsx, too large, no header, no
    data row) raises ``ValidationError`` and stores nothing; bad rows are kept on the preview
    (status 有错误, which cannot be confirmed) with every good row, for the preview page."""
    _year_check(year)
    name = Path(file_name or "").name
    if name and not name.lower().endswith(".xlsx"):
        raise ValidationError({"file": "只能上传 .xlsx 格式的 Excel 文件（.xls 请先另存为 .xlsx）。"})
    rows, errors = calendar_rows_parse(source=source, year=year)
    if not rows and not errors:
        raise ValidationError({"file": "表中没有数据行：请按模板填写该年的法定节假日和调休上班日。"})
    payload = [[f"{d:%Y-%m-%d}", k, n] for d, k, n in rows]
    return CalendarImportPreview.objects.create(
        year=year,
        file_name=name[:255],
        created_by=actor,
        status=CalendarPreviewStatus.INVALID if errors else CalendarPreviewStatus.PENDING,
        rows=payload,
        errors=[e.as_dict() for e in errors],
        error_count=len(errors),
        digest=calendar_rows_digest(rows=payload),
        base_digest=calendar_year_digest(year=year),
    )


def _preview_locked(*, actor: Any, preview_id: int) -> CalendarImportPreview:
    """The actor's own preview, locked (two confirms of one preview: the second waits, then sees
    it decided). Another user's answers as an absent one (``ObjectOutOfScope``, 404)."""
    preview = CalendarImportPreview.objects.select_for_update().filter(pk=preview_id).first()
    if preview is None or preview.created_by_id != getattr(actor, "pk", None):
        raise ObjectOutOfScope(PREVIEW_WHAT)
    return preview


def _decided_refusal(preview: CalendarImportPreview) -> ValidationError | None:
    when = timezone.localtime(preview.decided_at).strftime("%Y-%m-%d %H:%M") if preview.decided_at else ""
    if preview.status == CalendarPreviewStatus.APPLIED:
        return ValidationError(f"该预览已于 {when} 确认导入，本次没有再次导入。", code="applied")
    if preview.status == CalendarPreviewStatus.CANCELLED:
        return ValidationError(f"该预览已于 {when} 取消，请重新上传文件。", code="cancelled")
    return None


@transaction.atomic
def calendar_import_confirm(*, actor: Any, preview_id: int) -> CalendarImportOutcome:
    """Replace the preview's year by exactly the previewed rows, all or nothing; the imported days
    are published data (not sample). Refused (``ValidationError``, nothing written) when the preview
    is already confirmed or cancelled, has errors, or the stored year changed since the preview
    (someone else imported or edited it meanwhile). Audited ``import``."""
    preview = _preview_locked(actor=actor, preview_id=preview_id)
    refusal = _decided_refusal(preview)
    if refusal is not None:
        raise refusal
    if preview.status == CalendarPreviewStatus.INVALID or preview.error_count:
        raise ValidationError(f"文件有 {preview.error_count} 处错误，不能导入：请改正后重新上传。", code="invalid")
    year = preview.year
    _year_check(year)
    if calendar_rows_digest(rows=preview.rows) != preview.digest:
        raise ValidationError("预览数据校验失败，未导入任何数据：请重新上传文件。", code="digest")
    # one importer of a year at a time (PostgreSQL; a year with no stored day has no row to lock)
    named_locks_acquire(names=[f"calendar:{year}"])
    list(CalendarDay.objects.select_for_update().filter(day__year=year).values_list("pk", flat=True))
    if calendar_year_digest(year=year) != preview.base_digest:
        raise ValidationError(
            f"预览之后 {year} 年的节假日安排已被修改（可能有其他管理员同时导入或修改），未导入任何数据："
            "请取消本预览，重新上传文件预览后再确认。",
            code="stale",
        )
    diff = calendar_preview_diff(preview=preview)
    rows = [(dt.date.fromisoformat(d), k, n) for d, k, n in preview.rows]
    before = calendar_summary(year=year)
    CalendarDay.objects.filter(day__year=year).delete()
    CalendarDay.objects.bulk_create([CalendarDay(day=d, kind=k, name=n, sample=False) for d, k, n in rows])
    outcome = CalendarImportOutcome(year=year)
    outcome.holidays = sum(1 for _d, k, _n in rows if k == CalendarDayKind.HOLIDAY)
    outcome.workdays = len(rows) - outcome.holidays
    preview.status = CalendarPreviewStatus.APPLIED
    preview.decided_at = timezone.now()
    preview.save(update_fields=["status", "decided_at"])
    audit_record(
        actor=actor,
        object_type=AUDIT_TYPE,
        object_id=year,
        region_code="",
        action="import",
        from_state=before,
        to_state=calendar_summary(year=year),
        reason=f"导入 {preview.file_name}".strip(),
        data={
            "holidays": outcome.holidays,
            "workdays": outcome.workdays,
            "preview": preview.pk,
            "digest": preview.digest,
            "added": len(diff.added),
            "removed": len(diff.removed),
            "changed": len(diff.changed),
            "unchanged": diff.unchanged,
        },
    )
    return outcome


@transaction.atomic
def calendar_import_cancel(*, actor: Any, preview_id: int) -> CalendarImportPreview:
    """Discard a preview (its rows are dropped); a confirmed one cannot be cancelled."""
    preview = _preview_locked(actor=actor, preview_id=preview_id)
    if preview.status == CalendarPreviewStatus.APPLIED:
        raise ValidationError("该预览已确认导入，不能取消。", code="applied")
    if preview.status == CalendarPreviewStatus.CANCELLED:
        return preview
    preview.status = CalendarPreviewStatus.CANCELLED
    preview.decided_at = timezone.now()
    preview.rows = []
    preview.errors = []
    preview.save(update_fields=["status", "decided_at", "rows", "errors"])
    return preview


def _day_text(day: CalendarDay | None) -> str:
    return "" if day is None else str(day)


@transaction.atomic
def calendar_day_save(*, actor: Any, day: CalendarDay) -> CalendarDay:
    """One day added or changed (the admin): a 调休上班 on a weekday is refused. Audited ``edit``."""
    if day.kind == CalendarDayKind.WORKDAY and day.day.weekday() < 5:
        raise ValidationError({"kind": f"{day.day:%Y-%m-%d} 是工作日（周一至周五），不需要标为调休上班。"})
    before = CalendarDay.objects.select_for_update().filter(pk=day.pk).first() if day.pk else None
    day.save()
    audit_record(
        actor=actor,
        object_type=AUDIT_TYPE,
        object_id=day.day.year,
        region_code="",
        action="edit",
        from_state=_day_text(before),
        to_state=_day_text(day),
    )
    return day


@transaction.atomic
def calendar_day_delete(*, actor: Any, day: CalendarDay) -> None:
    text = _day_text(day)
    year = day.day.year
    day.delete()
    audit_record(actor=actor, object_type=AUDIT_TYPE, object_id=year, region_code="", action="delete", from_state=text)


# A sample of the 2026 and 2027 arrangements for the demo, marked ``sample``: pages say so.
SAMPLE_DAYS: dict[int, list[tuple[str, str, str]]] = {
    2026: [
        ("2026-01-01", "HOLIDAY", "元旦"),
        ("2026-01-02", "HOLIDAY", "元旦"),
        ("2026-01-04", "WORKDAY", "元旦调休上班"),
        *((f"2026-02-{d:02d}", "HOLIDAY", "春节") for d in range(16, 21)),
        ("2026-02-23", "HOLIDAY", "春节"),
        ("2026-02-14", "WORKDAY", "春节调休上班"),
        ("2026-02-28", "WORKDAY", "春节调休上班"),
        ("2026-04-06", "HOLIDAY", "清明节"),
        ("2026-05-01", "HOLIDAY", "劳动节"),
        ("2026-05-04", "HOLIDAY", "劳动节"),
        ("2026-05-05", "HOLIDAY", "劳动节"),
        ("2026-05-09", "WORKDAY", "劳动节调休上班"),
        ("2026-06-19", "HOLIDAY", "端午节"),
        ("2026-09-25", "HOLIDAY", "中秋节"),
        *((f"2026-10-{d:02d}", "HOLIDAY", "国庆节") for d in (1, 2, 5, 6, 7)),
        ("2026-09-20", "WORKDAY", "国庆节调休上班"),
        ("2026-10-10", "WORKDAY", "国庆节调休上班"),
    ],
    2027: [
        ("2027-01-01", "HOLIDAY", "元旦"),
        *((f"2027-02-{d:02d}", "HOLIDAY", "春节") for d in (5, 8, 9, 10, 11)),
        ("2027-02-20", "WORKDAY", "春节调休上班"),
        ("2027-04-05", "HOLIDAY", "清明节"),
        ("2027-05-03", "HOLIDAY", "劳动节"),
        ("2027-05-04", "HOLIDAY", "劳动节"),
        ("2027-05-05", "HOLIDAY", "劳动节"),
        ("2027-04-25", "WORKDAY", "劳动节调休上班"),
        ("2027-06-09", "HOLIDAY", "端午节"),
        ("2027-09-15", "HOLIDAY", "中秋节"),
        *((f"2027-10-{d:02d}", "HOLIDAY", "国庆节") for d in (1, 4, 5, 6, 7)),
        ("2027-09-26", "WORKDAY", "国庆节调休上班"),
        ("2027-10-09", "WORKDAY", "国庆节调休上班"),
    ],
}


@transaction.atomic
def calendar_sample_load() -> int:
    """The demo's sample years (``sample=True``), for years with no stored day; the number written."""
    written = 0
    for year, days in SAMPLE_DAYS.items():
        if CalendarDay.objects.filter(day__year=year).exists():
            continue
        CalendarDay.objects.bulk_create(
            [CalendarDay(day=dt.date.fromisoformat(d), kind=k, name=n, sample=True) for d, k, n in days]
        )
        written += len(days)
        audit_record(
            actor=None,
            object_type=AUDIT_TYPE,
            object_id=year,
            region_code="",
            action="sample",
            from_state="无",
            to_state=calendar_summary(year=year),
            reason="演示数据：示例节假日安排",
        )
    return written
