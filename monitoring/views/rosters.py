"""民政 roster pages: the lines (county: its region's, 未匹配 first to act on; a 民政 user: its own
submitted lines: its own name, masked 身份证号, source row and match status; nothing of households)
and the dashboard's two work lists."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode

from fanpin.core.roles import Permission, effective_role, role_can
from fanpin.core.typed import ascii_int
from monitoring.models import AlertStatus, AssistanceCategory
from monitoring.selectors.rosters import (
    low_income_unvisited,
    rosters_may_view,
    rosters_visible,
    shows_household_data,
    targets_uncovered,
)


def _may_see_work_lists(request: HttpRequest) -> bool:
    return role_can(effective_role(request.user), Permission.VIEW_HOUSEHOLDS)


@login_required
def roster_list(request: HttpRequest) -> HttpResponse:
    if not rosters_may_view(user=request.user):
        raise PermissionDenied("您的角色无权查看民政救助名单。")
    status = request.GET.get("status", "")
    category = request.GET.get("category", "")
    qs = rosters_visible(user=request.user)
    status = status if status in AlertStatus.values else ""
    category = category if category in AssistanceCategory.values else ""
    if status:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category=category)
    # 未匹配 first (UNMATCHED sorts after MATCHED): the lines the county has to act on
    page = Paginator(qs.order_by("-status", "-start_date", "id"), 50).get_page(request.GET.get("page"))
    query = {k: v for k, v in (("status", status), ("category", category)) if v}
    context = {
        "page_obj": page,
        "status": status,
        "category": category,
        "statuses": AlertStatus.choices,
        "categories": AssistanceCategory.choices,
        "household_data": shows_household_data(user=request.user),
        "work_lists": _may_see_work_lists(request),
        "querystring": urlencode(query),
        "active_nav": "rosters",
    }
    return render(request, "monitoring/rosters/list.html", context)


def _year(request: HttpRequest) -> int:
    default = timezone.localdate().year - 1  # the latest year with annual income data
    year = ascii_int(request.GET.get("year", ""))
    return year if year is not None and 2000 <= year <= 2100 else default


@login_required
def roster_uncovered(request: HttpRequest) -> HttpResponse:
    """Targets not covered by 低保/特困 while below their line (the decision record says why)."""
    if not _may_see_work_lists(request):
        raise PermissionDenied("您的角色无权查看农户名单。")
    year = _year(request)
    page = Paginator(targets_uncovered(user=request.user, year=year), 50).get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "year": year,
        "querystring": urlencode({"year": year}),
        "active_nav": "rosters",
        "may_view_rosters": rosters_may_view(user=request.user),
    }
    return render(request, "monitoring/rosters/uncovered.html", context)


@login_required
def roster_unvisited(request: HttpRequest) -> HttpResponse:
    """Low-income households (a current 民政 status) that no visit has reached."""
    if not _may_see_work_lists(request):
        raise PermissionDenied("您的角色无权查看农户名单。")
    page = Paginator(low_income_unvisited(user=request.user), 50).get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "querystring": "",
        "active_nav": "rosters",
        "may_view_rosters": rosters_may_view(user=request.user),
    }
    return render(request, "monitoring/rosters/unvisited.html", context)
