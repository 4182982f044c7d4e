"""Review workflow pages: the queue, a lead, its actions, bulk decisions, the 公示名单, exports."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import ListView

from fanpin.core.roles import Permission, effective_role, role_can
from fanpin.core.scoping import ObjectOutOfScope, RegionScopedViewMixin
from fanpin.core.terms import term
from fanpin.core.workflow import TransitionNotAllowed
from fanpin.web.errors import error_text, form_error_lines, form_errors_add
from fanpin.web.mixins import PermissionRequiredMixin, client_ip, permission_require
from monitoring.forms_review import (
    BulkDecideForm,
    ConfirmForm,
    DirectConfirmForm,
    LeadQueueFilterForm,
    RejectForm,
    ReviewForm,
    VerifyForm,
)
from monitoring.models import ExportKind, Lead, LeadState, Region, RejectionCategory
from monitoring.selectors.accounting import accounting_panel
from monitoring.selectors.comparisons import comparison_panel, comparisons_refusal
from monitoring.selectors.deadlines import lead_deadlines, leads_deadlines
from monitoring.selectors.households import household_detail, household_income_rows
from monitoring.selectors.leads import (
    RULE_LABELS,
    SOURCE_LABELS,
    default_state_for,
    household_other_leads,
    lead_audit_trail,
    lead_detail,
    lead_queue,
    lead_queue_counts,
    lead_target,
    lead_visits,
    overdue_cutoff,
    overdue_days,
    publicity_list,
)
from monitoring.services import review
from monitoring.services.acceptance import may_accept
from monitoring.services.accounting import accounting_closed_reason, may_record_accounting
from monitoring.services.exports_leads import leads_export, publicity_xlsx
from monitoring.services.personal_data import consent_scan_read
from monitoring.views.exports import attachment, dated_names, kind_names, xlsx_or_job

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ACTION_FORMS: dict[str, type[Any]] = {
    "verify": VerifyForm,
    "review": ReviewForm,
    "confirm": ConfirmForm,
    "confirm_direct": DirectConfirmForm,
    "reject": RejectForm,
}


_require = permission_require  # the shared check (fanpin.web.mixins)


class LeadQueueView(LoginRequiredMixin, PermissionRequiredMixin, RegionScopedViewMixin, ListView):
    model = Lead
    permission = Permission.VIEW_HOUSEHOLDS
    template_name = "monitoring/lead_queue.html"
    paginate_by = 50

    def get_queryset(self) -> Any:
        self.form = LeadQueueFilterForm(self.request.GET or None, user=self.request.user)
        self.filters = self.form.filters()
        return lead_queue(user=self.request.user, filters=self.filters)

    def get_paginator(
        self, queryset: Any, per_page: int, orphans: int = 0, allow_empty_first_page: bool = True, **kwargs: Any
    ) -> Paginator:
        # One query counts the queue and the navigation badge together (see lead_queue_counts).
        counts = lead_queue_counts(user=self.request.user, filters=self.filters)
        self.request.lead_nav_counts = {"waiting": counts["waiting"], "overdue": counts["overdue"]}  # type: ignore[attr-defined]
        return CountedPaginator(
            queryset, per_page, orphans=orphans, allow_empty_first_page=allow_empty_first_page, total=counts["total"]
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        user = self.request.user
        context.update(
            form=self.form,
            querystring=query.urlencode(),
            active_nav="leads",
            overdue_days=overdue_days(),
            default_state=default_state_for(user),
            may_bulk=review.LEAD_WORKFLOW.may_ever(user, "confirm"),
            may_export=role_can(effective_role(user), Permission.EXPORT_DATA),
        )
        # 办理时限 of the page's leads (three queries whatever the page size)
        rows = list(context["object_list"])
        deadlines = leads_deadlines(leads=rows, today=timezone.localdate())
        for lead in rows:
            lead.deadlines = deadlines[lead.pk]  # type: ignore[attr-defined]
        context["object_list"] = rows
        context["deadline_notice"] = next((d.notice for d in deadlines.values() if d.notice), "")
        return context

    def get_template_names(self) -> list[str]:
        if self.request.headers.get("HX-Request"):
            return ["monitoring/_lead_table.html"]
        return [self.template_name]


lead_queue_view = LeadQueueView.as_view()


class CountedPaginator(Paginator):
    """A paginator whose total is already known."""

    def __init__(self, *args: Any, total: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._total = total

    @cached_property
    def count(self) -> int:
        return self._total


def _evidence_rows(lead: Lead) -> list[dict[str, Any]]:
    """Every source's evidence, and for screening every rule's figures, labelled in Chinese."""
    rows: list[dict[str, Any]] = []
    for source, value in (lead.evidence or {}).items():
        if source == "SCREENING" and isinstance(value, dict):
            for rule, figures in (value.get("rules") or {}).items():
                rows.append(
                    {
                        "source": SOURCE_LABELS.get(source, source),
                        "rule": RULE_LABELS.get(rule, rule),
                        "year": value.get("year"),
                        "figures": figures,
                    }
                )
        else:
            for entry in value if isinstance(value, list) else [value]:
                rows.append({"source": SOURCE_LABELS.get(source, source), "rule": "", "year": None, "figures": entry})
    return rows


def _initial_forms(lead: Lead, user: Any) -> dict[str, Any]:
    today = timezone.localdate()
    forms: dict[str, Any] = {}
    for t in review.LEAD_WORKFLOW.available(lead, user):
        cls = ACTION_FORMS[t.name]
        if cls in (ConfirmForm, DirectConfirmForm):
            forms[t.name] = cls(
                initial={
                    "category": lead.suggested_category,
                    "risk_types": lead.suggested_risk_types,
                    "identified_on": today,
                },
                prefix=t.name,
            )
        elif cls is VerifyForm:
            forms[t.name] = cls(
                initial={
                    "home_checked_on": today,
                    "appraisal_on": today,
                    "publicity_start": today,
                    "publicity_end": today + dt.timedelta(days=4),
                    "consent_signed": "yes",
                    "appraisal_outcome": "AGREED",
                },
                prefix=t.name,
            )
        else:
            forms[t.name] = cls(prefix=t.name)
    return forms


def _held_back(lead: Lead, transitions: list[Any], user: Any = None) -> tuple[list[Any], list[str]]:
    """The steps the page does not offer yet, with why (the service would refuse them after the
    user typed): the township's 审核 until the 公示 has ended, 审核 and 县级确定 of a lead whose
    consent or appraisal fails (SPEC §5).  ``不予纳入`` and the direct confirmation stay."""
    notes: list[str] = []
    held: set[str] = set()
    names = {t.name for t in transitions}
    refusal = review.verification_refusal(lead) if lead.state in (LeadState.VERIFIED, LeadState.REVIEWED) else ""
    if refusal and names & {"review", "confirm"}:
        held |= {"review", "confirm"}
        notes.append(refusal)
    elif "review" in names and lead.publicity_end is not None and timezone.localdate() <= lead.publicity_end:
        held.add("review")
        notes.append(f"公示期至 {lead.publicity_end:%Y-%m-%d}，结束后可审核。")
    if "reject" in names and "APPEAL" in (lead.sources or []) and effective_role(user) not in ("COUNTY", "ADMIN"):
        held.add("reject")  # an appeal is decided by the county (services/review.lead_reject)
        notes.append("这是农户的申诉线索：核实后报县级审定，村、乡镇不能不予纳入。")
    appeal_refusal = review.appeal_unverified_refusal(lead)
    if appeal_refusal and names & {"reject", "confirm_direct"}:
        held |= {"reject", "confirm_direct"}
        notes.append(appeal_refusal)
    if "confirm_direct" in names:  # an unjudged 有异常 holds the direct confirmation too (services/review)
        held_by_comparison = comparisons_refusal(lead_id=lead.pk)
        if held_by_comparison:
            held.add("confirm_direct")
            if held_by_comparison not in notes:
                notes.append(held_by_comparison)
    return [t for t in transitions if t.name not in held], notes


def _render_detail(
    request: HttpRequest, lead: Lead, *, bound: tuple[str, Any] | None = None, error: str = "", status: int = 200
) -> HttpResponse:
    user = request.user
    household = household_detail(user=user, pk=lead.household_id)
    income_rows = household_income_rows(household=household)
    transitions, held_notes = _held_back(lead, review.LEAD_WORKFLOW.available(lead, user), user)
    forms = _initial_forms(lead, user)
    if bound is not None:
        forms[bound[0]] = bound[1]
    chart = {
        "years": [r["income"].year for r in reversed(income_rows)],
        "per_capita": [float(r["income"].per_capita) for r in reversed(income_rows)],
        "line": [float(r["line"]) if r["line"] is not None else None for r in reversed(income_rows)],
    }
    context = {
        "lead": lead,
        "household": household,
        "income_rows": income_rows,
        "chart": chart,
        "evidence_rows": _evidence_rows(lead),
        "audit": lead_audit_trail(lead=lead),
        "target": lead_target(lead=lead),
        "other_leads": household_other_leads(lead=lead),
        "transitions": transitions,
        "held_notes": held_notes,
        "visits": lead_visits(lead=lead),
        "forms": forms,
        "error": error,
        "is_overdue": lead.is_open and lead.raised_at < overdue_cutoff(),
        "overdue_days": overdue_days(),
        "today": timezone.localdate(),
        "active_nav": "leads",
        "mask_ids": True,
        "may_see_scan": role_can(effective_role(user), Permission.VIEW_CONSENT_SCANS),
        # 家庭收支核算 of the 12 months before: beside the screening evidence
        "accounting": accounting_panel(lead=lead),
        "may_record_accounting": not accounting_closed_reason(lead) and may_record_accounting(user),
        # 办理时限: each identification step's start, due date and status
        "deadlines": lead_deadlines(lead=lead, today=timezone.localdate()),
        "may_accept": lead.is_open and lead.accepted_on is None and may_accept(user),
        # 信息比对: every active source's result, the consent, what the user may do
        "comparisons": comparison_panel(lead=lead, user=user),
    }
    return render(request, "monitoring/lead_detail.html", context, status=status)


def _lead_or_404(request: HttpRequest, pk: int) -> Lead:
    _require(request, Permission.VIEW_HOUSEHOLDS)
    try:
        return lead_detail(user=request.user, pk=pk)
    except Lead.DoesNotExist:
        raise ObjectOutOfScope("线索") from None


@login_required
@require_GET
def lead_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _lead_or_404(request, pk))


def _call(name: str, lead: Lead, user: Any, form: Any) -> Lead:
    if name == "verify":
        return review.lead_verify(
            lead_id=lead.pk, actor=user, opinion=form.cleaned_data["opinion"], verification=form.verification()
        )
    if name == "review":
        return review.lead_review(lead_id=lead.pk, actor=user, opinion=form.cleaned_data["opinion"])
    if name == "confirm":
        return review.lead_confirm(
            lead_id=lead.pk, actor=user, decision=form.decision(), opinion=form.cleaned_data["opinion"]
        )
    if name == "confirm_direct":
        return review.lead_confirm_direct(
            lead_id=lead.pk, actor=user, decision=form.decision(), reason=form.cleaned_data["opinion"]
        )
    return review.lead_reject(
        lead_id=lead.pk, actor=user, reason=form.cleaned_data["opinion"], category=form.cleaned_data["category"]
    )


@login_required
@require_POST
def lead_act_view(request: HttpRequest, pk: int, action: str) -> HttpResponseBase:
    """POST one transition.  404 outside the scope, 403 for a role that never does it, the page
    with the message for a refused step (wrong state, 公示 not ended, missing reason)."""
    if action not in ACTION_FORMS:
        raise Http404("未知操作。")
    lead = _lead_or_404(request, pk)
    if not review.LEAD_WORKFLOW.may_ever(request.user, action):
        raise PermissionDenied("您的角色不能执行此操作。")
    form = ACTION_FORMS[action](request.POST, request.FILES, prefix=action)
    transition = review.LEAD_WORKFLOW.transition(action)
    label = transition.label
    if lead.state not in transition.sources:  # decided meanwhile (a page left open): its form is gone too
        error = f"该线索当前为“{lead.get_state_display()}”，不能再“{label}”（可能已由他人办理），请以页面当前状态为准。"
        return _render_detail(request, lead, error=error, status=409)
    if not form.is_valid():
        return _render_detail(request, lead, bound=(action, form), error=f"“{label}”未完成：请按提示修改。", status=400)
    try:
        done = _call(action, lead, request.user, form)
    except TransitionNotAllowed as exc:  # decided meanwhile: the page as it is now, with the reason (409)
        lead = _lead_or_404(request, pk)
        return _render_detail(request, lead, error=error_text(exc), status=409)
    except ValidationError as exc:
        form_errors_add(form, exc)
        return _render_detail(request, lead, bound=(action, form), error=error_text(exc), status=400)
    messages.success(request, f"{label}完成：{done.household.household_no}，当前状态“{done.get_state_display()}”。")
    if done.state == "CONFIRMED":
        target = lead_target(lead=done)
        if target is not None:
            return redirect("monitoring:target_detail", pk=target.pk)
    return redirect("monitoring:lead_detail", pk=done.pk)


@login_required
@require_POST
def leads_bulk_view(request: HttpRequest) -> HttpResponseBase:
    _require(request, Permission.VIEW_HOUSEHOLDS)
    if not review.LEAD_WORKFLOW.may_ever(request.user, "confirm"):
        raise PermissionDenied("您的角色不能批量确定或不予纳入。")
    form = BulkDecideForm(request.POST)
    back = reverse("monitoring:lead_queue") + (f"?{request.POST['next']}" if request.POST.get("next") else "")
    if not form.is_valid():
        messages.error(request, "批量操作未执行：" + "；".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect(back)
    try:
        outcome = review.leads_bulk_decide(
            lead_ids=form.cleaned_data["leads"],
            actor=request.user,
            decision=form.cleaned_data["decision"],
            reason=form.cleaned_data["reason"],
            category=form.cleaned_data["category"] or RejectionCategory.OTHER,
        )
    except ValidationError as exc:
        messages.error(request, "批量操作未执行：" + "；".join(exc.messages))
        return redirect(back)
    label = f"确定为{term('target')}" if form.cleaned_data["decision"] == "confirm" else "不予纳入"
    if outcome.done:
        messages.success(request, f"已{label} {len(outcome.done)} 条线索。")
    for lead_id, text in outcome.failed.items():
        messages.error(request, f"线索 {lead_id} 未处理：{text}")
    return redirect(back)


@login_required
@require_GET
def lead_consent_scan_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The uploaded consent scan, for those who handle the lead (not city or province staff); logged."""
    _require(request, Permission.VIEW_CONSENT_SCANS)
    lead = _lead_or_404(request, pk)
    try:
        content, name = consent_scan_read(lead=lead, actor=request.user, ip_address=client_ip(request))
    except FileNotFoundError:
        raise Http404("未上传扫描件。") from None
    suffix = name.rsplit(".", 1)[-1].lower()
    content_type = {"pdf": "application/pdf", "png": "image/png"}.get(suffix, "image/jpeg")
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _village_or_404(request: HttpRequest, code: str) -> Region:
    _require(request, Permission.VIEW_HOUSEHOLDS)
    village = (
        Region.objects.for_user(request.user)
        .filter(code=code, level=Region.Level.VILLAGE)
        .select_related("parent")
        .first()
    )
    if village is None:
        raise ObjectOutOfScope("村")
    return village


