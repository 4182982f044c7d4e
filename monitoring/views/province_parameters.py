"""Pages of the provinces' own rule parameters: the list of provinces
(administrators: all; a provincial user: their own), one province's values with 沿用全国默认值 or
the province's own, save / reset to national (audited, with a reason), and the what-if preview of
the proposed values over that province's counties (htmx, nothing saved)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from fanpin.core.scoping import sees_everything
from fanpin.web.errors import form_errors_add
from monitoring.forms_province_parameters import ProvinceParametersForm
from monitoring.models.screening_rules import rule_parameters
from monitoring.selectors.province_parameters import (
    parameter_provinces_for,
    province_parameter_history,
    province_parameter_rows,
)
from monitoring.selectors.screening import screening_preview
from monitoring.services.province_parameters import (
    province_parameters_check,
    province_parameters_editable,
    province_parameters_reset,
    province_parameters_set,
)


@login_required
def province_parameters_list(request: HttpRequest) -> HttpResponse:
    provinces = parameter_provinces_for(user=request.user)
    if not sees_everything(request.user):
        if not provinces:
            raise PermissionDenied("只有系统管理员和省级用户可以查看省级筛查规则参数。")
        return redirect("monitoring:province_parameters_edit", code=provinces[0].province.code)
    return render(
        request,
        "monitoring/parameters/province_list.html",
        {"provinces": provinces, "active_nav": "parameters"},
    )


def _render(request: HttpRequest, code: str, form: ProvinceParametersForm, *, status: int = 200) -> HttpResponse:
    province = province_parameters_editable(user=request.user, province_code=code)
    return render(
        request,
        "monitoring/parameters/province_edit.html",
        {
            "province": province,
            "form": form,
            "own_count": sum(1 for row in form.rows if not row.inherited),
            "history": province_parameter_history(province_code=province.code),
            "is_admin": sees_everything(request.user),
            "active_nav": "parameters",
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def province_parameters_edit(request: HttpRequest, code: str) -> HttpResponse:
    province = province_parameters_editable(user=request.user, province_code=code)
    rows = province_parameter_rows(province_code=province.code)
    if request.method == "GET":
        return _render(request, code, ProvinceParametersForm(rows=rows))
    form = ProvinceParametersForm(request.POST, rows=rows)
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        seen = form.cleaned_data["version"] or None  # a form without it (an old page): no check
        try:
            if request.POST.get("action") == "reset":
                province_parameters_reset(
                    actor=request.user, province_code=province.code, reason=reason, seen_version=seen
                )
                done = f"{province.name}的规则参数已全部恢复为全国默认值。"
            else:
                province_parameters_set(
                    actor=request.user,
                    province_code=province.code,
                    values=form.proposed(),
                    reason=reason,
                    seen_version=seen,
                )
                done = f"已保存{province.name}的规则参数。"
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, done)
            return redirect("monitoring:province_parameters_edit", code=province.code)
    return _render(request, code, form, status=400)


@login_required
@require_POST
def province_parameters_preview(request: HttpRequest, code: str) -> HttpResponse:
    """htmx: per county of the province, households in scope under its current values and under
    the values in the form (empty = the national value); nothing saved."""
    province = province_parameters_editable(user=request.user, province_code=code)
    form = ProvinceParametersForm(request.POST, rows=province_parameter_rows(province_code=province.code))
    context: dict[str, Any] = {"rows": [], "errors": None}
    if form.is_valid():
        year = form.cleaned_data.get("preview_year")
        if year is None:
            form.add_error("preview_year", "请填写预览年度。")
        else:
            try:
                merged = province_parameters_check(
                    actor=request.user, province_code=province.code, values=form.proposed()
                )
            except ValidationError as exc:
                form_errors_add(form, exc)
            else:
                context["year"] = year
                context["rows"] = screening_preview(
                    year=year,
                    values={p.name: merged[p.name] for p in rule_parameters()},
                    values_province_code=province.code,
                )
    if form.errors:
        context["errors"] = form.errors
    return render(request, "monitoring/_parameters_preview.html", context)
