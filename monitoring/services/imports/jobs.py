"""ImportJob services: record every import, preview (dry run), confirm, run (Celery task body)."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.db.models import Max, Q
from django.utils import timezone

from fanpin.core.audit import access_log_record
from fanpin.core.db import tables_analyze
from fanpin.core.idcard import id_number_mask
from fanpin.core.models import AccessLog, AuditEntry
from fanpin.core.roles import Permission, Role, effective_role, role_can
from fanpin.core.scoping import code_prefix, sees_everything
from monitoring.models import (
    AnnualIncome,
    AssistanceEntry,
    DepartmentAlert,
    Household,
    HouseholdChange,
    ImportJob,
    ImportJobAlert,
    ImportKind,
    ImportStatus,
    Lead,
    MedicalSettlement,
    Member,
    Region,
    RigidExpenditure,
)
from monitoring.selectors.imports import import_kinds_for
from monitoring.services.imports.pipeline import ImportResult, import_run
from monitoring.services.imports.reader import SheetError, archive_check
from monitoring.services.imports.spec import SPECS
from monitoring.services.imports.workbooks import annotated_copy_write

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
ERRORS_STORED = 2000  # errors kept on the job row (the annotated sheet and the page use these)


def _check_may_import(user: Any, kind: str) -> None:
    """Which kinds a role may import: ``import_kinds_for`` (department users: their alerts only)."""
    role = effective_role(user)
    if not role_can(role, Permission.UPLOAD_SHEETS):
        raise PermissionDenied("您的角色无权导入数据。")
    # Registry importers: the kind's handler says what it refuses (e.g. regions: administrators only).
    if not role_can(role, Permission.IMPORT_DATA) and kind not in dict(import_kinds_for(user=user)):
        raise PermissionDenied(f"您的角色不能导入{SPECS[kind].label}。")


def _for_department(user: Any) -> bool:
    """A department user's own upload: its pages show match status only, never household data."""
    return user is not None and not sees_everything(user) and getattr(user, "role", None) == Role.DEPT


def _store_result(job: ImportJob, result: ImportResult) -> list[str]:
    job.total_rows = result.rows
    job.created_count = result.created
    job.updated_count = result.updated
    job.unchanged_count = result.unchanged
    job.error_count = result.error_count
    job.errors = [e.as_dict() for e in result.errors[:ERRORS_STORED]]
    job.extra = dict(result.extra)
    job.message = result.summary(for_department=_for_department(job.created_by))
    return [
        "total_rows",
        "created_count",
        "updated_count",
        "unchanged_count",
        "error_count",
        "errors",
        "extra",
        "message",
    ]


def _preview(result: ImportResult) -> dict[str, Any]:
    """The first rows as shown on the confirmation page (身份证号 masked: the row is stored)."""
    headers = result.preview_headers
    rows = []
    for row in result.preview:
        cells = [id_number_mask(row[h]) if h == "身份证号" and row[h] else row[h] for h in headers]
        rows.append({"row": row["_row"], "action": row["_action"], "cells": cells})
    return {"headers": headers, "rows": rows}


def import_job_create(*, user: Any, kind: str, upload: UploadedFile) -> ImportJob:
    """Store an uploaded file as a new job (status 已上传) and hand its check (``import_job_preview_run``,
    the dry run) to Celery once this commits; without a broker it runs in-process at the commit.
    The request only stores the file: a sheet of a million rows takes minutes to check, which must
    not hold a web worker.  What can be refused at once (type, size, an archive that is no .xlsx or a
    zip bomb, judged from its directory) is refused here, next to the file field."""
    from monitoring.tasks import import_job_preview_task

    if kind not in SPECS:
        raise ValidationError("请选择要导入的数据类型。")
    _check_may_import(user, kind)
    name = Path(upload.name or "").name
    if not name.lower().endswith(".xlsx"):
        raise ValidationError("只能上传 .xlsx 格式的 Excel 文件（.xls 请先另存为 .xlsx）。")
    if upload.size and upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError(f"文件过大（超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB），请分批导入。")
    try:
        if upload.file is not None:
            archive_check(upload.file)
    except SheetError as exc:
        raise ValidationError(exc.message) from None
    job = ImportJob(
        kind=kind,
        file_name=name[:255],
        created_by=user,
        region_code="" if effective_role(user) == "ADMIN" else str(user.region_id or ""),
    )
    with transaction.atomic():
        job.file.save(name, upload, save=False)
        job.save()
        import_job_preview_task.delay_on_commit(job.pk)
    return job


