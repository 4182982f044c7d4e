from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from assistance.selectors.todo import home_todo
from fanpin.core.roles import Permission, Role, role_can
from monitoring.selectors.overview import overview_counts


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    role = "ADMIN" if user.is_superuser else user.role  # type: ignore[union-attr]
    if role == Role.VILLAGE:  # a village cadre's daily page is 村级工作台 (after login too: LOGIN_REDIRECT_URL)
        return redirect("monitoring:cadre_home")
    context = {
        "show_dashboard": role_can(role, Permission.VIEW_DASHBOARD),
        "counts": overview_counts(user=user) if role_can(role, Permission.VIEW_HOUSEHOLDS) else None,
        "todo": home_todo(user=user),
    }
    return render(request, "home.html", context)


class LogoutView(auth_views.LogoutView):
    """Logout also tells the browser to drop this site's HTTP cache (pages with personal data, the
    back button's copies).  Not "storage": it would also delete a village cadre's unsent visits
    (IndexedDB); the service worker's page copies are deleted by the sign-in page (static/js/session-end.js,
    docs/decisions/2026-12-03-logout-and-offline-copies.md)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = '"cache"'
        return response


@require_safe
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says: send them to the icon in static/."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))
