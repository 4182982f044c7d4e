from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from fanpin.roles import Permission, role_can
from monitoring.selectors.overview import overview_counts


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    role = "ADMIN" if user.is_superuser else user.role  # type: ignore[union-attr]
    context = {
        "show_dashboard": role_can(role, Permission.VIEW_DASHBOARD),
        "counts": overview_counts(user=user) if role_can(role, Permission.VIEW_HOUSEHOLDS) else None,
    }
    return render(request, "home.html", context)