def _preview_result(job: ImportJob, progress: _ProgressReporter | None = None) -> list[str]:
    """Run the dry run of ``job``'s file and set its outcome on ``job``; returns the fields set."""
    with job.file.open("rb") as handle:
        result = import_run(kind=job.kind, source=handle, user=job.created_by, dry_run=True, progress=progress)
    fields = _store_result(job, result)
    job.preview = _preview(result)
    job.status = ImportStatus.VALIDATED if result.ok else ImportStatus.INVALID
    return [*fields, "preview", "status"]


def import_job_preview(*, job: ImportJob) -> ImportJob:
    """Validate the upload and count what would change (dry run), at once; status 校验通过 or
    校验未通过.  Pages go through ``import_job_preview_run`` (the task)."""
    job.save(update_fields=_preview_result(job))
    return job


PREVIEW_STALE_AFTER = dt.timedelta(hours=1)  # a 校验中 job this old lost its worker: check it again


def import_job_preview_run(*, job_id: int) -> ImportJob:
    """Check an uploaded job (the Celery task body): 已上传 → 校验中 → 校验通过/校验未通过, with the
    progress on the row for the job page.  Idempotent: only a job waiting for its check (or one
    whose worker died while checking) is claimed, by one conditional update that two deliveries
    cannot both win; the outcome is written only while the job is still 校验中."""
    now = timezone.now()
    waiting = Q(status=ImportStatus.UPLOADED) | Q(
        status=ImportStatus.PREVIEWING, started_at__lt=now - PREVIEW_STALE_AFTER
    )
    claimed = ImportJob.objects.filter(waiting, pk=job_id).update(
        status=ImportStatus.PREVIEWING, started_at=now, progress=0
    )
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if not claimed:
        return job
    checking = ImportJob.objects.filter(pk=job_id, status=ImportStatus.PREVIEWING, started_at=now)
    reporter = _ProgressReporter(job.pk)
    try:
        fields = _preview_result(job, reporter)
    except Exception:
        logger.exception("import job %s: check failed", job_id)
        checking.update(
            status=ImportStatus.FAILED,
            message="校验文件时发生系统错误，未写入任何数据。请重新上传；仍不成功请联系系统管理员。",
            finished_at=timezone.now(),
        )
        job.refresh_from_db()
        return job
    finally:
        reporter.close()
    job.progress = 100
    checking.update(**{field: getattr(job, field) for field in [*fields, "progress"]})
    job.refresh_from_db()
    return job


def import_job_confirm(*, job_id: int, user: Any) -> ImportJob:
    """Queue a validated job; the task starts after the commit (``delay_on_commit``)."""
    from monitoring.tasks import import_job_task

    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        _check_may_import(user, job.kind)
        if job.status != ImportStatus.VALIDATED:
            raise ValidationError("该导入不处于“校验通过，待确认”状态，不能再次确认。")
        if job.created_by_id != user.pk:
            raise PermissionDenied("只能确认自己上传的导入。")
        if not job.file:
            raise ValidationError("上传的文件已过保存期限并已删除，请重新上传。")
        job.status = ImportStatus.QUEUED
        job.progress = 0
        job.save(update_fields=["status", "progress"])
        import_job_task.delay_on_commit(job.pk)
    return job


