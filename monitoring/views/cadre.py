"""The village cadre's phone pages (home, visit form, application form), the service worker, the
county's application list, and the public self-report page (no login)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assistance.selectors.todo import home_todo
from fanpin.core.roles import Permission, Role, effective_role, role_can
from fanpin.core.scoping import ObjectOutOfScope
from fanpin.core.typed import ascii_int
from fanpin.web.errors import form_errors_add
from fanpin.web.mixins import client_ip
from monitoring.forms_cadre import ApplicationForm, SelfReportForm, VisitForm
from monitoring.models import Application, ApplicationStatus, Household
from monitoring.selectors.cadre import (
    HouseholdPicker,
    applications_in_scope,
    cadre_home,
    household_for_visit,
    household_picker,
)
from monitoring.selectors.campaigns import campaign_tasks_for_home
from monitoring.selectors.followups import follow_up_rows, follow_ups_in_scope
from monitoring.selectors.posters import application_source_counts
from monitoring.services.applications import (
    RateLimited,
    application_match,
    application_record,
    self_report_rate_check,
    self_report_submit,
)
from monitoring.services.personal_data import id_number_search_record
from monitoring.services.visits import visit_record
from monitoring.views.leads import _require

SERVICE_WORKER = Path(settings.BASE_DIR) / "static" / "js" / "cadre-sw.js"


@login_required
@require_GET
def cadre_home_view(request: HttpRequest) -> HttpResponse:
    _require(request, Permission.RECORD_VISITS)
    search = request.GET.get("q", "").strip()
    id_number_search_record(user=request.user, search=search, ip_address=client_ip(request))
    context = {
        "home": cadre_home(user=request.user, search=search),
        "campaign_tasks": campaign_tasks_for_home(user=request.user, today=timezone.localdate()),
        # 绿色通道待补办 of the village, overdue first
        "followups": follow_up_rows(follow_ups_in_scope(user=request.user, state="OPEN")[:50]),
        "q": search,
        "active_nav": "cadre",
        # a village cadre's landing page: its 待办 (the other roles see theirs on the home page)
        "todo": home_todo(user=request.user) if effective_role(request.user) == Role.VILLAGE else [],
    }
    return render(request, "monitoring/cadre_home.html", context)


def _household_picker(request: HttpRequest, chosen: int | None) -> HouseholdPicker:
    """The forms' households: the whole scope of a village, else what the page's search found (a
    whole 身份证号 searched is logged as on the household list) and the household chosen or posted.
    A post searches nothing again (its address still carries ``?q=``): it lists the household posted,
    and the search and its log entry happen once, on the page that showed them."""
    search = request.GET.get("q", "").strip() if request.method == "GET" else ""
    posted = ascii_int(request.POST.get("household", ""))
    picker = household_picker(user=request.user, search=search, chosen=posted if posted is not None else chosen)
    if picker.searchable:  # a village's list searched nothing: nothing to log
        id_number_search_record(user=request.user, search=search, ip_address=client_ip(request))
    return picker


def _household_choice(request: HttpRequest) -> tuple[HouseholdPicker, dict[str, Any]]:
    """The picker and the form's initial household: the one a link names (404 outside the scope,
    on both forms), else the only one a search found."""
    linked = ascii_int(request.GET.get("household", ""))
    if linked is not None:
        try:
            household_for_visit(user=request.user, pk=linked)
        except Household.DoesNotExist:
            raise ObjectOutOfScope("农户") from None
    picker = _household_picker(request, linked)
    if linked is None and picker.searchable and picker.found == 1:
        linked = picker.households[0].pk
    return picker, ({"household": linked} if linked is not None else {})


@login_required
@require_http_methods(["GET", "POST"])
def visit_new_view(request: HttpRequest) -> HttpResponse:
    _require(request, Permission.RECORD_VISITS)
    picker, initial = _household_choice(request)
    form = VisitForm(request.POST or None, households=picker.households, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = visit_record(actor=request.user, data=form.to_input(request.FILES.getlist("photos")))
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            text = "走访记录已保存。" if outcome.created else "这条走访记录此前已保存，未重复录入。"
            if outcome.lead_id:
                text += "发现风险，已生成（或并入）预警线索，请尽快核实。"
            messages.success(request, text)
            return redirect("monitoring:cadre_home")
    status = 400 if form.errors else 200
    context = {"form": form, "picker": picker, "active_nav": "cadre"}
    return render(request, "monitoring/visit_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def application_new_view(request: HttpRequest) -> HttpResponse:
    _require(request, Permission.RECORD_VISITS)
    picker, initial = _household_choice(request)
    form = ApplicationForm(request.POST or None, households=picker.households, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            outcome = application_record(
                actor=request.user,
                household_id=d["household"],
                reason=d["reason"],
                description=d["description"],
                amount=d["amount"],
                client_uuid=d["client_uuid"],
            )
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            receipt = outcome.application.receipt_no
            if outcome.created:
                messages.success(request, f"农户申报已录入（回执编号 {receipt}），已生成待核实线索。")
            else:
                messages.success(request, f"这条农户申报此前已保存（回执编号 {receipt}），未重复录入。")
            return redirect("monitoring:cadre_home")
    status = 400 if form.errors else 200
    context = {"form": form, "picker": picker, "active_nav": "cadre"}
    return render(request, "monitoring/application_form.html", context, status=status)


@login_required
@require_GET
def application_list_view(request: HttpRequest) -> HttpResponse:
    _require(request, Permission.VIEW_HOUSEHOLDS)
    status = request.GET.get("status", "")
    if status not in ApplicationStatus.values:
        status = ""
    page = Paginator(applications_in_scope(user=request.user, status=status), 50).get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "status": status,
        "statuses": ApplicationStatus.choices,
        "active_nav": "applications",
        "can_match": role_can(effective_role(request.user), Permission.VIEW_FULL_ID),
        # how applications came in: through a village's QR poster, the page opened directly, a cadre
        "source_counts": application_source_counts(user=request.user, status=status),
    }
    return render(request, "monitoring/application_list.html", context)


@login_required
@require_POST
def application_match_view(request: HttpRequest, pk: int) -> HttpResponse:
    """县级：按申报的完整身份证号在本县范围内匹配一条待匹配的群众申报（生成线索）。"""
    _require(request, Permission.VIEW_FULL_ID)
    try:
        application = application_match(actor=request.user, application_id=pk)
    except Application.DoesNotExist:
        raise ObjectOutOfScope("农户申报") from None
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        assert application.household is not None
        messages.success(
            request,
            f"申报 {application.receipt_no} 已匹配到农户 {application.household.household_no}"
            f"（{application.village.name}），已生成或合并预警线索。",
        )
    return redirect(reverse("monitoring:application_list") + "?status=" + ApplicationStatus.PENDING_MATCH)


@require_GET
def service_worker_view(request: HttpRequest) -> HttpResponse:
    """The PWA's service worker, served under /monitoring/cadre/ so its scope covers the cadre pages."""
    response = HttpResponse(SERVICE_WORKER.read_bytes(), content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/monitoring/cadre/"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def self_report_view(request: HttpRequest) -> HttpResponse:
    """群众自主申报: no login; answers only with a receipt number, never whether the ID is known."""
    form = SelfReportForm(request.POST or None, initial=SelfReportForm.initial_from(request.GET))
    if request.method == "POST":
        id_number = request.POST.get("id_number", "").strip().upper()[:18] or None
        try:
            self_report_rate_check(ip=client_ip(request), id_number=id_number)
        except RateLimited as exc:
            return render(request, "monitoring/self_report.html", {"form": form, "limited": str(exc)}, status=429)
        if form.is_valid():
            try:
                application = self_report_submit(report=form.to_report())
            except ValidationError as exc:
                form_errors_add(form, exc)
            else:
                return render(request, "monitoring/self_report_done.html", {"receipt_no": application.receipt_no})
    status = 400 if form.errors else 200
    return render(request, "monitoring/self_report.html", {"form": form}, status=status)
