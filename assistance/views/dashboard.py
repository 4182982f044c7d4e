"""统计看板: one page for county, city and provincial officials, with drill-down."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from assistance.selectors.dashboard import (
    LEVEL_LABELS,
    PANELS,
    Dashboard,
    dashboard_figures,
    dashboard_json,
    dashboard_table,
)
from assistance.services.dashboard_xlsx import dashboard_table_xlsx
from fanpin.core.roles import Permission, effective_role, role_can
from fanpin.core.typed import ascii_int
from fanpin.core.xlsx import attachment_disposition
from monitoring.views.leads import XLSX, _require

FIRST_YEAR = 2020


def _parse(request: HttpRequest) -> tuple[str, int, dt.date]:
    today = timezone.localdate()
    year = ascii_int(request.GET.get("year")) or today.year
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
    _require(request, Permission.VIEW_DASHBOARD)
    if table not in PANELS:
        raise Http404("没有这个表格。")
    region, year, today = _parse(request)
    name, t = dashboard_table(user=request.user, region_code=region, key=table, year=year, today=today)
    content = dashboard_table_xlsx(table=t, region_name=name, year=year)
    day = f"{today:%Y-%m-%d}"
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = attachment_disposition(
        filename=f"{name}-{year}年-{t.title}-{day}.xlsx",
        fallback=f"dashboard-{table}-{year}-{day}.xlsx",
    )
    return response