class _ProgressReporter:
    """Writes a job's progress where pollers can see it.

    Outside a transaction (validation) through the ORM.  While the rows are written inside the
    import's transaction, an update on the same connection would stay invisible until the commit;
    on PostgreSQL it goes through a second, autocommitting connection instead.  SQLite allows one
    writer at a time, so there the bar moves at the commit.
    """

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.side: Any = None

    def __call__(self, percent: int, phase: str) -> None:
        if not connection.in_atomic_block:
            ImportJob.objects.filter(pk=self.job_id).update(progress=percent)
            return
        if connection.vendor != "postgresql":
            return
        try:
            if self.side is None:
                self.side = connections.create_connection(DEFAULT_DB_ALIAS)
            with self.side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {ImportJob._meta.db_table} SET progress = %s WHERE id = %s",  # noqa: S608  # nosec B608
                    [percent, self.job_id],
                )
        except DatabaseError:
            logger.warning("import job %s: progress not written", self.job_id, exc_info=True)

    def close(self) -> None:
        if self.side is not None:
            self.side.close()
            self.side = None


# The tables an import of each kind writes: alerts and 医保 extracts also record rigid expenditures
# and raise or merge leads (with their audit rows).
WRITTEN_MODELS: dict[str, tuple[type[Any], ...]] = {
    ImportKind.REGIONS: (Region,),
    ImportKind.HOUSEHOLDS: (Household, HouseholdChange, AuditEntry),  # 户类型 changes wait
    ImportKind.MEMBERS: (Member, HouseholdChange, AuditEntry),  # moves, deaths and removals wait
    ImportKind.INCOMES: (AnnualIncome,),
    ImportKind.EXPENDITURES: (RigidExpenditure,),
    ImportKind.ALERTS: (DepartmentAlert, ImportJobAlert, RigidExpenditure, Lead, AuditEntry),
    ImportKind.MEDICAL: (MedicalSettlement, DepartmentAlert, ImportJobAlert, RigidExpenditure, Lead, AuditEntry),
    ImportKind.ASSISTANCE_ROSTER: (AssistanceEntry, AuditEntry),
}


def _written_tables_analyze(kind: str, result: ImportResult) -> None:
    """Planner statistics for what a committed import wrote, before the job says 导入完成 and before
    the screening it triggers reads the rows (``fanpin.core.db``: a large import leaves the tables
    without statistics until autoanalyze comes, and the plans made meanwhile are very slow)."""
    if result.ok and not result.dry_run and (result.created or result.updated):
        tables_analyze(models=WRITTEN_MODELS.get(kind, ()))


