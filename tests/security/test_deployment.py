"""Issue 16, hole 9: X-Forwarded-Proto is believed only when configured; logout clears the browser's cache."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import World

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "fanpin" / "settings.py"


def proxy_header(monkeypatch: pytest.MonkeyPatch, value: str | None) -> Any:
    """SECURE_PROXY_SSL_HEADER as fanpin/settings.py computes it with TRUST_X_FORWARDED_PROTO=value."""
    if value is None:
        monkeypatch.delenv("TRUST_X_FORWARDED_PROTO", raising=False)
    else:
        monkeypatch.setenv("TRUST_X_FORWARDED_PROTO", value)
    return runpy.run_path(str(SETTINGS_FILE))["SECURE_PROXY_SSL_HEADER"]


@pytest.mark.parametrize("value", [None, "", "0"])
def test_forwarded_proto_from_a_client_is_not_believed_by_default(
    client: Client, settings: Any, monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    settings.SECURE_PROXY_SSL_HEADER = proxy_header(monkeypatch, value)
    settings.SECURE_SSL_REDIRECT = True  # production
    # a plain-HTTP request that claims HTTPS is still plain HTTP: sent to https://, not served
    response = client.get(reverse("login"), HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_forwarded_proto_believed_behind_a_proxy_when_configured(
    client: Client, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SECURE_PROXY_SSL_HEADER = proxy_header(monkeypatch, "1")
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(reverse("login"), HTTP_X_FORWARDED_PROTO="https").status_code == 200
    assert client.get(reverse("login")).status_code == 301  # the proxy's plain-HTTP side is still redirected


@pytest.mark.django_db
def test_logout_tells_the_browser_to_clear_its_cache(client: Client, world: World) -> None:
    client.force_login(world.users["village"])
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert (
        response["Clear-Site-Data"] == '"cache"'
    )  # not "storage": unsent visits stay (see the logout decision record)
    login_page = client.get(response["Location"]).content.decode()
    assert "js/session-end.js" in login_page  # deletes the service worker's page copies