@login_required
@require_GET
def publicity_view(request: HttpRequest, code: str) -> HttpResponse:
    village = _village_or_404(request, code)
    rows = publicity_list(user=request.user, village_code=village.code)
    return render(
        request,
        "monitoring/publicity.html",
        {"village": village, "rows": rows, "today": timezone.localdate(), "active_nav": "leads"},
    )


@login_required
@require_GET
def publicity_xlsx_view(request: HttpRequest, code: str) -> HttpResponse:
    village = _village_or_404(request, code)
    rows = publicity_list(user=request.user, village_code=village.code)
    buffer = io.BytesIO()
    publicity_xlsx(user=request.user, village_code=village.code, rows=rows, output=buffer)
    filename, fallback = dated_names(f"公示名单-{village.name}", f"publicity-{village.code}")
    return attachment(HttpResponse(buffer.getvalue(), content_type=XLSX), filename=filename, fallback=fallback)


@login_required
@require_GET
def leads_export_view(request: HttpRequest) -> HttpResponseBase:
    _require(request, Permission.EXPORT_DATA)
    form = LeadQueueFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    if filters.unreadable:  # an empty sheet would read as "no leads"
        raise ValidationError(form_error_lines(form))
    return xlsx_or_job(
        request,
        kind=ExportKind.LEADS,
        filters=filters,
        write=lambda out: leads_export(user=request.user, output=out, filters=filters),
        **kind_names(ExportKind.LEADS),
    )
