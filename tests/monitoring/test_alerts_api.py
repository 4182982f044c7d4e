"""Issue 8: department alerts through the API — matching, leads, unmatched, idempotency, scoping."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from fanpin.core.api_tokens import token_create
from fanpin.core.roles import Department, Role
from monitoring.models import AlertStatus, DepartmentAlert, Lead, LeadSource, LeadState, RigidExpenditure
from tests.conftest import World
from tests.factories import MemberFactory, make_id_number
from tests.monitoring.review_helpers import lead_in

pytestmark = pytest.mark.django_db
VILLAGE = "520101001001"


def api(world: World, role: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.users[role])
    return client


def alert(key: str, id_number: str, **extra: Any) -> dict[str, Any]:
    return {
        "idempotency_key": key,
        "id_number": id_number,
        "name": "张三",
        "alert_type": "MEDICAL",
        "alert_date": "2025-03-14",
        "amount": "23456.00",
        **extra,
    }


def head(world: World, village: str = VILLAGE) -> str:
    return world.households[village].members.get().id_number


def test_matched_alert_raises_a_lead_and_records_the_expenditure(world: World) -> None:
    resp = api(world, "dept").post("/api/v1/alerts/", {"alerts": [alert("k1", head(world))]}, format="json")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert (body["matched"], body["unmatched"], body["duplicates"]) == (1, 0, 0)
    assert body["results"][0]["status"] == "MATCHED"
    hh = world.households[VILLAGE]
    lead = Lead.objects.get(household=hh)
    assert lead.state == LeadState.NEW and lead.sources == [LeadSource.DEPARTMENT_ALERT]
    entry = lead.evidence["DEPARTMENT_ALERT"][0]
    assert (entry["department"], entry["alert_type"], entry["alert_date"], entry["amount"]) == (
        "医保",
        "MEDICAL",
        "2025-03-14",
        "23456.00",
    )
    assert "ILLNESS" in lead.suggested_risk_types
    spent = RigidExpenditure.objects.get(household=hh)
    assert spent.amount == Decimal("23456.00") and spent.category == "MEDICAL"
    saved = DepartmentAlert.objects.get()
    assert saved.department == "医保" and saved.expenditure_id == spent.pk and saved.submitted_by == world.users["dept"]


def test_alert_merges_into_the_open_lead(world: World) -> None:
    hh = world.households[VILLAGE]
    open_lead = lead_in(hh)
    api(world, "dept").post("/api/v1/alerts/", {"alerts": [alert("k1", head(world))]}, format="json")
    assert Lead.objects.filter(household=hh).count() == 1
    open_lead.refresh_from_db()
    assert open_lead.sources == ["DEPARTMENT_ALERT", "SCREENING"]
    assert len(open_lead.evidence["DEPARTMENT_ALERT"]) == 1


def test_unmatched_alert_is_kept_and_listed_for_county_and_department(world: World) -> None:
    stranger = make_id_number()
    outside = head(world, "520102001001")  # another county: not matched by a 520101 department
    resp = api(world, "dept").post(
        "/api/v1/alerts/", {"alerts": [alert("u1", stranger), alert("u2", outside)]}, format="json"
    )
    assert resp.json()["unmatched"] == 2
    assert not Lead.objects.exists()
    county = api(world, "county").get("/api/v1/alerts/", {"status": "UNMATCHED"}).json()
    assert county["count"] == 2
    dept = api(world, "dept").get("/api/v1/alerts/").json()
    assert {r["status"] for r in dept["results"]} == {"UNMATCHED"} and dept["count"] == 2
    assert api(world, "admin").get("/api/v1/alerts/").json()["count"] == 2
    # city staff are refused, as on the 部门预警 page (issue 16: one rule, tests/security/test_alerts_access.py)
    assert api(world, "city").get("/api/v1/alerts/").status_code == 403


def test_resend_is_idempotent(world: World) -> None:
    batch = {"alerts": [alert("k1", head(world)), alert("k2", make_id_number())]}
    first = api(world, "dept").post("/api/v1/alerts/", batch, format="json").json()
    second = api(world, "dept").post("/api/v1/alerts/", batch, format="json").json()
    assert second["duplicates"] == 2 and second["matched"] == 0
    assert [r["id"] for r in first["results"]] == [r["id"] for r in second["results"]]
    assert all(r["duplicate"] for r in second["results"])
    assert DepartmentAlert.objects.count() == 2
    assert RigidExpenditure.objects.count() == 1
    lead = Lead.objects.get()
    assert len(lead.evidence["DEPARTMENT_ALERT"]) == 1


def test_department_user_sees_only_status_never_household_data(world: World) -> None:
    client = api(world, "dept")
    client.post("/api/v1/alerts/", {"alerts": [alert("k1", head(world))]}, format="json")
    assert client.get("/api/v1/households/").json()["count"] == 0
    hh = world.households[VILLAGE]
    assert client.get(f"/api/v1/households/{hh.pk}/").status_code == 404
    assert client.get("/api/v1/leads/").json()["count"] == 0
    row = client.get("/api/v1/alerts/").json()["results"][0]
    assert row["status"] == "MATCHED" and row["household_no"] is None and row["id_number_masked"] is None
    assert head(world) not in str(row) and hh.household_no not in str(row)
    county_row = api(world, "county").get("/api/v1/alerts/").json()["results"][0]
    assert county_row["household_no"] == hh.household_no


def test_department_sees_only_its_own_department(world: World) -> None:
    api(world, "county").post(
        "/api/v1/alerts/", {"alerts": [alert("c1", make_id_number(), department="民政")]}, format="json"
    )
    assert api(world, "dept").get("/api/v1/alerts/").json()["count"] == 0
    assert api(world, "county").get("/api/v1/alerts/").json()["count"] == 1


def test_batch_validation(world: World) -> None:
    client = api(world, "dept")
    dup = client.post(
        "/api/v1/alerts/", {"alerts": [alert("k1", head(world)), alert("k1", make_id_number())]}, format="json"
    )
    assert dup.status_code == 400 and "幂等键重复" in str(dup.json())
    bad = client.post("/api/v1/alerts/", {"alerts": [alert("k1", "123")]}, format="json")
    assert bad.status_code == 400 and "id_number" in str(bad.json())
    too_many = client.post("/api/v1/alerts/", {"alerts": [alert(f"k{i}", "x") for i in range(1001)]}, format="json")
    assert too_many.status_code == 400
    assert client.post("/api/v1/alerts/", {"alerts": []}, format="json").status_code == 400
    assert not DepartmentAlert.objects.exists()


def test_village_user_may_not_submit(world: World) -> None:
    resp = api(world, "village").post("/api/v1/alerts/", {"alerts": [alert("k1", head(world))]}, format="json")
    assert resp.status_code == 403


def test_batch_query_count_is_fixed(world: World) -> None:
    hh = world.households[VILLAGE]
    ids = [MemberFactory(household=hh).id_number for _ in range(5)]
    ids_more = [MemberFactory(household=world.households["520101002001"]).id_number for _ in range(20)]

    def send(keys: list[str], prefix: str) -> int:
        client = api(world, "dept")
        batch = {"alerts": [alert(f"{prefix}{i}", n) for i, n in enumerate(keys)]}
        with CaptureQueriesContext(connection) as ctx:
            assert client.post("/api/v1/alerts/", batch, format="json").status_code == 201
        return len(ctx.captured_queries)

    small = send(ids, "a")
    large = send(ids_more + [make_id_number() for _ in range(30)], "b")
    assert small == large


def _token_client(world: World, region: str) -> APIClient:
    made = token_create(
        actor=world.users["county"],
        name="医保系统",
        role=Role.DEPT,
        region_code=region,
        department=Department.MEDICAL_INSURANCE,
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {made.key}")
    return client


def test_token_submits_alerts_in_its_county_only(world: World) -> None:
    client = _token_client(world, "520101000000")
    resp = client.post(
        "/api/v1/alerts/",
        {"alerts": [alert("t1", head(world)), alert("t2", head(world, "520102001001"))]},
        format="json",
    )
    assert [r["status"] for r in resp.json()["results"]] == [AlertStatus.MATCHED, AlertStatus.UNMATCHED]
    assert client.get("/api/v1/households/").json()["count"] == 0


def test_county_token_cannot_reach_another_county(world: World) -> None:
    made = token_create(actor=world.users["admin"], name="县系统", role=Role.COUNTY, region_code="520101000000")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {made.key}")
    mine = world.households[VILLAGE]
    other = world.households["520102001001"]
    assert client.get(f"/api/v1/households/{mine.pk}/").status_code == 200
    assert client.get(f"/api/v1/households/{other.pk}/").status_code == 404
    nos = {h["household_no"] for h in client.get("/api/v1/households/").json()["results"]}
    assert nos == world.visible("520101")


def test_absurd_numbers_are_client_errors_not_server_errors(world: World) -> None:
    # Found by schemathesis: these used to reach the database (OverflowError on SQLite → 500).
    client = api(world, "county")
    assert client.get("/api/v1/assistance/", {"target": "-1.3e197"}).status_code == 400
    assert client.get("/api/v1/assistance/", {"target": str(2**70)}).status_code == 400
    assert client.get("/api/v1/leads/", {"year": "99999999999999999999"}).status_code == 400
    assert client.get(f"/api/v1/leads/{10**30}/").status_code == 404
    assert client.get("/api/v1/alerts/0.5/").status_code == 404


def test_corrected_amount_corrects_the_expenditure_instead_of_adding_one(world: World) -> None:
    """A department resends an alert (same 身份证号, type and date) with a corrected amount: the
    household's rigid expenditure follows the correction, so EXPENDITURE_SPIKE never counts both."""
    person = head(world)
    client = api(world, "dept")
    assert client.post("/api/v1/alerts/", {"alerts": [alert("k1", person)]}, format="json").status_code == 201
    first = DepartmentAlert.objects.get().expenditure
    assert first is not None and first.amount == Decimal("23456.00")

    resp = client.post("/api/v1/alerts/", {"alerts": [alert("k2", person, amount="20000.00")]}, format="json")
    assert resp.status_code == 201, resp.content
    expenditures = RigidExpenditure.objects.filter(household=world.households[VILLAGE])
    assert [(e.pk, e.amount) for e in expenditures] == [(first.pk, Decimal("20000.00"))]
    assert DepartmentAlert.objects.get().expenditure_id == first.pk

    # the amount withdrawn: the expenditure the alert created goes too
    resp = client.post("/api/v1/alerts/", {"alerts": [alert("k3", person, amount=None)]}, format="json")
    assert resp.status_code == 201, resp.content
    assert not RigidExpenditure.objects.filter(household=world.households[VILLAGE]).exists()
    assert DepartmentAlert.objects.get().expenditure is None


