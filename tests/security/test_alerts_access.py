"""Issue 16, hole 8: department alerts (with amounts about named persons) are read through the API by
exactly the roles the 部门预警 page lets in (``Permission.VIEW_ALERTS``: county, department,
administrator); the others get 403 from both, for the list, a single alert, and sending."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from monitoring.models import AlertOrigin, AlertStatus, AlertType, DepartmentAlert
from tests.conftest import World

pytestmark = pytest.mark.django_db

ROLES = ["province", "city", "county", "township", "village", "dept", "admin"]
REFUSED = {"province", "city", "township", "village"}


@pytest.fixture
def an_alert(world: World) -> DepartmentAlert:
    member = world.households["520101001001"].members.get()
    return DepartmentAlert.objects.create(
        idempotency_key="k-1",
        id_number=member.id_number,
        name=member.name,
        alert_type=AlertType.MEDICAL,
        alert_date=dt.date(2025, 3, 14),
        amount=Decimal("23456.00"),
        department="医保",
        origin=AlertOrigin.DEPARTMENT,
        status=AlertStatus.MATCHED,
        member=member,
        region_code="520101001001",
    )


def _clients(world: World, role: str) -> tuple[Client, APIClient]:
    page, api = Client(), APIClient()
    page.force_login(world.users[role])
    api.force_authenticate(world.users[role])
    return page, api


@pytest.mark.parametrize("role", ROLES)
def test_page_and_api_agree_for_every_role(world: World, an_alert: DepartmentAlert, role: str) -> None:
    page, api = _clients(world, role)
    page_status = page.get(reverse("monitoring:alert_list")).status_code
    list_response = api.get("/api/v1/alerts/")
    expected = 403 if role in REFUSED else 200
    assert (page_status, list_response.status_code) == (expected, expected)
    detail = api.get(f"/api/v1/alerts/{an_alert.pk}/")
    if role in REFUSED:
        assert detail.status_code == 403
        assert "23456" not in list_response.content.decode() + detail.content.decode()
        assert "无权查看部门预警" in list_response.json()["detail"]
    elif role in {"county", "admin"}:
        assert detail.status_code == 200 and detail.json()["amount"] == "23456.00"
        assert list_response.json()["count"] == 1


@pytest.mark.parametrize("role", sorted(REFUSED))
def test_refused_roles_cannot_send_alerts_or_settlements(world: World, role: str) -> None:
    _page, api = _clients(world, role)
    member = world.households["520101001001"].members.get()
    item = {
        "idempotency_key": "x-1",
        "id_number": member.id_number,
        "name": member.name,
        "alert_type": "MEDICAL",
        "alert_date": "2025-03-14",
        "amount": "100.00",
    }
    assert api.post("/api/v1/alerts/", {"alerts": [item]}, format="json").status_code == 403
    assert api.post("/api/v1/alerts/", {"alerts": "not a list"}, format="json").status_code == 403  # before the body
    line = {"id_number": member.id_number, "year": 2024, "out_of_pocket": "100.00"}
    assert api.post("/api/v1/medical-settlements/", {"settlements": [line]}, format="json").status_code == 403
    assert not DepartmentAlert.objects.exists()
