"""Deployment checks (``manage.py check --deploy``, as docs/operations.md has it run before a release)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Warning as CheckWarning
from django.core.checks import register


@register(deploy=True)
def https_behind_a_proxy(app_configs: Any, **kwargs: Any) -> list[CheckWarning]:
    """HTTPS redirect on while X-Forwarded-Proto is not believed: behind a TLS-terminating proxy every
    request looks like plain HTTP and is redirected again and again (docs/operations.md)."""
    if settings.SECURE_SSL_REDIRECT and not getattr(settings, "TRUST_X_FORWARDED_PROTO", False):
        return [
            CheckWarning(
                "SECURE_SSL_REDIRECT is on but X-Forwarded-Proto is not trusted.",
                hint=(
                    "Behind an HTTPS proxy that sets X-Forwarded-Proto, set TRUST_X_FORWARDED_PROTO=1 "
                    "(otherwise every request is redirected to https in a loop); serving HTTPS without "
                    "a proxy, ignore this."
                ),
                id="fanpin.W001",
            )
        ]
    return []
