"""Export jobs: a large browser export is a row that holds its progress and outcome; the Celery task
only executes it (``export_job_run``), and the file waits on the job's page for its owner.

The export itself is the same service the direct download and ``export_xlsx`` use (so columns,
masking and the audit/access-log row are the same); it runs with the job owner's scope.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import tempfile
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from fanpin.core.audit import access_log_record
from fanpin.core.masking import personal_text_mask
from fanpin.core.models import AccessLog
from fanpin.core.roles import Permission, effective_role, role_can
from fanpin.core.terms import termed
from monitoring.models import ExportJob, ExportKind, ExportStatus
from monitoring.selectors.exports import export_job_get, export_row_count
from monitoring.selectors.leads import QueueFilters

logger = logging.getLogger(__name__)


def export_filters_json(filters: Any) -> dict[str, Any]:
    """The filters as stored on the job (a ``QueueFilters`` for leads, plain dicts otherwise)."""
    if dataclasses.is_dataclass(filters) and not isinstance(filters, type):
        return dataclasses.asdict(filters)
    return {k: v for k, v in dict(filters or {}).items() if v not in (None, "")}


def export_job_start(*, user: Any, kind: str, filters: Any, expected_rows: int | None = None) -> ExportJob:
    """Record an export of ``kind`` for ``user`` and hand it to Celery once this commits (in-process
    without a broker).  The filters are those of the list page the user is on; ``expected_rows``
    when the caller counted them already."""
    from monitoring.tasks import export_job_task

    if kind not in ExportKind.values:
        raise ValidationError(f"未知的导出内容 {kind}。")
    if not role_can(effective_role(user), Permission.EXPORT_DATA):
        raise PermissionDenied("您的角色不能导出数据。")
    stored = export_filters_json(filters)
    with transaction.atomic():
        job = ExportJob.objects.create(
            kind=kind,
            filters=stored,
            created_by=user,
            region_code=getattr(user, "region_id", None) or "",
            expected_rows=(
                export_row_count(user=user, kind=kind, filters=stored) if expected_rows is None else expected_rows
            ),
        )
        export_job_task.delay_on_commit(job.pk)
    return job


def _write(job: ExportJob, path: str) -> int:
    from monitoring.services.exports import households_export
    from monitoring.services.exports_leads import leads_export, targets_export

    user, f = job.created_by, dict(job.filters)
    if job.kind == ExportKind.HOUSEHOLDS:
        return households_export(user=user, out=path, **f)
    if job.kind == ExportKind.LEADS:
        return leads_export(user=user, output=path, filters=QueueFilters(**f))
    return targets_export(user=user, output=path, filters=f)


STALE_AFTER = dt.timedelta(hours=2)  # a RUNNING job this old lost its worker: run it again


def _file_name(job: ExportJob) -> str:
    """One fixed storage name per job, so a second run replaces the first one's file."""
    return f"exports/{job.pk}.xlsx"


def export_download_name(job: ExportJob) -> tuple[str, str]:
    """The Chinese download name with the export's date (``预警线索-2026-12-03.xlsx``) and its
    ASCII fallback (``leads-2026-12-03.xlsx``)."""
    stamp = f"{timezone.localtime(job.finished_at or job.created_at):%Y-%m-%d}"
    return f"{termed(ExportKind(job.kind).label)}-{stamp}.xlsx", f"{job.kind}-{stamp}.xlsx"


def _claim(job_id: int) -> bool:
    """Take the job for this worker: queued, or running so long that its worker must have died.
    Two deliveries of the task cannot both win the conditional update."""
    now = timezone.now()
    queued = Q(status=ExportStatus.QUEUED) | Q(status=ExportStatus.RUNNING, started_at__lt=now - STALE_AFTER)
    return bool(ExportJob.objects.filter(queued, pk=job_id).update(status=ExportStatus.RUNNING, started_at=now))


def export_job_run(*, job_id: int) -> ExportJob:
    """Execute a queued export.  Idempotent: a finished job, or one another worker is running, is
    left alone; the file has one name per job, so a rerun replaces it instead of leaving an orphan.
    Once done, a searched 身份证号 is masked in the stored filters (the file has what it needs)."""
    job = ExportJob.objects.select_related("created_by").get(pk=job_id)
    if job.is_finished or not _claim(job_id):
        return job
    name = _file_name(job)
    try:
        with tempfile.NamedTemporaryFile(suffix=".xlsx") as tmp:
            count = _write(job, tmp.name)
            default_storage.delete(name)
            with open(tmp.name, "rb") as fh:
                saved = default_storage.save(name, File(fh))
    except Exception:
        logger.exception("export job %s failed", job_id)
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportStatus.FAILED,
            finished_at=timezone.now(),
            message="导出时发生系统错误，没有生成文件。请稍后重试；仍不成功请联系系统管理员。",
            filters=_masked(job.filters),
        )
    else:
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportStatus.SUCCEEDED,
            finished_at=timezone.now(),
            row_count=count,
            file=saved,
            message=f"已导出 {count:,} 行。",
            filters=_masked(job.filters),
        )
    job.refresh_from_db()
    return job


def _masked(filters: dict[str, Any]) -> dict[str, Any]:
    if not filters.get("search"):
        return filters
    return {**filters, "search": personal_text_mask(header="", text=str(filters["search"]))}


def export_job_file_open(*, user: Any, pk: int, ip_address: str | None) -> tuple[IO[bytes], str, str]:
    """The owner downloads a finished export: the file and its download names (Chinese, ASCII
    fallback); each download is
    written to the access log (who, when, which export, how many rows, from where).  Raises
    ``ExportJob.DoesNotExist`` (not the owner, outside the region) or ``FileNotFoundError``."""
    job = export_job_get(user=user, pk=pk)
    if job.status != ExportStatus.SUCCEEDED or not job.file:
        raise FileNotFoundError(pk)
    handle = job.file.open("rb")
    access_log_record(
        actor=user,
        action=AccessLog.Action.EXPORT,
        what=f"下载导出文件：{termed(job.get_kind_display())}",
        region_code=job.region_code,
        rows=job.row_count,
        object_id=job.pk,
        ip_address=ip_address,
    )
    return handle, *export_download_name(job)


def export_files_purge(*, older_than_days: int | None = None, now: Any = None) -> int:
    """Delete export files older than ``EXPORT_FILE_RETENTION_DAYS`` (the job rows stay, without
    their file).  Idempotent; returns how many files were deleted."""
    days = settings.EXPORT_FILE_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    deleted = 0
    for job in ExportJob.objects.filter(finished_at__lt=cutoff).exclude(file="").order_by("pk").iterator():
        job.file.delete(save=False)
        ExportJob.objects.filter(pk=job.pk).update(file="")
        deleted += 1
    # files of jobs whose run died after writing them (their row never got the name)
    for job in ExportJob.objects.filter(created_at__lt=cutoff, file="").only("pk").iterator():
        if default_storage.exists(_file_name(job)):
            default_storage.delete(_file_name(job))
            deleted += 1
    return deleted


def export_job_for_large(*, user: Any, kind: str, filters: Any) -> ExportJob | None:
    """A browser export: ``None`` when it is small enough to download at once (at most
    ``EXPORT_DIRECT_MAX_ROWS`` rows; the caller streams it), otherwise the started job."""
    rows = export_row_count(user=user, kind=kind, filters=export_filters_json(filters))
    if rows <= settings.EXPORT_DIRECT_MAX_ROWS:
        return None
    return export_job_start(user=user, kind=kind, filters=filters, expected_rows=rows)
