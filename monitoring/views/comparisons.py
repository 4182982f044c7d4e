"""Pages of 信息比对: the county records one source's result on a lead (a page, or the
form inside the lead page's panel by htmx); the village or county records the household's
承诺授权 before 入户核实."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from fanpin.core.roles import Permission
from fanpin.core.scoping import ObjectOutOfScope
from fanpin.core.workflow import TransitionNotAllowed
from fanpin.web.errors import form_errors_add
from fanpin.web.mixins import permission_require
from monitoring.forms_comparisons import ComparisonForm, ConsentForm
from monitoring.models import ComparisonSource, Lead
from monitoring.selectors.comparisons import (
    comparison_current,
    comparison_panel,
    comparison_source_get,
    may_record_comparisons,
    may_record_consent,
)
from monitoring.selectors.leads import lead_detail
from monitoring.services.comparisons import NO_CONSENT_MESSAGE, data_comparison_record, lead_consent_record


def _lead_or_404(request: HttpRequest, pk: int) -> Lead:
    permission_require(request, Permission.VIEW_HOUSEHOLDS)
    try:
        return lead_detail(user=request.user, pk=pk)
    except Lead.DoesNotExist:
        raise ObjectOutOfScope("线索") from None


def _source_or_404(code: str) -> ComparisonSource:
    try:
        return comparison_source_get(code=code)
    except ComparisonSource.DoesNotExist:
        raise Http404("比对来源不存在或已停用。") from None


def _panel(request: HttpRequest, lead: Lead, **extra: Any) -> HttpResponse:
    """The lead page's panel alone (htmx swaps it in place)."""
    context = {"lead": lead, "comparisons": comparison_panel(lead=lead, user=request.user), **extra}
    return render(request, "monitoring/_comparisons_panel.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def lead_comparison_view(request: HttpRequest, pk: int, source: str) -> HttpResponseBase:
    """GET: the form of one source's result (prefilled with the current one); POST: record it.
    County staff, an open lead, the household's consent on file (the service checks again)."""
    lead = _lead_or_404(request, pk)
    src = _source_or_404(source)
    if not may_record_comparisons(request.user):
        raise PermissionDenied("信息比对结果由县级乡村振兴部门录入。")
    if not lead.is_open:
        raise TransitionNotAllowed(f"线索已{lead.get_state_display()}，不能再录入信息比对结果。")
    if lead.consent_signed is not True:
        raise TransitionNotAllowed(NO_CONSENT_MESSAGE)
    htmx = bool(request.headers.get("HX-Request"))
    if request.method == "GET":
        current = comparison_current(lead_id=lead.pk, source_id=src.pk)
        initial = (
            {
                "compared_on": current.compared_on,
                "result": current.result,
                "note": current.note,
                "judgement": current.judgement,
            }
            if current is not None
            else {"compared_on": timezone.localdate()}
        )
        form = ComparisonForm(initial=initial, prefix=f"cmp-{src.code}")
        if htmx:
            return _panel(request, lead, form=form, form_source=src)
        return _render_page(request, lead, src, form)
    form = ComparisonForm(request.POST, prefix=f"cmp-{src.code}")
    if form.is_valid():
        try:
            data_comparison_record(
                lead_id=lead.pk, actor=request.user, data=form.comparison_input(source_code=src.code)
            )
        except TransitionNotAllowed:
            raise  # the lead was decided meanwhile: 409
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            if htmx:
                return _panel(request, lead, saved=src.name)
            messages.success(request, f"信息比对“{src.name}”已保存。")
            return redirect(reverse("monitoring:lead_detail", args=[lead.pk]) + "#comparisons")
    if htmx:  # htmx swaps only 2xx answers: the panel with the form and its errors
        return _panel(request, lead, form=form, form_source=src)
    return _render_page(request, lead, src, form, status=400)


def _render_page(
    request: HttpRequest, lead: Lead, source: ComparisonSource, form: ComparisonForm, *, status: int = 200
) -> HttpResponse:
    context = {
        "lead": lead,
        "household": lead.household,
        "source": source,
        "form": form,
        "comparisons": comparison_panel(lead=lead, user=request.user),
        "active_nav": "leads",
    }
    return render(request, "monitoring/comparison_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def lead_consent_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The household's signed 承诺授权 recorded before 入户核实 (village, county; a NEW lead)."""
    lead = _lead_or_404(request, pk)
    if not may_record_consent(request.user):
        raise PermissionDenied("承诺授权由村干部/驻村工作队或县级登记。")
    if lead.state != Lead.State.NEW:
        raise TransitionNotAllowed(
            f"线索当前为“{lead.get_state_display()}”：承诺授权在入户核实前登记，核实后随核实结果保存。"
        )
    form = ConsentForm(request.POST, request.FILES) if request.method == "POST" else ConsentForm()
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                lead_consent_record(lead_id=lead.pk, actor=request.user, scan=form.cleaned_data.get("consent_scan"))
            except TransitionNotAllowed:
                raise
            except ValidationError as exc:
                form_errors_add(form, exc)
            else:
                messages.success(request, "农户承诺授权已登记，县级可进行信息比对。")
                return redirect(reverse("monitoring:lead_detail", args=[lead.pk]) + "#comparisons")
        status = 400
    context = {"lead": lead, "household": lead.household, "form": form, "active_nav": "leads"}
    return render(request, "monitoring/consent_form.html", context, status=status)
