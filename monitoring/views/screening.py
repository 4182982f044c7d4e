"""Screening pages: run history and start (county staff, administrators), a run's progress
(htmx polling), rule parameters and monitoring lines with the what-if preview (administrators)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from fanpin.core.roles import Permission
from fanpin.core.scoping import ObjectOutOfScope
from fanpin.core.typed import ascii_int
from fanpin.web.mixins import permission_require
from monitoring.forms_screening import MonitoringLineForm, ScreeningParametersForm, ScreeningRunForm
from monitoring.models import MonitoringLine, Region, RunTrigger, ScreeningRun
from monitoring.models.screening_rules import rule_parameters, screening_rules
from monitoring.selectors.screening import (
    screening_parameters_get,
    screening_preview,
    screening_run_detail,
    screening_run_parent,
    screening_runs_for,
)
from monitoring.services.lines import monitoring_line_set
from monitoring.services.parameters import screening_parameters_set
from monitoring.services.screening import screening_run_start

_require = permission_require  # the shared check (fanpin.web.mixins)


def _runnable_regions(user: Any) -> list[Region]:
    return list(
        Region.objects.for_user(user)
        .filter(level__in=[Region.Level.PROVINCE, Region.Level.CITY, Region.Level.COUNTY])
        .order_by("code")
    )


@login_required
@require_http_methods(["GET", "POST"])
def screening_home(request: HttpRequest) -> HttpResponse:
    _require(request, Permission.RUN_SCREENING)
    regions = _runnable_regions(request.user)
    form = ScreeningRunForm(request.POST or None, regions=regions)
    if request.method == "POST" and form.is_valid():
        try:
            run = screening_run_start(
                region_code=form.cleaned_data["region"],
                year=form.cleaned_data["year"],
                trigger=RunTrigger.MANUAL,
                actor=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"已开始筛查 {run.region.name} {run.year} 年，可离开本页，稍后回来查看结果。")
            return redirect("monitoring:screening_run", pk=run.pk)
    page = Paginator(screening_runs_for(user=request.user), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "monitoring/screening_home.html",
        {
            "form": form,
            "page": page,
            "active_nav": "screening",
            "regions": regions,
            "rule_labels": "、".join(rule.label for rule in screening_rules()),
        },
    )


@login_required
def screening_run(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Permission.RUN_SCREENING)
    try:
        run = screening_run_detail(user=request.user, pk=pk)
    except ScreeningRun.DoesNotExist:
        raise ObjectOutOfScope("筛查批次") from None
    context = {
        "run": run,
        "parent": screening_run_parent(user=request.user, run=run),
        "children": run.children.select_related("region").order_by("region_id"),
        "rules": [
            (rule.code, rule.label, (run.summary or {}).get("rules", {}).get(rule.code)) for rule in screening_rules()
        ],
        "active_nav": "screening",
    }
    template = (
        "monitoring/_screening_run_status.html"
        if request.headers.get("HX-Request")
        else "monitoring/screening_run.html"
    )
    return render(request, template, context)


def _parameters_context(request: HttpRequest, **forms: Any) -> dict[str, Any]:
    provinces = list(Region.objects.filter(level=Region.Level.PROVINCE).order_by("code"))
    return {
        "params_form": forms.get("params_form") or ScreeningParametersForm(instance=screening_parameters_get()),
        "line_form": forms.get("line_form") or MonitoringLineForm(provinces=provinces),
        "lines": MonitoringLine.objects.select_related("province", "updated_by").order_by("-year", "province_id")[:30],
        "active_nav": "parameters",
    }


@login_required
@require_http_methods(["GET", "POST"])
def parameters(request: HttpRequest) -> HttpResponse:
    _require(request, Permission.MANAGE_PARAMETERS)
    if request.method == "GET":
        return render(request, "monitoring/parameters.html", _parameters_context(request))
    provinces = list(Region.objects.filter(level=Region.Level.PROVINCE).order_by("code"))
    if request.POST.get("kind") == "line":
        line_form = MonitoringLineForm(request.POST, provinces=provinces)
        if line_form.is_valid():
            data = line_form.cleaned_data
            try:
                monitoring_line_set(
                    year=data["year"],
                    line=data["line"],
                    province_code=data["province"] or None,
                    source=data["source"],
                    actor=request.user,  # type: ignore[arg-type]
                )
            except ValidationError as exc:
                line_form.add_error(None, exc)
            else:
                messages.success(request, f"已保存 {data['year']} 年监测标准 {data['line']:,.2f} 元。")
                return redirect("monitoring:parameters")
        return render(
            request, "monitoring/parameters.html", _parameters_context(request, line_form=line_form), status=400
        )
    params_form = ScreeningParametersForm(request.POST, instance=screening_parameters_get())
    if params_form.is_valid():
        data = dict(params_form.cleaned_data)
        reason = data.pop("reason", "")
        try:
            screening_parameters_set(actor=request.user, reason=reason, **data)  # type: ignore[arg-type]
        except ValidationError as exc:
            params_form.add_error(None, exc)
        else:
            messages.success(request, "已保存筛查规则参数。")
            return redirect("monitoring:parameters")
    return render(
        request, "monitoring/parameters.html", _parameters_context(request, params_form=params_form), status=400
    )


@login_required
@require_POST
def parameters_preview(request: HttpRequest) -> HttpResponse:
    """htmx: per county, households in scope now and under the values in the form (nothing saved)."""
    _require(request, Permission.MANAGE_PARAMETERS)
    provinces = list(Region.objects.filter(level=Region.Level.PROVINCE).order_by("code"))
    context: dict[str, Any] = {"rows": [], "errors": None}
    if request.POST.get("kind") == "line":
        form: Any = MonitoringLineForm(request.POST, provinces=provinces)
        if form.is_valid():
            data = form.cleaned_data
            context["year"] = data["year"]
            context["rows"] = screening_preview(
                year=data["year"], line=data["line"], line_province_code=data["province"] or None
            )
    else:
        form = ScreeningParametersForm(request.POST, instance=screening_parameters_get())
        preview_year = ascii_int(request.POST.get("preview_year", ""))
        if form.is_valid() and preview_year is not None:
            data = form.cleaned_data
            context["year"] = preview_year
            context["rows"] = screening_preview(
                year=preview_year, values={p.name: data[p.name] for p in rule_parameters()}
            )
        elif preview_year is None:
            form.add_error(None, "请填写预览年度。")
    if form.errors:
        context["errors"] = form.errors
    return render(request, "monitoring/_parameters_preview.html", context)
