"""Pages of the 12-month 家庭收支核算: the village's form on a lead, and the
provinces' deduction setting (administrators, beside the rule parameters)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from fanpin.core.roles import Permission
from fanpin.core.scoping import ObjectOutOfScope
from fanpin.core.workflow import TransitionNotAllowed
from fanpin.web.errors import error_text, form_errors_add
from fanpin.web.mixins import permission_require
from monitoring.forms_accounting import AccountingForm, DeductionSettingForm
from monitoring.models import ExpenditureCategory, Lead
from monitoring.selectors.accounting import (
    accounting_form_initial,
    accounting_ledger,
    accounting_panel,
    accounting_setting_history,
    accounting_settings,
)
from monitoring.selectors.leads import lead_detail
from monitoring.services.accounting import (
    accounting_closed_reason,
    accounting_deduction_set,
    income_accounting_record,
    may_record_accounting,
)


def _lead_or_404(request: HttpRequest, pk: int) -> Lead:
    permission_require(request, Permission.VIEW_HOUSEHOLDS)
    try:
        return lead_detail(user=request.user, pk=pk)
    except Lead.DoesNotExist:
        raise ObjectOutOfScope("线索") from None


def _render_form(request: HttpRequest, lead: Lead, form: AccountingForm, *, status: int = 200) -> HttpResponse:
    panel = accounting_panel(lead=lead)
    ledger = accounting_ledger(household_id=lead.household_id, window=panel.window)
    labels = dict(ExpenditureCategory.choices)
    rows = [
        {"label": labels[code], "ledger": ledger[code], "field": bound} for code, bound in form.expenditure_fields()
    ]
    context = {
        "lead": lead,
        "household": lead.household,
        "panel": panel,
        "form": form,
        "expenditure_rows": rows,
        "active_nav": "leads",
    }
    return render(request, "monitoring/accounting_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def lead_accounting_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    """GET: the form (recorded figures, or the window's ledger); POST: record it (the service
    checks scope, role, the lead being open and every figure)."""
    lead = _lead_or_404(request, pk)
    if not may_record_accounting(request.user):
        raise PermissionDenied("家庭收支核算由村干部/驻村工作队在入户核实时录入。")
    if refusal := accounting_closed_reason(lead):
        raise TransitionNotAllowed(refusal)  # 409: the 核算 belongs to 入户核实
    if request.method == "GET":
        return _render_form(request, lead, AccountingForm(initial=accounting_form_initial(lead=lead)))
    form = AccountingForm(request.POST)
    if form.is_valid():
        try:
            income_accounting_record(lead_id=lead.pk, actor=request.user, data=form.accounting_input())
        except TransitionNotAllowed:
            raise  # the lead moved on meanwhile: 409, not a form error
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, "家庭收支核算已保存，系统已按核算期重新判断。")
            return redirect(reverse("monitoring:lead_detail", args=[lead.pk]) + "#accounting")
    messages.error(request, "家庭收支核算未保存：请按提示修改。")
    return _render_form(request, lead, form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def accounting_settings_view(request: HttpRequest) -> HttpResponseBase:
    """Each province's choice: deduct out-of-pocket rigid spending from income in the 12-month
    judgement or not (administrators, with a reason; audited)."""
    permission_require(request, Permission.MANAGE_PARAMETERS)
    error_province, error = "", ""
    if request.method == "POST":
        form = DeductionSettingForm(request.POST)
        if form.is_valid():
            try:
                accounting_deduction_set(
                    actor=request.user,
                    province_code=form.cleaned_data["province"],
                    deduct=form.cleaned_data["deduct"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                error_province, error = form.cleaned_data["province"], error_text(exc)
            else:
                messages.success(request, "收支核算的省级设置已保存。")
                return redirect("monitoring:accounting_settings")
        else:
            error = "提交的内容不完整，请重试。"
    context = {
        "rows": accounting_settings(user=request.user),
        "history": accounting_setting_history(user=request.user),
        "error_province": error_province,
        "error": error,
        "active_nav": "parameters",
    }
    return render(request, "monitoring/accounting_settings.html", context, status=400 if error else 200)
