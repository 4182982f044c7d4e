"""Export jobs (large browser exports): the user's list, a job's page that follows it, the file."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import IO, Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from fanpin.core.roles import Permission
from fanpin.core.terms import termed
from fanpin.core.xlsx import attachment_disposition
from fanpin.web.mixins import client_ip, permission_require
from monitoring.models import ExportJob, ExportKind
from monitoring.selectors.exports import export_job_get, export_jobs_for_user
from monitoring.services.export_jobs import export_job_file_open, export_job_for_large

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
R = TypeVar("R", bound=HttpResponseBase)


def dated_names(label: str, slug: str, *, day: dt.date | None = None) -> tuple[str, str]:
    """The download names of an export made on ``day`` (today): ``预警线索-2026-12-03.xlsx`` and
    its ASCII fallback ``leads-2026-12-03.xlsx``."""
    stamp = f"{day or timezone.localdate():%Y-%m-%d}"
    return f"{label}-{stamp}.xlsx", f"{slug}-{stamp}.xlsx"


def kind_names(kind: ExportKind) -> dict[str, str]:
    """``filename`` and ``fallback`` of a list export made today (keyword arguments of ``xlsx_or_job``)."""
    filename, fallback = dated_names(termed(str(kind.label)), str(kind.value))
    return {"filename": filename, "fallback": fallback}


def attachment(response: R, *, filename: str, fallback: str) -> R:
    """Name the download: the Chinese ``filename`` for browsers (RFC 5987), ``fallback`` in ASCII."""
    response["Content-Disposition"] = attachment_disposition(filename=filename, fallback=fallback)
    return response


def xlsx_or_job(
    request: HttpRequest,
    *,
    kind: str,
    filters: Any,
    write: Callable[[IO[bytes]], object],
    filename: str,
    fallback: str,
) -> HttpResponseBase:
    """A list page's export: a download when small, else the started job's page (SPEC §7)."""
    job = export_job_for_large(user=request.user, kind=kind, filters=filters)
    if job is not None:  # too many rows for one request: a job, whose page the user follows
        return redirect("monitoring:export_detail", pk=job.pk)
    buffer = io.BytesIO()
    write(buffer)
    return attachment(HttpResponse(buffer.getvalue(), content_type=XLSX), filename=filename, fallback=fallback)


def _job(request: HttpRequest, pk: int) -> ExportJob:
    permission_require(request, Permission.EXPORT_DATA)
    try:
        return export_job_get(user=request.user, pk=pk)
    except ExportJob.DoesNotExist:
        raise Http404("导出任务不存在。") from None


@login_required
@require_GET
def export_list(request: HttpRequest) -> HttpResponse:
    permission_require(request, Permission.EXPORT_DATA)
    jobs = export_jobs_for_user(user=request.user)
    return render(request, "monitoring/export_list.html", {"jobs": jobs, "active_nav": "exports"})


@login_required
@require_GET
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    template = (
        "monitoring/_export_status.html" if request.headers.get("HX-Request") else "monitoring/export_detail.html"
    )
    return render(request, template, {"job": job, "active_nav": "exports"})


@login_required
@require_GET
def export_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    permission_require(request, Permission.EXPORT_DATA)
    try:
        handle, name, fallback = export_job_file_open(user=request.user, pk=pk, ip_address=client_ip(request))
    except (ExportJob.DoesNotExist, FileNotFoundError):
        raise Http404("文件不存在或已过保存期限，请重新导出。") from None
    return attachment(FileResponse(handle, content_type=XLSX), filename=name, fallback=fallback)
