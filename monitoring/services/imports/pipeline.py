"""The one import loop for every kind (SPEC §6).

Pass 1 streams the sheet (openpyxl read-only), parses every cell by the kind's column spec, runs
the cross-row checks and collects *every* error; rows are spooled, a batch at a time, to a
temporary file so memory stays flat with the file size (only the keys are kept, for duplicate
detection).  Pass 2 runs only when there is no error: it reads the spool back and upserts batch by
batch inside one transaction.  ``dry_run`` does pass 2 without writing (it only counts what would
be created or updated).
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.db import DatabaseError, transaction

from fanpin.core.idcard import personal_text_mask
from fanpin.core.roles import Department, Role
from fanpin.core.scoping import sees_everything, user_region_prefix
from monitoring.services.imports.reader import SheetError, find_header, open_rows
from monitoring.services.imports.spec import SPECS, CellError, KindSpec, is_blank

BATCH_SIZE = 2000
MAX_ERRORS_KEPT = 5000
PREVIEW_ROWS = 10

ProgressCallback = Callable[[int, str], None]  # (percent 0–100, phase)


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


@dataclass
class ImportResult:
    kind: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    extra: dict[str, int] = field(default_factory=dict)
    preview: list[dict[str, Any]] = field(default_factory=list)
    preview_headers: list[str] = field(default_factory=list)
    # 12-digit codes of the counties whose households a written (created/updated) row changed
    counties: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def summary(self, *, for_department: bool = False) -> str:
        """The one-line result.  ``for_department``: for a department user's own upload, only the
        match status — nothing about households (leads, expenditures, who is a 脱贫户)."""
        label = SPECS[self.kind].label
        if not self.ok:
            return f"{label}导入失败：共 {self.error_count} 处错误，未写入任何数据。"
        counts = f"共 {self.rows} 行，新增 {self.created} 行，更新 {self.updated} 行，未变化 {self.unchanged} 行"
        extra = ""
        if "unmatched" in self.extra:
            extra += f"；其中未匹配到家庭成员的预警 {self.extra['unmatched']} 条（已保留为未匹配）"
        if "settlements_matched" in self.extra:
            matched = self.extra["settlements_matched"]
            extra += f"；其中匹配到家庭成员 {matched} 条、未匹配 {self.rows - matched} 条"
            if not for_department:
                extra += (
                    f"；达到大额医疗支出预警线 {self.extra.get('settlements_alerted', 0)} 条"
                    f"（其中首次提交的预警 {self.extra.get('alerts_new', 0)} 条）"
                )
        if not for_department and (self.extra.get("leads_raised") or self.extra.get("leads_merged")):
            raised, merged = self.extra.get("leads_raised", 0), self.extra.get("leads_merged", 0)
            extra += f"；新增预警线索 {raised} 条、并入已有线索 {merged} 条"
        if not for_department and self.extra.get("expenditures_created"):
            extra += f"；新增刚性支出 {self.extra['expenditures_created']} 条"
        if not for_department and self.extra.get("expenditures_corrected"):
            extra += f"；按更正后的预警修改刚性支出 {self.extra['expenditures_corrected']} 条"
        if not for_department and self.extra.get("expenditures_removed"):
            extra += f"；删除不再成立的预警刚性支出 {self.extra['expenditures_removed']} 条"
        if self.dry_run:
            counts = counts.replace("新增", "将新增").replace("更新", "将更新")
            return f"{label}校验通过（试运行，未写入）：{counts}{extra}。"
        return f"{label}导入完成：{counts}{extra}。"


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
        self.importer_region = "" if self.is_admin or user is None else str(user.region_id or "")
        # A department user's own department (label): what it submits is always recorded under it.
        self.department = ""
        department = str(getattr(user, "department", "") or "")
        if not self.is_admin and getattr(user, "role", None) == Role.DEPT and department:
            self.department = str(Department(department).label)
        self.present = present  # fields whose column is in the sheet
        self.errors: list[RowError] = []
        self.error_count = 0
        self.keys: dict[tuple[Any, ...], int] = {}  # key → first row number
        self.cache: dict[str, dict[Any, Any]] = {}
        self.extra: dict[str, int] = {}

    def error(self, row: int, header: str, value: Any, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            # Kept in the job row and shown on its page: no full 身份证号 or phone number.
            text = personal_text_mask(header=header, text="" if value is None else str(value).strip())
            self.errors.append(RowError(row, header, text[:100], personal_text_mask(header="", text=message)))

    def in_scope(self, code: str) -> bool:
        return self.prefix is not None and code.startswith(self.prefix)


class _Spool:
    """Batches of clean rows pickled to temporary files, one file per write-order bucket."""

    def __init__(self) -> None:
        self.files: dict[int, IO[bytes]] = {}

    def add(self, bucket: int, rows: list[Row]) -> None:
        if bucket not in self.files:
            self.files[bucket] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        pickle.dump(rows, self.files[bucket], protocol=pickle.HIGHEST_PROTOCOL)

    def batches(self) -> Iterator[list[Row]]:
        for bucket in sorted(self.files):
            spool = self.files[bucket]
            spool.seek(0)
            while True:
                try:
                    yield pickle.load(spool)  # noqa: S301  # nosec B301 (our own temporary file)
                except EOFError:
                    break

    def close(self) -> None:
        for spool in self.files.values():
            spool.close()


def _raw_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return format(Decimal(repr(value)), "f")  # what Excel shows (15 significant digits)
    return str(value)


def import_run(
    *,
    kind: str,
    source: str | IO[bytes],
    user: Any | None,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    estimated_rows: int | None = None,
    job_id: int | None = None,
) -> ImportResult:
    """Validate the whole sheet, then (unless ``dry_run``) upsert it in one transaction.

    ``user`` None means an administrator-level actor (management command without ``--user``).
    Any error means nothing is written; the result lists every error.  ``job_id``: the ImportJob
    this run belongs to (alert kinds record which alerts the upload submitted).
    """
    spec = SPECS[kind]
    result = ImportResult(kind=kind, dry_run=dry_run, preview_headers=spec.headers)
    spool = _Spool()
    try:
        return _run(spec, result, spool, source, user, dry_run, progress, estimated_rows, job_id)
    except SheetError as exc:
        result.errors = [RowError(0, "", "", exc.message)]
        result.error_count = 1
        return result
    finally:
        spool.close()


def _run(
    spec: KindSpec,
    result: ImportResult,
    spool: _Spool,
    source: str | IO[bytes],
    user: Any | None,
    dry_run: bool,
    progress: ProgressCallback | None,
    estimated_rows: int | None,
    job_id: int | None,
) -> ImportResult:
    from monitoring.services.imports.kinds import HANDLERS

    ctx = ImportContext(spec=spec, user=user, present=set(), job_id=job_id)
    handler = HANDLERS[spec.kind](ctx)
    denied = handler.authorize()
    if denied:
        result.errors.append(RowError(0, "", "", denied))
        result.error_count = 1
        return result
    with open_rows(source) as (rows, max_row):
        layout = find_header(rows, spec)  # SheetError is reported by the caller
        ctx.present = {c.field for c in spec.columns if c.header in layout.positions}
        total = max((estimated_rows or max_row or 0) - layout.header_row, 1)
        columns = [(c, layout.positions[c.header]) for c in spec.columns if c.header in layout.positions]
        key_fields = spec.key
        batch: list[Row] = []
        partial: list[Row] = []  # rows with a bad cell: only their references are checked

        def flush() -> None:
            handler.check_batch(batch)
            handler.check_references(partial)
            partial.clear()
            if ctx.error_count == 0:
                buckets: dict[int, list[Row]] = {}
                for row in batch:
                    buckets.setdefault(handler.bucket(row), []).append(row)
                for bucket, rows_in_bucket in buckets.items():
                    spool.add(bucket, rows_in_bucket)
            batch.clear()
            if progress:
                progress(min(89, result.rows * 90 // total), "validating")

        for number, raw in enumerate(rows, start=layout.header_row + 1):
            cells = [(c, raw[i] if i < len(raw) else None) for c, i in columns]
            if all(is_blank(v) for _c, v in cells):
                continue
            result.rows += 1
            values: dict[str, Any] = {}
            bad = False
            for column, value in cells:
                try:
                    values[column.field] = column.parse(value)
                except CellError as exc:
                    ctx.error(number, column.header, _raw_text(value), exc.message)
                    bad = True
            if bad:
                partial.append(Row(number, values))
                continue
            for column in spec.columns:
                values.setdefault(column.field, None if column.choices is None else "")
            row = Row(number, values)
            if not handler.check_row(row):
                partial.append(row)
                continue
            key = tuple(values[f] for f in key_fields)
            first = ctx.keys.get(key)
            if first is not None:
                ctx.error(
                    number,
                    spec.key_label,
                    "+".join(
                        str(spec.column(f).label_of(values[f])) for f in key_fields if values[f] not in ("", None)
                    ),
                    f"与第 {first} 行重复（{spec.key_label}相同）。",
                )
                continue
            ctx.keys[key] = number
            batch.append(row)
            if len(batch) >= BATCH_SIZE:
                flush()
        if batch or partial:
            flush()
        handler.finish()

    result.extra = ctx.extra
    result.errors = sorted(ctx.errors, key=lambda e: (e.row, _column_order(spec, e.column)))
    result.error_count = ctx.error_count
    if not result.ok:
        return result
    if progress:
        progress(90, "writing")
    valid_rows = len(ctx.keys)
    ctx.keys.clear()
    try:
        if dry_run:
            _write_all(handler, spool, result, dry_run=True, progress=None)
        else:
            with transaction.atomic():
                _write_all(handler, spool, result, dry_run=False, progress=progress, valid_rows=valid_rows)
    except DatabaseError as exc:
        result.errors = [
            RowError(0, "", "", f"写入数据库失败，已全部撤销，未写入任何数据（{exc.__class__.__name__}）。")
        ]
        result.error_count = 1
        result.created = result.updated = result.unchanged = 0
        return result
    result.extra = ctx.extra
    if progress:
        progress(100, "done")
    return result


def _column_order(spec: KindSpec, header: str) -> int:
    headers = spec.headers
    return headers.index(header) if header in headers else len(headers)


def _write_all(
    handler: Any,
    spool: _Spool,
    result: ImportResult,
    *,
    dry_run: bool,
    progress: ProgressCallback | None,
    valid_rows: int = 1,
) -> None:
    spec = handler.ctx.spec
    preview: list[tuple[int, dict[str, Any]]] = []
    for batch in spool.batches():
        actions = handler.write_batch(batch, dry_run=dry_run)
        for row, action in zip(batch, actions, strict=True):
            if action == "create":
                result.created += 1
            elif action == "update":
                result.updated += 1
            else:
                result.unchanged += 1
            if action != "same":
                result.counties.update(village[:6] + "000000" for village in handler.touched_villages(row))
            if len(preview) < PREVIEW_ROWS or row.number < preview[-1][0]:
                display: dict[str, Any] = {
                    c.header: _display(c.label_of(row.values.get(c.field))) for c in spec.columns
                }
                display["_action"] = {"create": "新增", "update": "更新"}.get(action, "不变")
                display["_row"] = row.number
                preview.append((row.number, display))
                preview.sort(key=lambda p: p[0])
                del preview[PREVIEW_ROWS:]
        if progress:
            done = result.created + result.updated + result.unchanged
            progress(min(99, 90 + done * 10 // max(valid_rows, 1)), "writing")
    result.preview = [p[1] for p in preview]


def _display(value: Any) -> str:
    if value is None:
        return ""
    return str(value)
