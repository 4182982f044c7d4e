"""Issue 8: API tokens — hashed storage, shown once, scope, revoke, last use, throttling, pages."""

from __future__ import annotations

import hashlib

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client
from rest_framework.test import APIClient

from fanpin.core.api_tokens import token_create, token_revoke
from fanpin.core.models import ApiToken, AuditEntry
from fanpin.core.roles import Role
from tests.conftest import World

pytestmark = pytest.mark.django_db


def client_for(key: str) -> APIClient:
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return c


def test_only_the_hash_is_stored_and_last_use_is_recorded(world: World) -> None:
    made = token_create(actor=world.users["county"], name="民政系统", role=Role.COUNTY, region_code="520101000000")
    token = ApiToken.objects.get()
    assert token.key_hash == hashlib.sha256(made.key.encode()).hexdigest()
    assert made.key not in str(list(ApiToken.objects.values()))
    assert token.last_used_at is None
    assert client_for(made.key).get("/api/v1/households/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert not token.user.has_usable_password()
    assert AuditEntry.objects.filter(object_type="api_token", action="create").exists()


def test_bad_and_revoked_tokens_are_refused(world: World) -> None:
    made = token_create(actor=world.users["county"], name="x", role=Role.COUNTY, region_code="520101000000")
    assert client_for("nope").get("/api/v1/households/").status_code == 401
    token_revoke(actor=world.users["county"], token_id=made.token.pk)
    resp = client_for(made.key).get("/api/v1/households/")
    assert resp.status_code == 401 and "吊销" in resp.json()["detail"]


def test_scope_cannot_exceed_the_creator(world: World) -> None:
    with pytest.raises(ValidationError):
        token_create(actor=world.users["county"], name="x", role=Role.COUNTY, region_code="520102000000")
    with pytest.raises(ValidationError):
        token_create(actor=world.users["county"], name="x", role=Role.PROVINCE, region_code="520101000000")
    with pytest.raises(ValidationError):
        token_create(actor=world.users["admin"], name="x", role=Role.ADMIN, region_code="520101000000")


def test_throttled_per_token(world: World, settings: object) -> None:
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    cache.clear()
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "token": "3/min"}
    SimpleRateThrottle.THROTTLE_RATES = rates
    try:
        one = token_create(actor=world.users["county"], name="a", role=Role.COUNTY, region_code="520101000000")
        two = token_create(actor=world.users["county"], name="b", role=Role.COUNTY, region_code="520101000000")
        codes = [client_for(one.key).get("/api/v1/regions/").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert client_for(two.key).get("/api/v1/regions/").status_code == 200
    finally:
        SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
        cache.clear()


def test_county_manages_tokens_in_the_browser(world: World) -> None:
    browser = Client()
    browser.force_login(world.users["county"])
    resp = browser.post(
        "/tokens/",
        {"name": "县医保局", "role": "DEPT", "region_code": "520101000000", "department": "MEDICAL_INSURANCE"},
    )
    assert resp.status_code == 200
    key = resp.context["new_key"]
    assert key and key in resp.content.decode()
    listing = browser.get("/tokens/").content.decode()
    assert "县医保局" in listing and key not in listing and "从未使用" in listing
    token = ApiToken.objects.get()
    assert token.user.department == "MEDICAL_INSURANCE"
    bad = browser.post("/tokens/", {"name": "", "role": "DEPT", "region_code": "530101000000"})
    assert bad.status_code == 400 and "请更正" in bad.content.decode()
    assert browser.post(f"/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None and "已吊销" in browser.get("/tokens/").content.decode()


def test_village_cannot_manage_tokens(world: World) -> None:
    browser = Client()
    browser.force_login(world.users["village"])
    assert browser.get("/tokens/").status_code == 403
