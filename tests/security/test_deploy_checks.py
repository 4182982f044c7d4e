"""A deployment that redirects to HTTPS without believing the proxy's X-Forwarded-Proto is warned
at start-up (it would loop behind a TLS-terminating proxy)."""

from __future__ import annotations

from typing import Any

from fanpin.core.checks import https_behind_a_proxy


def test_https_redirect_without_a_trusted_proxy_header_is_warned(settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT, settings.TRUST_X_FORWARDED_PROTO = True, False
    (warning,) = https_behind_a_proxy(None)
    assert warning.id == "fanpin.W001" and "TRUST_X_FORWARDED_PROTO=1" in warning.hint
    settings.TRUST_X_FORWARDED_PROTO = True
    assert https_behind_a_proxy(None) == []
    settings.SECURE_SSL_REDIRECT, settings.TRUST_X_FORWARDED_PROTO = False, False
    assert https_behind_a_proxy(None) == []
