from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

from fanpin.core.roles import effective_role, role_can


def permission_require(request: HttpRequest, permission: str) -> None:
    """Deny (403) unless the user's role holds ``permission``: the one check every page uses."""
    if not role_can(effective_role(request.user), permission):
        raise PermissionDenied("您的角色无权访问此页面。")


class PermissionRequiredMixin:
    """Deny (403) unless the user's role holds ``permission`` (see ``fanpin.roles``)."""

    permission: str = ""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            permission_require(request, self.permission)
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or, when REMOTE_ADDR is one of ``TRUSTED_PROXIES`` (the
    office's reverse proxy), the right-most X-Forwarded-For entry that is not a trusted proxy.  An
    X-Forwarded-For sent from any other address is ignored (anyone can write that header); an entry
    that is not an IP address (``unknown`` from a misconfigured proxy) is none: the access log's
    column holds addresses only."""
    remote = _address(request.META.get("REMOTE_ADDR"))
    trusted = set(getattr(settings, "TRUSTED_PROXIES", []) or [])
    if remote is None or remote not in trusted:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for address in reversed(forwarded):
        if address and address not in trusted:
            return _address(address)
    return remote


def _address(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None


class MaskingMixin:
    """Puts ``mask_ids = True`` into the context; templates use the ``masked_id`` filter."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        context["mask_ids"] = True
        return context