def import_job_run(*, job_id: int) -> ImportJob:
    """Run a queued job (the Celery task body).  Idempotent: a job not 排队中 is left alone."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.status != ImportStatus.QUEUED:
            return job
        job.status = ImportStatus.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["status", "started_at"])

    reporter = _ProgressReporter(job.pk)
    try:
        with job.file.open("rb") as handle:
            result = import_run(
                kind=job.kind,
                source=handle,
                user=job.created_by,
                dry_run=False,
                progress=reporter,
                estimated_rows=job.total_rows + 1 if job.total_rows else None,
                job_id=job.pk,
            )
    except Exception:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED,
            message="导入时发生系统错误，未写入任何数据，请联系管理员。",
            finished_at=timezone.now(),
        )
        raise
    finally:
        reporter.close()
    _written_tables_analyze(job.kind, result)
    fields = _store_result(job, result)
    job.status = ImportStatus.SUCCEEDED if result.ok else ImportStatus.FAILED
    job.progress = 100 if result.ok else job.progress
    job.finished_at = timezone.now()
    job.save(update_fields=[*fields, "status", "progress", "finished_at"])
    if result.ok:
        import_screening_schedule(job=job, counties=result.counties)
    return job


# Imports that change what screening reads; a successful one is followed by a screening run.
SCREENED_KINDS = frozenset(
    {
        ImportKind.HOUSEHOLDS,
        ImportKind.MEMBERS,
        ImportKind.INCOMES,
        ImportKind.EXPENDITURES,
        ImportKind.ALERTS,
        ImportKind.MEDICAL,
    }
)


def import_screening_schedule(*, job: ImportJob, counties: set[str]) -> None:
    """SPEC §4: screening runs after every import, of the counties whose households the import
    changed (rows written unchanged, e.g. a file imported twice, screen nothing); the year is the
    latest income year in the importer's region.  Enqueued after commit (in-process when no broker
    is configured)."""
    if job.dry_run or job.kind not in SCREENED_KINDS or not counties:
        return
    from monitoring.models import AnnualIncome
    from monitoring.tasks import screening_after_import_task

    prefix = code_prefix(job.region_code) if job.region_code else ""
    incomes = AnnualIncome.objects.within(prefix) if prefix else AnnualIncome.objects.all()
    year = incomes.aggregate(latest=Max("year"))["latest"]
    if year:
        screening_after_import_task.delay_on_commit(sorted(counties), year)


def import_file(
    *, kind: str, source: str | IO[bytes], file_name: str, user: Any | None, dry_run: bool
) -> tuple[ImportJob, ImportResult]:
    """An import from a management command: runs at once and is recorded as a job.

    ``user`` None is an administrator-level actor without scope limit.
    """
    if kind not in ImportKind.values:
        raise ValidationError(f"未知的数据类型 {kind}。")
    if user is not None:
        _check_may_import(user, kind)
    job = ImportJob.objects.create(
        kind=kind,
        file_name=file_name[:255],
        created_by=user,
        region_code="" if user is None or effective_role(user) == "ADMIN" else str(user.region_id or ""),
        dry_run=dry_run,
        status=ImportStatus.RUNNING,
        started_at=timezone.now(),
    )
    result = import_run(kind=kind, source=source, user=user, dry_run=dry_run, job_id=job.pk)
    _written_tables_analyze(kind, result)
    fields = _store_result(job, result)
    if not result.ok:
        job.status = ImportStatus.INVALID
    else:
        job.status = ImportStatus.VALIDATED if dry_run else ImportStatus.SUCCEEDED
    job.progress = 100
    job.finished_at = timezone.now()
    job.save(update_fields=[*fields, "status", "progress", "finished_at"])
    if result.ok:
        import_screening_schedule(job=job, counties=result.counties)
    return job, result


PURGE_BATCH = 500


def import_job_annotated_export(*, user: Any, job: ImportJob, out: IO[bytes], ip_address: str | None) -> None:
    """The uploaded file with its errors marked (``annotated_copy_write``), for a user who sees the
    job: the whole sheet as uploaded, 身份证号 and phones in full, so every download is written to
    the access log (SPEC §1: every export with full numbers), whoever uploaded it."""
    if not job.errors or not job.file:
        raise ValidationError("该导入没有错误说明。")
    with job.file.open("rb") as source:
        annotated_copy_write(kind=job.kind, source=source, errors=job.errors, out=out)
    access_log_record(
        actor=user,
        action=AccessLog.Action.EXPORT,
        what=f"导入文件（标出错误）：{job.file_name}",
        object_id=job.pk,
        region_code=job.region_code or str(getattr(user, "region_id", "") or ""),
        rows=job.total_rows,
        ip_address=ip_address,
    )


def import_files_purge(*, older_than_days: int | None = None, now: Any = None) -> int:
    """Delete the uploaded files of import jobs that ended (or were left unconfirmed) more than
    ``older_than_days`` days ago (default ``IMPORT_FILE_RETENTION_DAYS``).  The job rows keep their
    counts, messages and masked error lists; only the sheet with its personal data goes, so the
    annotated copy can no longer be downloaded.  Idempotent; returns how many files were deleted.
    A file is removed from storage before its row forgets it: a crash in between leaves a row
    pointing at a missing file, which the next purge clears, never an orphan file."""
    from django.conf import settings
    from django.db.models import Q

    days = settings.IMPORT_FILE_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    # ended, or never ended (left unconfirmed, or its worker died while queued or running)
    ended = Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff)
    deleted = 0
    while True:
        batch = list(ImportJob.objects.filter(ended).exclude(file="").order_by("pk")[:PURGE_BATCH])
        if not batch:
            return deleted
        for job in batch:
            job.file.delete(save=False)  # no error if the file is already gone
            job.file = ""
            job.save(update_fields=["file"])
            deleted += 1
