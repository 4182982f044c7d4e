"""Import pages: templates, upload → dry-run preview → confirm → progress (htmx) → summary."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponseBase, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from fanpin.core.roles import Permission, department_label
from fanpin.core.scoping import ObjectOutOfScope
from fanpin.web.errors import error_text, form_error_lines
from fanpin.web.mixins import client_ip, permission_require
from monitoring.forms import HouseholdFilterForm
from monitoring.models import ExportKind, ImportJob, ImportKind, ImportStatus
from monitoring.selectors.alerts import shows_household_data
from monitoring.selectors.imports import (
    import_job_alert_counts,
    import_job_alerts,
    import_job_get,
    import_jobs_for_user,
    import_kinds_for,
)
from monitoring.services.export_jobs import export_job_for_large
from monitoring.services.exports import full_ids_check, households_export
from monitoring.services.imports.jobs import import_job_annotated_export, import_job_confirm, import_job_create
from monitoring.services.imports.spec import SPECS
from monitoring.services.imports.workbooks import import_template_write
from monitoring.services.personal_data import id_number_search_record
from monitoring.views.exports import attachment, kind_names

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


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label="数据类型")
    file = forms.FileField(label="Excel 文件（.xlsx）")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = [("", "请选择"), *import_kinds_for(user=user)]


def _job(request: HttpRequest, pk: int) -> ImportJob:
    try:
        return import_job_get(user=request.user, pk=pk)
    except ImportJob.DoesNotExist:
        raise ObjectOutOfScope("导入记录") from None


@_require(Permission.UPLOAD_SHEETS)
def import_list(request: HttpRequest) -> HttpResponseBase:
    form = ImportUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            job = import_job_create(user=request.user, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"])
        except ValidationError as exc:
            form.add_error("file", exc)
        else:  # the check runs in a task; the job page shows its progress, then the preview
            return redirect("monitoring:import_detail", pk=job.pk)
    context = {
        "form": form,
        "kinds": [(k, label, SPECS[k].headers) for k, label in import_kinds_for(user=request.user)],
        "jobs": import_jobs_for_user(user=request.user),
        "department": department_label(request.user) if not shows_household_data(user=request.user) else "",
        "active_nav": "imports",
    }
    return render(request, "monitoring/import_list.html", context, status=400 if form.errors else 200)


@_require(Permission.UPLOAD_SHEETS)
def import_detail(request: HttpRequest, pk: int) -> HttpResponseBase:
    job = _job(request, pk)
    template = (
        "monitoring/_import_progress.html" if request.headers.get("HX-Request") else "monitoring/import_detail.html"
    )
    household_data = shows_household_data(user=request.user)
    context: dict[str, Any] = {"job": job, "household_data": household_data, "active_nav": "imports"}
    # After an alert upload: the status of each submitted alert.  A department user sees no list
    # for a 医保 extract: which lines became alerts would tell who is a 脱贫户 or monitoring target.
    if job.status == ImportStatus.SUCCEEDED and (
        job.kind == ImportKind.ALERTS or (job.kind == ImportKind.MEDICAL and household_data)
    ):
        context["alert_counts"] = import_job_alert_counts(user=request.user, job=job)
        context["alert_page"] = Paginator(import_job_alerts(user=request.user, job=job), 50).get_page(
            request.GET.get("page")
        )
    return render(request, template, context)


@require_POST
@_require(Permission.UPLOAD_SHEETS)
def import_confirm(request: HttpRequest, pk: int) -> HttpResponseBase:
    job = _job(request, pk)
    try:
        import_job_confirm(job_id=job.pk, user=request.user)
    except (ValidationError, PermissionDenied) as exc:
        from django.contrib import messages

        messages.error(request, "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
    return redirect("monitoring:import_detail", pk=job.pk)


@_require(Permission.UPLOAD_SHEETS)
def import_annotated(request: HttpRequest, pk: int) -> HttpResponseBase:
    job = _job(request, pk)
    out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    try:
        import_job_annotated_export(user=request.user, job=job, out=out, ip_address=client_ip(request))
    except ValidationError as exc:  # no errors, or the file is gone
        out.close()
        raise Http404(error_text(exc)) from None
    out.seek(0)
    name = job.file_name.rsplit(".", 1)[0] + "-错误说明.xlsx"
    return attachment(FileResponse(out, content_type=XLSX), filename=name, fallback=f"import-{job.pk}-errors.xlsx")


@_require(Permission.UPLOAD_SHEETS)
def import_template(request: HttpRequest, kind: str) -> HttpResponseBase:
    if kind not in dict(import_kinds_for(user=request.user)):
        raise Http404("没有这种模板。")
    out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    import_template_write(kind=kind, out=out)
    out.seek(0)
    return attachment(
        FileResponse(out, content_type=XLSX),
        filename=f"{SPECS[kind].label}导入模板.xlsx",
        fallback=f"template-{kind}.xlsx",
    )


@_require(Permission.EXPORT_DATA)
def household_export(request: HttpRequest) -> HttpResponseBase:
    """Exactly the rows the household list shows for the same query string, 身份证号 and phones
    masked.  Full numbers only by POST from the list's form (CSRF-protected), for roles that may
    see them, with a stated purpose (用途) that goes to the access log; a query string never
    asks for them."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    form = HouseholdFilterForm(request.GET or None, user=request.user)
    filters: dict[str, Any] = {}
    if form.is_bound:
        if not form.is_valid():  # refused with the reason, as the lead and target exports
            raise ValidationError(form_error_lines(form))
        filters = {
            "search": form.cleaned_data["q"],
            "region_code": form.cleaned_data["village"],  # as the list: a village or a wider region
            "household_type": form.cleaned_data["household_type"],
        }
        id_number_search_record(user=request.user, search=filters["search"], ip_address=client_ip(request))
    if request.method == "POST":
        try:
            purpose = full_ids_check(user=request.user, purpose=request.POST.get("purpose", ""))
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
            query = request.GET.urlencode()
            return redirect(reverse("monitoring:household_list") + (f"?{query}" if query else ""))
        filters.update(full_ids=True, purpose=purpose)
    job = export_job_for_large(user=request.user, kind=ExportKind.HOUSEHOLDS, filters=filters)
    if job is not None:  # too many rows for one request: a job, whose page the user follows
        return redirect("monitoring:export_detail", pk=job.pk)
    out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    households_export(user=request.user, out=out, **filters)
    out.seek(0)
    return attachment(FileResponse(out, content_type=XLSX), **kind_names(ExportKind.HOUSEHOLDS))
