"""The one import loop for every kind (SPEC §6).

Pass 1 streams the sheet (openpyxl read-only), parses every cell by the kind's column spec, runs
the cross-row checks and collects *every* error; rows are spooled, a batch at a time, to a
temporary file so memory stays flat with the file size (only the keys are kept, for duplicate
detection).  Pass 2 runs only when there is no error: it reads the spool back and upserts batch by
batch inside one transaction.  ``dry_run`` does pass 2 without writing (it only counts what would
be created or updated).
"""

from __future__ import annotations

import gc
import pickle
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from typing import IO, Any

from django.db import DatabaseError, transaction
from django.utils import timezone

from monitoring.selectors.campaigns import open_campaigns_exist
from monitoring.services.campaigns import campaign_tasks_complete_by_import
from monitoring.services.imports.reader import SheetError, find_header, open_rows
from monitoring.services.imports.rows import ImportContext, Row, RowError
from monitoring.services.imports.spec import SPECS, CellError, Column, KindSpec, exact_cells, is_blank

BATCH_SIZE = 2000
PREVIEW_ROWS = 10
# rows that write nothing because the change they propose (a move, a death) waits for the county:
# counted apart from 未变化 (``extra``, shown as 待县级审核)
ROWS_PENDING_KEY = "rows_pending"

ProgressCallback = Callable[[int, str], None]  # (percent 0–100, phase)


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
        if self.extra.get(ROWS_PENDING_KEY):
            counts += f"，待县级审核 {self.extra[ROWS_PENDING_KEY]} 行"
        extra = ""
        if "unmatched" in self.extra:
            extra += f"；其中未匹配到家庭成员的预警 {self.extra['unmatched']} 条（已保留为未匹配）"
        if "roster_matched" in self.extra:
            found, unmatched = self.extra["roster_matched"], self.extra.get("roster_unmatched", 0)
            extra += f"；其中匹配到家庭成员 {found} 条、未匹配 {unmatched} 条（已保留，由县级核对）"
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
        if not for_department and self.extra.get("changes_pending"):
            verb = "将提交" if self.dry_run else "已提交"
            pending = self.extra["changes_pending"]
            extra += f"；分户、成员迁移、户类型变更、死亡或注销 {pending} 条{verb}县级审核（审核同意前不生效）"
        if not for_department and self.extra.get("changes_again"):
            again = self.extra["changes_again"]
            extra += f"；{again} 条变更与正在县级审核的变更相同，未重复提交"
        if self.dry_run:
            counts = counts.replace("新增", "将新增").replace("更新", "将更新")
            return f"{label}校验通过（试运行，未写入）：{counts}{extra}。"
        return f"{label}导入完成：{counts}{extra}。"


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
        with _objects_before_kept():
            return _run(spec, result, spool, source, user, dry_run, progress, estimated_rows, job_id)
    except SheetError as exc:
        result.errors = [RowError(0, "", "", exc.message)]
        result.error_count = 1
        return result
    finally:
        spool.close()


@contextmanager
def _objects_before_kept() -> Iterator[None]:
    """The objects that exist before the import are left out of the garbage collector's full
    passes while it runs (``gc.freeze``), and handed back after: a file's hundreds of thousands of
    rows allocate enough to start a full pass every few thousand rows, and each pass walked every
    object of the process (measured: 1.8 s of a 300 000-member re-import's 9.7 s).  Garbage
    already there is collected first, so nothing is kept that would have been freed.  A process
    that froze objects itself (e.g. before forking workers) is left as it is."""
    if gc.get_freeze_count():
        yield
        return
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


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
    """May the user import this kind; pass 1 (validate every row); pass 2 (write) if no error."""
    from monitoring.services.imports.kinds import HANDLERS

    ctx = ImportContext(spec=spec, user=user, present=set(), job_id=job_id)
    handler = HANDLERS[spec.kind](ctx)
    denied = handler.authorize()
    if denied:
        result.errors.append(RowError(0, "", "", denied))
        result.error_count = 1
        return result
    _Validation(handler, spool, result, progress).run(source, estimated_rows)
    result.extra = ctx.extra
    result.errors = sorted(ctx.errors, key=lambda e: (e.row, _column_order(spec, e.column)))
    result.error_count = ctx.error_count
    if result.ok:
        _write(handler, spool, result, dry_run=dry_run, progress=progress)
    return result


