"""Login hardening: lockout after repeated failures, session expiry, production settings."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.conftest import World

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def attempt(client: Client, username: str, password: str):  # type: ignore[no-untyped-def]
    return client.post(reverse("login"), {"username": username, "password": password})


def test_wrong_password_message_is_chinese(client: Client, world: World) -> None:
    response = attempt(client, "county", "wrong-password")
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_lockout_after_repeated_failures(client: Client, world: World) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "county", "wrong-password")
    # even the right password is refused now, with a clear message
    response = attempt(client, "county", "pw-test-2020")
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    # another account is not locked
    assert attempt(Client(), "township", "pw-test-2020").status_code == 302


def test_successful_login_works_and_sessions_expire(client: Client, world: World) -> None:
    response = attempt(client, "county", "pw-test-2020")
    assert response.status_code == 302
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert settings.SESSION_COOKIE_AGE <= 12 * 3600


def test_security_headers_on_pages(client: Client, world: World) -> None:
    client.force_login(world.users["county"])
    response = client.get(reverse("monitoring:household_list"))
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.slow
def test_production_settings_pass_check_deploy() -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "DJANGO_SETTINGS_MODULE", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "fanpin.settings",
            "SECRET_KEY": secrets.token_urlsafe(60),
            "ALLOWED_HOSTS": "fanpin.example.gov.cn",
            # production as docs/operations.md sets it up: behind the office's HTTPS proxy
            # (without it fanpin.W001 warns of a redirect loop: tests/security/test_deploy_checks.py)
            "TRUST_X_FORWARDED_PROTO": "1",
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_is_off_unless_set() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env["DJANGO_SETTINGS_MODULE"] = "fanpin.settings"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.strip() == "False", result.stderr
