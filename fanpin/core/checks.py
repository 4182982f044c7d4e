"""System checks: the deployment checks (``manage.py check --deploy``, as docs/operations.md has it run before a
release) and the settings every start checks (FANPIN_TERMS)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error as CheckError
from django.core.checks import Warning as CheckWarning
from django.core.checks import register

from fanpin.core.terms import DEFAULT_TERM_SET, TERM_SETS


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


@register()
def term_set(app_configs: Any, **kwargs: Any) -> list[CheckError]:
    """FANPIN_TERMS names a glossary (fanpin.core.terms): a typo would otherwise fail on the first page."""
    value = str(getattr(settings, "FANPIN_TERMS", DEFAULT_TERM_SET)).strip()
    if value in TERM_SETS:
        return []
    return [
        CheckError(
            f"FANPIN_TERMS is {value!r}, which is no term set.",
            hint=f"Set FANPIN_TERMS to one of {', '.join(sorted(TERM_SETS))} (default {DEFAULT_TERM_SET}).",
            id="fanpin.E101",
        )
    ]