class _Validation:
    """Pass 1: parse every cell by the kind's column spec, run the row's own checks, find
    duplicate keys, and hand the clean rows to the kind's batch checks, spooling them (by
    write-order bucket) while no error was found.  Rows with a bad cell get their references
    checked too, so each row's errors are listed at once."""

    def __init__(self, handler: Any, spool: _Spool, result: ImportResult, progress: ProgressCallback | None) -> None:
        self.handler = handler
        self.ctx: ImportContext = handler.ctx
        self.spec: KindSpec = handler.ctx.spec
        self.spool = spool
        self.result = result
        self.progress = progress
        self.total = 1  # rows expected, for the progress figure
        self.batch: list[Row] = []
        # rows recognised as their stored record since the last flush: they count towards the
        # batch, so the batch checks run at the very rows they would without the recognition
        # (and the errors kept, at most MAX_ERRORS_KEPT, are the same)
        self.known_in_batch = 0
        self.partial: list[Row] = []  # rows with a bad cell: only their references are checked

    def run(self, source: str | IO[bytes], estimated_rows: int | None) -> None:
        with open_rows(source) as (rows, max_row):
            layout = find_header(rows, self.spec)  # SheetError is reported by the caller
            self.ctx.present = {c.field for c in self.spec.columns if c.header in layout.positions}
            self.total = max((estimated_rows or max_row or 0) - layout.header_row, 1)
            columns = [
                (c, layout.positions[c.header], exact_cells(c))
                for c in self.spec.columns
                if c.header in layout.positions
            ]
            unchanged = self.handler.unchanged(layout.positions)
            numbered = enumerate(rows, start=layout.header_row + 1)
            # a batch of raw rows at a time: those that are their stored record are not parsed
            while chunk := list(islice(numbered, BATCH_SIZE)):
                known = unchanged.rows(chunk) if unchanged is not None else {}
                for number, raw in chunk:
                    if number in known:
                        self._known(known[number])
                    else:
                        self._row(number, [(c, e, raw[i] if i < len(raw) else None) for c, i, e in columns])
                if known and self.progress:
                    self.progress(min(89, self.result.rows * 90 // self.total), "validating")
            if self.batch or self.partial:
                self._flush()
            self.handler.finish()

    def _known(self, row: Row) -> None:
        """A row recognised as its stored record: counted unchanged, never spooled or written, but
        seen by the checks across rows (one 户主 per household, duplicate keys) as any row is."""
        self.result.rows += 1
        if not self.handler.check_row(row):
            self.partial.append(row)
        elif self._first_of_its_key(row):
            self.ctx.unchanged += 1
            if len(self.ctx.unchanged_preview) < PREVIEW_ROWS:
                self.ctx.unchanged_preview.append(row)
            self.known_in_batch += 1
            if len(self.batch) + self.known_in_batch >= BATCH_SIZE:
                self._flush()

    def _row(self, number: int, cells: list[tuple[Column, dict[Any, Any], Any]]) -> None:
        """``cells``: (column, its ``exact_cells``, the raw cell) in the sheet's order."""
        if all(is_blank(v) for _c, _e, v in cells):
            return
        self.result.rows += 1
        values = self._parse(number, cells)
        if values is None:
            return
        for column in self.spec.columns:
            values.setdefault(column.field, None if column.choices is None else "")
        row = Row(number, values)
        if not self.handler.check_row(row):
            self.partial.append(row)
        elif self._first_of_its_key(row):
            self.batch.append(row)
            if len(self.batch) + self.known_in_batch >= BATCH_SIZE:
                self._flush()

    def _parse(self, number: int, cells: list[tuple[Column, dict[Any, Any], Any]]) -> dict[str, Any] | None:
        """The parsed values; None (and the row kept for its references) when a cell is bad."""
        values: dict[str, Any] = {}
        bad = False
        for column, exact, value in cells:
            # a label, 是/否 or an allowed empty cell as listed: looked up (the keys are text or
            # None; a number or date cell is never one of them and goes to the parser)
            if exact and (value is None or type(value) is str) and value in exact:
                values[column.field] = exact[value]
                continue
            try:
                values[column.field] = column.parse(value)
            except CellError as exc:
                self.ctx.error(number, column.header, _raw_text(value), exc.message)
                bad = True
        if bad:
            self.partial.append(Row(number, values))
            return None
        return values

    def _first_of_its_key(self, row: Row) -> bool:
        """The row's key is new in the file (else the duplicate is an error)."""
        spec, values = self.spec, row.values
        key = tuple(map(values.__getitem__, spec.key))  # no generator per row (300 000 in a roster)
        first = self.ctx.keys.get(key)
        if first is None:
            self.ctx.keys[key] = row.number
            return True
        shown = [str(spec.column(f).label_of(values[f])) for f in spec.key if values[f] not in ("", None)]
        self.ctx.error(row.number, spec.key_label, "+".join(shown), f"与第 {first} 行重复（{spec.key_label}相同）。")
        return False

    def _flush(self) -> None:
        self.known_in_batch = 0
        self.handler.check_batch(self.batch)
        self.handler.check_references(self.partial)
        self.partial.clear()
        if self.ctx.error_count == 0:
            buckets: dict[int, list[Row]] = {}
            for row in self.batch:
                buckets.setdefault(self.handler.bucket(row), []).append(row)
            for bucket, rows_in_bucket in buckets.items():
                self.spool.add(bucket, rows_in_bucket)
        self.batch.clear()
        if self.progress:
            self.progress(min(89, self.result.rows * 90 // self.total), "validating")


def _write(
    handler: Any, spool: _Spool, result: ImportResult, *, dry_run: bool, progress: ProgressCallback | None
) -> None:
    """Pass 2: every spooled batch through the kind's upsert, in one transaction (a dry run only
    counts); a database error undoes all of it."""
    ctx = handler.ctx
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
        # a refusal a user can act on names its row (``row_error``: a person stored meanwhile)
        result.errors = [
            getattr(exc, "row_error", None)
            or RowError(0, "", "", f"写入数据库失败，已全部撤销，未写入任何数据（{exc.__class__.__name__}）。")
        ]
        result.error_count = 1
        result.created = result.updated = result.unchanged = 0
        return
    result.extra = ctx.extra
    if progress:
        progress(100, "done")


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
    preview: list[tuple[int, dict[str, Any]]] = [
        (row.number, _preview_row(spec, row, "same")) for row in handler.ctx.unchanged_preview
    ]
    result.unchanged += handler.ctx.unchanged
    pending = 0
    # households whose rows were written complete their open 回头看/信息采集 tasks (when any is open)
    collect, changed_ids, changed_nos = not dry_run and open_campaigns_exist(), set[int](), set[str]()
    for batch in spool.batches():
        actions = handler.write_batch(batch, dry_run=dry_run)
        for row, action in zip(batch, actions, strict=True):
            if action == "create":
                result.created += 1
            elif action == "update":
                result.updated += 1
            elif action == "pending":  # nothing written: the row's change waits for the county
                pending += 1
            else:
                result.unchanged += 1
            if action not in ("same", "pending"):
                result.counties.update(village[:6] + "000000" for village in handler.touched_villages(row))
                if collect:
                    changed_ids.add(row.refs.get("household_id") or 0)
                    changed_nos.add(row.values.get("household_no") or "")
            if len(preview) < PREVIEW_ROWS or row.number < preview[-1][0]:
                preview.append((row.number, _preview_row(spec, row, action)))
                preview.sort(key=lambda p: p[0])
                del preview[PREVIEW_ROWS:]
        if progress:
            done = result.created + result.updated + result.unchanged + pending
            progress(min(99, 90 + done * 10 // max(valid_rows, 1)), "writing")
    result.preview = [p[1] for p in preview]
    if pending:
        handler.ctx.extra[ROWS_PENDING_KEY] = pending
    if collect:
        campaign_tasks_complete_by_import(
            kind=spec.kind,
            household_ids=changed_ids - {0},
            household_nos=changed_nos - {""},
            actor=handler.ctx.user,
            on=timezone.localdate(),
        )


def _preview_row(spec: KindSpec, row: Row, action: str) -> dict[str, Any]:
    display: dict[str, Any] = {c.header: _display(c.label_of(row.values.get(c.field))) for c in spec.columns}
    display["_action"] = {"create": "新增", "update": "更新", "pending": "待审核"}.get(action, "不变")
    display["_row"] = row.number
    return display


def _display(value: Any) -> str:
    if value is None:
        return ""
    return str(value)
