"""部门预警 page: the county's alerts (unmatched first to act on) or a department's own
submissions (match status only)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from monitoring.models import AlertStatus
from monitoring.selectors.alerts import alerts_may_view, alerts_visible, shows_household_data


@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    if not alerts_may_view(user=request.user):
        raise PermissionDenied("您的角色无权查看部门预警。")
    status = request.GET.get("status", "")
    qs = alerts_visible(user=request.user)
    if status in AlertStatus.values:
        qs = qs.filter(status=status)
    else:
        status = ""
    page = Paginator(qs.order_by("-created_at", "-id"), 50).get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "status": status,
        "statuses": AlertStatus.choices,
        "household_data": shows_household_data(user=request.user),
        "querystring": f"status={status}" if status else "",
        "active_nav": "alerts",
    }
    return render(request, "monitoring/alert_list.html", context)
