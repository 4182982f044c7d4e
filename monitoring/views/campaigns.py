"""回头看 / 信息采集 campaigns: the list, the county's start form, the campaign page (completion per
township and village), a village's task list, closing, and the export."""

from __future__ import annotations

import io
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fanpin.core.roles import Permission, effective_role, role_can
from fanpin.core.scoping import sees_everything
from fanpin.web.errors import form_errors_add
from fanpin.web.mixins import permission_require
from monitoring.forms_campaigns import CampaignStartForm
from monitoring.models import Campaign, CampaignState
from monitoring.selectors.campaigns import (
    campaign_completion,
    campaign_due_default,
    campaign_for_user,
    campaign_start_counties,
    campaign_start_villages,
    campaign_village_tasks,
    campaigns_visible,
)
from monitoring.services.campaigns import (
    SUBMITTED_ONCE,
    campaign_close,
    campaign_export,
    campaign_may_start,
    campaign_start,
)
from monitoring.views.exports import attachment, dated_names

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
@require_GET
def campaign_list_view(request: HttpRequest) -> HttpResponse:
    permission_require(request, Permission.VIEW_HOUSEHOLDS)
    campaigns = campaigns_visible(user=request.user)
    page = Paginator(campaigns, 30).get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "campaigns": page.object_list,
        "can_start": campaign_may_start(request.user),
        "today": timezone.localdate(),
        "active_nav": "campaigns",
    }
    return render(request, "monitoring/campaigns/list.html", context)


# The start form's fields a "show this county's villages" round trip carries over (no JavaScript).
KEPT_FIELDS = ("county", "kind", "name", "year", "selection", "line_factor", "started_on", "due_on", "client_uuid")


@login_required
@require_http_methods(["GET", "POST"])
def campaign_start_view(request: HttpRequest) -> HttpResponse:
    """The start form.  A county user picks among their county's villages; an administrator first
    chooses the county (``?county=`` with htmx, which swaps in the picker alone, or the 显示该县的村
    button without JavaScript, which keeps what was typed)."""
    if not campaign_may_start(request.user):
        raise PermissionDenied("只有县级乡村振兴部门可以发起回头看或信息采集。")
    show_county = sees_everything(request.user)
    own_county = str(getattr(request.user, "region_id", None) or "")
    counties = campaign_start_counties(user=request.user) if show_county else []
    if request.method == "POST" and request.POST.get("action") == "villages":  # choose the county, no JS
        initial: dict[str, Any] = {name: request.POST.get(name) for name in KEPT_FIELDS if request.POST.get(name)}
        initial |= {"villages": request.POST.getlist("villages"), "townships": request.POST.getlist("townships")}
        form = CampaignStartForm(initial=initial, show_county=show_county, counties=counties)
    elif request.method == "POST":
        form = CampaignStartForm(request.POST, show_county=show_county, counties=counties)
    else:
        initial = {"county": request.GET["county"]} if show_county and request.GET.get("county") else {}
        form = CampaignStartForm(initial=initial, show_county=show_county, counties=counties)
    if form.is_bound and form.is_valid():
        try:
            campaign = campaign_start(actor=request.user, data=form.to_input(county_code=own_county))
        except ValidationError as exc:
            form_errors_add(form, exc)
            if getattr(exc, "code", None) == SUBMITTED_ONCE:  # a new form: submitted again, it starts another campaign
                form.data = request.POST.copy()
                form.data["client_uuid"] = str(uuid.uuid4())
        else:
            messages.success(request, f"已发起“{campaign.name}”，共 {campaign.task_count} 户分派到各村。")
            return redirect("monitoring:campaign", pk=campaign.pk)
    county_code = str(form["county"].value() or "") if show_county else own_county
    townships = campaign_start_villages(user=request.user, county_code=county_code)
    county_chosen = bool(townships) or not show_county
    today = timezone.localdate()
    default_due = campaign_due_default(county_code=county_code, started_on=today) if county_chosen else None
    context = {
        "form": form,
        "townships": townships,
        "county_chosen": county_chosen,
        "chosen_villages": form.chosen("villages"),
        "chosen_townships": form.chosen("townships"),
        "default_due": default_due,
        "active_nav": "campaigns",
    }
    return render(request, "monitoring/campaigns/start.html", context)


def _detail(request: HttpRequest, campaign: Campaign, **extra: Any) -> HttpResponse:
    today = timezone.localdate()
    context = {
        "campaign": campaign,
        "completion": campaign_completion(user=request.user, campaign=campaign, today=today),
        "can_close": campaign_may_start(request.user) and campaign.state == "OPEN",
        "can_export": role_can(effective_role(request.user), Permission.EXPORT_DATA),
        "today": today,
        "active_nav": "campaigns",
        "close_ask": False,
        "close_reason": "",
        **extra,
    }
    return render(request, "monitoring/campaigns/detail.html", context)


@login_required
@require_GET
def campaign_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    permission_require(request, Permission.VIEW_HOUSEHOLDS)
    return _detail(request, campaign_for_user(user=request.user, pk=pk))


@login_required
@require_GET
def campaign_village_view(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    permission_require(request, Permission.VIEW_HOUSEHOLDS)
    campaign = campaign_for_user(user=request.user, pk=pk)
    village, tasks = campaign_village_tasks(user=request.user, campaign=campaign, village_code=code)
    page = Paginator(tasks, 100).get_page(request.GET.get("page"))
    today = timezone.localdate()
    context = {
        "campaign": campaign,
        "village": village,
        "page_obj": page,
        "tasks": page.object_list,
        "can_visit": role_can(effective_role(request.user), Permission.RECORD_VISITS),
        "overdue_now": today > campaign.due_on,
        "active_nav": "campaigns",
    }
    return render(request, "monitoring/campaigns/village.html", context)


@login_required
@require_POST
def campaign_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    """结束活动 with ``confirm=yes`` (the dialog's button).  Without it (no JavaScript, a replayed
    form) nothing ends: the campaign's page answers, asking for the confirmation and keeping the
    note.  A campaign already ended answers 409 with the day it ended (the service says so)."""
    if not campaign_may_start(request.user):
        raise PermissionDenied("只有县级乡村振兴部门可以结束活动。")
    campaign = campaign_for_user(user=request.user, pk=pk)
    reason = request.POST.get("reason", "")
    if campaign.state == CampaignState.OPEN and request.POST.get("confirm") != "yes":
        return _detail(request, campaign, close_ask=True, close_reason=reason[:200])
    campaign = campaign_close(actor=request.user, campaign_id=campaign.pk, today=timezone.localdate(), reason=reason)
    messages.success(request, f"活动“{campaign.name}”已结束。")
    return redirect("monitoring:campaign", pk=campaign.pk)


@login_required
@require_GET
def campaign_xlsx_view(request: HttpRequest, pk: int) -> HttpResponse:
    permission_require(request, Permission.EXPORT_DATA)
    campaign = campaign_for_user(user=request.user, pk=pk)
    buffer = io.BytesIO()
    campaign_export(user=request.user, campaign_id=campaign.pk, output=buffer, today=timezone.localdate())
    filename, fallback = dated_names(f"{campaign.name}-完成情况", f"campaign-{campaign.pk}")
    return attachment(HttpResponse(buffer.getvalue(), content_type=XLSX), filename=filename, fallback=fallback)
