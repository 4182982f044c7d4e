"""/api/v1/visits/ and /api/v1/applications/ (issue 6)."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from monitoring.models import Application, Lead, Visit
from tests.conftest import World
from tests.factories import HouseholdFactory
from tests.monitoring.test_visits import jpeg_with_gps

pytestmark = pytest.mark.django_db
VILLAGE = "520101001001"


def api(world: World, role: str = "village") -> APIClient:
    client = APIClient()
    client.force_login(world.users[role])
    return client


def body(world: World, key: uuid.UUID, **extra: object) -> dict[str, object]:
    return {
        "client_uuid": str(key),
        "household": world.households[VILLAGE].pk,
        "visited_on": timezone.localdate().isoformat(),
        "visitors": "王书记",
        **extra,
    }


def test_create_is_idempotent_on_client_uuid(world: World) -> None:
    client = api(world)
    key = uuid.uuid4()
    first = client.post("/api/v1/visits/", body(world, key, risk_flag=True, events=["ILLNESS"]), format="json")
    assert first.status_code == 201, first.content
    assert first.json()["lead"] == Lead.objects.get().pk
    again = client.post("/api/v1/visits/", body(world, key, risk_flag=True, events=["ILLNESS"]), format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Visit.objects.count() == 1 and len(Lead.objects.get().evidence["VISIT"]) == 1


def test_json_defaults_every_item_to_secured(world: World) -> None:
    response = api(world).post("/api/v1/visits/", body(world, uuid.uuid4()), format="json")
    assert response.status_code == 201 and response.json()["lead"] is None
    assert Visit.objects.get().all_secure


def test_multipart_like_the_offline_queue_with_a_photo(world: World) -> None:
    data = body(world, uuid.uuid4(), food_secure="on", events=["DISASTER", "OTHER"])
    data["photos"] = [SimpleUploadedFile("p.jpg", jpeg_with_gps(), content_type="image/jpeg")]
    response = api(world).post("/api/v1/visits/", data, format="multipart")
    assert response.status_code == 201, response.content
    visit = Visit.objects.get()
    assert visit.food_secure and not visit.water_secure  # absent box = not secured, as in the form
    assert visit.events == ["DISASTER", "OTHER"] and visit.photos.count() == 1
    assert response.json()["photos"] == 1


def test_another_villages_household_is_404_and_nothing_written(world: World) -> None:
    data = body(world, uuid.uuid4(), risk_flag=True)
    data["household"] = world.households["520101001002"].pk
    response = api(world).post("/api/v1/visits/", data, format="json")
    assert response.status_code == 404
    assert not Visit.objects.exists() and not Lead.objects.exists()


def test_roles_without_the_permission_cannot_create(world: World) -> None:
    response = api(world, "province").post("/api/v1/visits/", body(world, uuid.uuid4()), format="json")
    assert response.status_code == 403


def test_visit_list_is_scoped_and_query_count_is_pinned(world: World, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    for code in ("520101001001", "520101001002"):
        for _ in range(3):
            Visit.objects.create(household=world.households[code], visited_on="2025-03-01", visitors="王")
    client = api(world)
    with django_assert_num_queries(5):  # session, user, count, page (household joined), photos prefetch
        response = client.get("/api/v1/visits/")
    assert response.json()["count"] == 3
    county = api(world, "county").get("/api/v1/visits/").json()
    assert county["count"] == 6


def test_applications_api_create_and_list_masks_ids(world: World, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    client = api(world)
    hh = world.households[VILLAGE]
    response = client.post(
        "/api/v1/applications/",
        {"household": hh.pk, "reason": "ILLNESS", "description": "住院", "amount": "1200.50"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["lead"] == Lead.objects.get(household=hh).pk
    Application.objects.create(
        receipt_no="SB20250101AAAAAAAA",
        channel="PUBLIC",
        status="PENDING_MATCH",
        village_id=VILLAGE,
        applicant_name="赵六",
        id_number="520101198005170011",
        reason="OTHER",
        description="x",
    )
    with django_assert_num_queries(4):  # session, user, count, page (household and village joined)
        rows = client.get("/api/v1/applications/").json()["results"]
    assert {r["status"] for r in rows} == {"MATCHED", "PENDING_MATCH"}
    assert "520101198005170011" not in str(rows) and "5201011********0011" not in str(rows)
    pending = client.get("/api/v1/applications/?status=PENDING_MATCH").json()
    assert pending["count"] == 1


def test_application_create_is_idempotent_on_client_uuid(world: World) -> None:
    """Issue 15: the offline queue may send an application twice (a lost answer): one application, one lead."""
    client = api(world)
    hh = world.households[VILLAGE]
    key = str(uuid.uuid4())
    sent = {"client_uuid": key, "household": hh.pk, "reason": "ILLNESS", "description": "住院"}
    first = client.post("/api/v1/applications/", sent)  # multipart, as the queue sends it
    assert first.status_code == 201, first.content
    again = client.post("/api/v1/applications/", sent)
    assert again.status_code == 200, again.content
    assert again.json()["id"] == first.json()["id"] and again.json()["receipt_no"] == first.json()["receipt_no"]
    assert again.json()["client_uuid"] == key
    application = Application.objects.get()
    lead = Lead.objects.get()
    assert application.lead == lead and application.amount is None
    assert len(lead.evidence["SELF_APPLICATION"]) == 1
    # the same key for another household is refused, nothing written
    second = HouseholdFactory(household_no="H520101001001C", village_id=VILLAGE)
    clash = client.post("/api/v1/applications/", {**sent, "household": second.pk})
    assert clash.status_code == 400 and "client_uuid" in clash.json()
    assert Application.objects.count() == 1 and Lead.objects.count() == 1


def test_the_household_filter_takes_ascii_digits_only(world: World) -> None:
    """``?household=²`` (``"²".isdigit()`` is true, ``int("²")`` fails) is no filter, not a 500."""
    client = api(world)
    client.raise_request_exception = False
    assert client.get("/api/v1/visits/", {"household": "²"}).status_code == 200
