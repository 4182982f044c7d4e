"""Rotating SECRET_KEY (docs/operations.md): the old key stays valid as a fallback, so users stay logged in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import World

ROOT = Path(__file__).resolve().parents[2]


def test_fallbacks_come_from_the_environment() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "fanpin.settings", "SECRET_KEY": "new-key"}
    code = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY_FALLBACKS)"
    with_old = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**env, "SECRET_KEY_FALLBACKS": " old-key-1 , old-key-2 "},
    )  # fmt: skip
    assert with_old.stdout.strip().splitlines()[-1] == "['old-key-1', 'old-key-2']", with_old.stderr[-2000:]
    without = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={k: v for k, v in env.items() if k != "SECRET_KEY_FALLBACKS"},
    )  # fmt: skip
    assert without.stdout.strip().splitlines()[-1] == "[]", without.stderr[-2000:]


@pytest.mark.django_db
def test_a_logged_in_user_stays_logged_in_across_a_rotation(world: World, settings: Any) -> None:
    settings.SECRET_KEY = "the-old-key-" + "x" * 40
    settings.SECRET_KEY_FALLBACKS = []
    home = reverse("home")
    active, away = Client(), Client()  # both log in under the old key
    active.force_login(world.users["county"])
    away.force_login(world.users["township"])

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "the-new-key-" + "y" * 40, [settings.SECRET_KEY]
    # the session's hash was made with the old key: still valid, and Django re-signs it with the new one
    assert active.get(home).status_code == 200

    settings.SECRET_KEY_FALLBACKS = []  # the old key removed
    assert active.get(home).status_code == 200  # re-signed while the fallback was there
    response = away.get(home)  # not seen during the fallback period: logged out, not broken
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
