"""Import pages: templates, upload → dry-run preview → confirm → progress (htmx) → summary."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from fanpin.roles import Permission
from fanpin.views_mixins import effective_role, permission_require
from monitoring.forms import HouseholdFilterForm
from monitoring.models import ImportJob, ImportKind, Region
from monitoring.selectors.imports import import_job_get, import_jobs_for_user
from monitoring.services.exports import households_export
from monitoring.services.imports.jobs import import_job_confirm, import_job_create, import_job_preview
from monitoring.services.imports.spec import SPECS
from monitoring.services.imports.workbooks import annotated_copy_write, import_template_write

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require(permission: str) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @login_required
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            permission_require(request, permission)
            return view(request, *args, **kwargs)

        wrapped.__name__ = view.__name__
        return wrapped

    return decorator


def _kinds_for(user: Any) -> list[tuple[str, str]]:
    admin = effective_role(user) == "ADMIN"
    return [(k, label) for k, label in ImportKind.choices if admin or k != ImportKind.REGIONS]


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label="数据类型")
    file = forms.FileField(label="Excel 文件（.xlsx）")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = [("", "请选择"), *_kinds_for(user)]


def _job(request: HttpRequest, pk: int) -> ImportJob:
    try:
        return import_job_get(user=request.user, pk=pk)
    except ImportJob.DoesNotExist:
        raise Http404("导入记录不存在或不在您的管辖范围内。") from None


@_require(Permission.IMPORT_DATA)
def import_list(request: HttpRequest) -> HttpResponseBase:
    form = ImportUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            job = import_job_create(user=request.user, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"])
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            import_job_preview(job=job)
            return redirect("monitoring:import_detail", pk=job.pk)
    context = {
        "form": form,
        "kinds": [(k, label, SPECS[k].headers) for k, label in _kinds_for(request.user)],
        "jobs": import_jobs_for_user(user=request.user),
        "active_nav": "imports",
    }
    return render(request, "monitoring/import_list.html", context, status=400 if form.errors else 200)


@_require(Permission.IMPORT_DATA)
def import_detail(request: HttpRequest, pk: int) -> HttpResponseBase:
    job = _job(request, pk)
    template = (
        "monitoring/_import_progress.html" if request.headers.get("HX-Request") else "monitoring/import_detail.html"
    )
    return render(request, template, {"job": job, "active_nav": "imports"})


@require_POST
@_require(Permission.IMPORT_DATA)
def import_confirm(request: HttpRequest, pk: int) -> HttpResponseBase:
    job = _job(request, pk)
    try:
        import_job_confirm(job_id=job.pk, user=request.user)
    except (ValidationError, PermissionDenied) as exc:
        from django.contrib import messages

        messages.error(request, "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
    return redirect("monitoring:import_detail", pk=job.pk)


@_require(Permission.IMPORT_DATA)
def import_annotated(request: HttpRequest, pk: int) -> HttpResponseBase:
    job = _job(request, pk)
    if not job.errors or not job.file:
        raise Http404("该导入没有错误说明。")
    out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    with job.file.open("rb") as source:
        annotated_copy_write(kind=job.kind, source=source, errors=job.errors, out=out)
    out.seek(0)
    name = job.file_name.rsplit(".", 1)[0] + "-错误说明.xlsx"
    return FileResponse(out, as_attachment=True, filename=name, content_type=XLSX)


@_require(Permission.IMPORT_DATA)
def import_template(request: HttpRequest, kind: str) -> HttpResponseBase:
    if kind not in dict(_kinds_for(request.user)):
        raise Http404("没有这种模板。")
    out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    import_template_write(kind=kind, out=out)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=f"{SPECS[kind].label}导入模板.xlsx", content_type=XLSX)


@_require(Permission.EXPORT_DATA)
def household_export(request: HttpRequest) -> HttpResponseBase:
    """Exactly the rows the household list shows for the same query string."""
    villages = list(Region.objects.for_user(request.user).filter(level=Region.Level.VILLAGE).select_related("parent"))
    form = HouseholdFilterForm(request.GET or None, villages=villages)
    filters: dict[str, Any] = {}
    if form.is_bound:
        if not form.is_valid():
            raise Http404("查询条件无效。")
        filters = {
            "search": form.cleaned_data["q"],
            "village_code": form.cleaned_data["village"],
            "household_type": form.cleaned_data["household_type"],
        }
    out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    households_export(user=request.user, out=out, **filters)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename="农户信息.xlsx", content_type=XLSX)