def test_a_registry_expenditure_the_alert_matched_is_never_changed(world: World) -> None:
    hh = world.households[VILLAGE]
    member = hh.members.get()
    registry = RigidExpenditure.objects.create(
        household=hh, member=member, category="MEDICAL", occurred_on="2025-03-14", amount=Decimal("23456.00")
    )
    client = api(world, "dept")
    client.post("/api/v1/alerts/", {"alerts": [alert("k1", member.id_number)]}, format="json")
    assert DepartmentAlert.objects.get().expenditure_id == registry.pk  # the same figures: not doubled
    client.post("/api/v1/alerts/", {"alerts": [alert("k2", member.id_number, amount="1000.00")]}, format="json")
    registry.refresh_from_db()
    assert registry.amount == Decimal("23456.00")


def test_correcting_to_the_figures_of_a_registry_row_uses_that_row(world: World) -> None:
    """The corrected amount equals an expenditure the county already recorded: the alert points at
    it and its own row goes (no duplicate, no unique-constraint failure)."""
    hh = world.households[VILLAGE]
    member = hh.members.get()
    registry = RigidExpenditure.objects.create(
        household=hh, member=member, category="MEDICAL", occurred_on="2025-03-14", amount=Decimal("23456.00")
    )
    client = api(world, "dept")
    first = client.post("/api/v1/alerts/", {"alerts": [alert("k1", member.id_number, amount="1000.00")]}, format="json")
    assert first.status_code == 201, first.content
    assert RigidExpenditure.objects.filter(household=hh).count() == 2
    again = client.post("/api/v1/alerts/", {"alerts": [alert("k2", member.id_number)]}, format="json")
    assert again.status_code == 201, again.content
    assert list(RigidExpenditure.objects.filter(household=hh).values_list("pk", flat=True)) == [registry.pk]
    assert DepartmentAlert.objects.get().expenditure_id == registry.pk
