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
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from fanpin.roles import Permission, role_can
from fanpin.views_mixins import effective_role
from monitoring.models import ExportJob, ExportKind, ExportStatus
from monitoring.selectors.exports import export_row_count
from monitoring.selectors.leads import QueueFilters

logger = logging.getLogger(__name__)

FILE_NAMES = {ExportKind.HOUSEHOLDS: "农户信息", ExportKind.LEADS: "预警线索", ExportKind.TARGETS: "监测对象"}


def export_filters_json(filters: Any) -> dict[str, Any]:
    """The filters as stored on the job (a ``QueueFilters`` for leads, plain dicts otherwise)."""
    if dataclasses.is_dataclass(filters) and not isinstance(filters, type):
        return dataclasses.asdict(filters)
    return {k: v for k, v in dict(filters or {}).items() if v not in (None, "")}


def export_job_start(*, user: Any, kind: str, filters: Any) -> ExportJob:
    """Record an export of ``kind`` for ``user`` and hand it to Celery once this commits (in-process
    without a broker).  The filters are those of the list page the user is on."""
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
            expected_rows=export_row_count(user=user, kind=kind, filters=stored),
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


def export_job_run(*, job_id: int) -> ExportJob:
    """Execute a queued export.  Idempotent: a finished job is left alone; a job whose worker died
    while running is simply run again (the export writes nothing but its file and audit row)."""
    job = ExportJob.objects.select_related("created_by").get(pk=job_id)
    if job.is_finished:
        return job
    ExportJob.objects.filter(pk=job_id).update(status=ExportStatus.RUNNING, started_at=timezone.now())
    try:
        with tempfile.NamedTemporaryFile(suffix=".xlsx") as tmp:
            count = _write(job, tmp.name)
            stamp = timezone.localtime()
            with open(tmp.name, "rb") as fh:
                job.file.save(f"{FILE_NAMES[ExportKind(job.kind)]}-{stamp:%Y%m%d-%H%M}.xlsx", File(fh), save=False)
    except Exception as exc:
        logger.exception("export job %s failed", job_id)
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportStatus.FAILED, finished_at=timezone.now(), message=f"导出失败：{exc}"[:2000]
        )
    else:
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportStatus.SUCCEEDED,
            finished_at=timezone.now(),
            row_count=count,
            file=job.file.name,
            message=f"已导出 {count:,} 行。",
        )
    job.refresh_from_db()
    return job


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
    return deleted


def export_job_for_large(*, user: Any, kind: str, filters: Any) -> ExportJob | None:
    """A browser export: ``None`` when it is small enough to download at once (at most
    ``EXPORT_DIRECT_MAX_ROWS`` rows; the caller streams it), otherwise the started job."""
    stored = export_filters_json(filters)
    if export_row_count(user=user, kind=kind, filters=stored) <= settings.EXPORT_DIRECT_MAX_ROWS:
        return None
    return export_job_start(user=user, kind=kind, filters=filters)
