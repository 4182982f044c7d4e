"""统计看板: one page for county, city and provincial officials, with drill-down."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from assistance.selectors.dashboard import (
    LEVEL_LABELS,
    Dashboard,
    dashboard_figures,
    dashboard_json,
)
from assistance.services.dashboard_xlsx import dashboard_table_xlsx
from fanpin.core.roles import Permission, effective_role, role_can
from fanpin.core.xlsx import attachment_disposition
from monitoring.views.leads import XLSX, _require

FIRST_YEAR = 2020


def _parse(request: HttpRequest) -> tuple[str, int, dt.date]:
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year", today.year))
    except ValueError:
        year = today.year
    if not FIRST_YEAR <= year <= today.year:
        year = today.year
    return request.GET.get("region", "").strip(), year, today


def _figures(request: HttpRequest) -> Dashboard:
    _require(request, Permission.VIEW_DASHBOARD)
    region, year, today = _parse(request)
    return dashboard_figures(user=request.user, region_code=region, year=year, today=today)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    data = _figures(request)
    today = timezone.localdate()
    context = {
        "d": data,
        "chart_data": dashboard_json(data),
        "years": list(range(today.year, FIRST_YEAR - 1, -1)),
        "child_label": LEVEL_LABELS[data.child_level],
        "level_label": LEVEL_LABELS[data.level],
        # lists with personal data (masked IDs) for roles that may see households
        "may_list": role_can(effective_role(request.user), Permission.VIEW_HOUSEHOLDS),
        "list_region": data.code if data.level in ("TOWNSHIP", "VILLAGE") else "",
        "active_nav": "dashboard",
    }
    return render(request, "assistance/dashboard.html", context)


@login_required
def dashboard_xlsx(request: HttpRequest, table: str) -> HttpResponse:
    data = _figures(request)
    if table not in data.tables:
        raise Http404("没有这个表格。")
    t = data.tables[table]
    content = dashboard_table_xlsx(table=t, region_name=data.name, year=data.year)
    today = f"{timezone.localdate():%Y-%m-%d}"
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = attachment_disposition(
        filename=f"{data.name}-{data.year}年-{t.title}-{today}.xlsx",
        fallback=f"dashboard-{table}-{data.year}-{today}.xlsx",
    )
    return response
