"""Issue 8: a 医保 settlement extract is judged by the system (thresholds), not by the department."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from monitoring.models import DepartmentAlert, HouseholdType, Lead, MedicalSettlement
from tests.conftest import World
from tests.factories import MemberFactory, TargetFactory, make_id_number

pytestmark = pytest.mark.django_db
VILLAGE = "520101001001"


def post(world: World, lines: list[dict[str, Any]], as_user: str = "dept") -> dict[str, Any]:
    client = APIClient()
    client.force_authenticate(world.users[as_user])
    resp = client.post("/api/v1/medical-settlements/", {"settlements": lines}, format="json")
    assert resp.status_code == 201, resp.content
    return resp.json()


def test_thresholds_by_household_and_only_above_become_alerts(world: World) -> None:
    exited = world.households[VILLAGE]
    exited.household_type, exited.exit_year = HouseholdType.EXITED, 2019
    exited.save(update_fields=["household_type", "exit_year"])
    poor = exited.members.get().id_number
    general_hh = world.households["520101001002"]
    general = general_hh.members.get().id_number
    target_member = MemberFactory(household=world.households["520101002001"]).id_number
    TargetFactory(household=world.households["520101002001"])
    lines = [
        {"id_number": poor, "year": 2025, "out_of_pocket": "5000.00"},  # 脱贫户: ≥ 5 000 → alert
        {"id_number": general, "year": 2025, "out_of_pocket": "19999.99"},  # others: < 20 000 → stored only
        {"id_number": target_member, "year": 2025, "out_of_pocket": "6000.00"},  # monitoring target → alert
        {"id_number": make_id_number(), "year": 2025, "out_of_pocket": "25000.00"},  # nobody: 未匹配 alert
    ]
    body = post(world, lines)
    # The department learns nothing about which lines alerted: at 5 000–19 999.99 元 that would
    # tell it who belongs to a 脱贫户 or a monitoring target.
    assert body == {"stored": 4, "alerted": None, "new_alerts": None}
    assert MedicalSettlement.objects.count() == 4
    alerts = DepartmentAlert.objects.all()
    assert {a.id_number for a in alerts} == {poor, target_member, lines[3]["id_number"]}
    assert all(a.alert_type == "MEDICAL" and a.department == "医保" for a in alerts)
    assert alerts.get(id_number=poor).status == "MATCHED"
    assert alerts.get(id_number=lines[3]["id_number"]).status == "UNMATCHED"
    # The 脱贫户 gets a lead; the active monitoring target gets none (it is already monitored).
    assert list(Lead.objects.values_list("household_id", flat=True)) == [exited.pk]
    assert MedicalSettlement.objects.get(id_number=poor).alert is not None
    assert MedicalSettlement.objects.get(id_number=general).alert is None


def test_resent_extract_raises_nothing_new(world: World) -> None:
    line = {"id_number": world.households[VILLAGE].members.get().id_number, "year": 2025, "out_of_pocket": "30000"}
    post(world, [line])
    again = post(world, [line], as_user="county")
    assert again == {"stored": 1, "alerted": 1, "new_alerts": 0}  # county staff see the counts
    assert DepartmentAlert.objects.count() == 1 and MedicalSettlement.objects.count() == 1
    assert len(Lead.objects.get().evidence["DEPARTMENT_ALERT"]) == 1


def test_department_user_does_not_see_the_alerts_made_from_its_extract(world: World) -> None:
    exited = world.households[VILLAGE]
    exited.household_type, exited.exit_year = HouseholdType.EXITED, 2019
    exited.save(update_fields=["household_type", "exit_year"])
    post(world, [{"id_number": exited.members.get().id_number, "year": 2025, "out_of_pocket": "6000.00"}])
    assert DepartmentAlert.objects.count() == 1
    dept, county = APIClient(), APIClient()
    dept.force_authenticate(world.users["dept"])
    county.force_authenticate(world.users["county"])
    assert dept.get("/api/v1/alerts/").json()["count"] == 0
    assert county.get("/api/v1/alerts/").json()["count"] == 1
    page = Client()
    page.force_login(world.users["dept"])
    resp = page.get("/monitoring/alerts/")
    assert resp.status_code == 200
    assert exited.members.get().id_number[-4:] not in resp.content.decode()
