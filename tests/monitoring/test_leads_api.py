"""/api/v1/leads/ and /api/v1/targets/: codes, masking, scoping, filters, pinned query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from monitoring.models import LeadState
from tests.conftest import World
from tests.factories import HouseholdFactory, LeadFactory, MemberFactory, TargetFactory
from tests.monitoring.review_helpers import VILLAGE, lead_in

pytestmark = pytest.mark.django_db


def api(world: World, role: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.users[role])
    return client


def test_list_is_scoped_paginated_with_upper_case_codes(world: World) -> None:
    lead_in(world.households[VILLAGE], LeadState.VERIFIED)
    lead_in(world.households["530101001001"])
    body = api(world, "county").get("/api/v1/leads/").json()
    assert body["count"] == 1
    row = body["results"][0]
    assert (row["state"], row["sources"], row["rules_fired"], row["suggested_category"]) == (
        "VERIFIED",
        ["SCREENING"],
        ["LOW_INCOME"],
        "EDGE_AT_RISK",
    )
    assert row["village"] == VILLAGE and row["head_name"] == "户主001001"
    assert api(world, "dept").get("/api/v1/leads/").json()["count"] == 0


def test_detail_masks_id_numbers(world: World) -> None:
    hh = world.households[VILLAGE]
    lead = lead_in(hh)
    body = api(world, "village").get(f"/api/v1/leads/{lead.pk}/").json()
    member = hh.members.get()
    assert body["members"][0]["id_number"] == f"{member.id_number[:6]}********{member.id_number[-4:]}"
    assert member.id_number not in str(body)


def test_filters(world: World) -> None:
    lead_in(world.households[VILLAGE], raised_at=timezone.now() - dt.timedelta(days=30))
    lead_in(world.households["520101002001"], LeadState.REVIEWED, sources=["VISIT"], rules_fired=[])
    client = api(world, "county")

    def count(**params: str) -> int:
        return int(client.get("/api/v1/leads/", params).json()["count"])

    assert count(state="REVIEWED") == 1
    assert count(source="VISIT") == 1
    assert count(rule="LOW_INCOME") == 1
    assert count(township="520101001000") == 1
    assert count(village=VILLAGE) == 1
    assert count(overdue="true") == 1
    assert count(category="EDGE_AT_RISK") == 2
    assert client.get("/api/v1/leads/", {"state": "new"}).status_code == 400  # codes are upper-case


def test_transition_errors_are_clear(world: World) -> None:
    lead = lead_in(world.households[VILLAGE])
    client = api(world, "village")
    response = client.post(f"/api/v1/leads/{lead.pk}/reject/", {"opinion": ""}, format="json")
    assert response.status_code == 400
    response = client.post(
        f"/api/v1/leads/{lead.pk}/verify/",
        {
            "home_checked_on": "2024-01-01",
            "consent_signed": True,
            "appraisal_on": "2024-01-02",
            "appraisal_outcome": "AGREED",
            "publicity_start": "2024-01-02",
            "publicity_end": "2024-01-04",
        },
        format="json",
    )
    assert response.status_code == 400 and "公示期不少于 5 天" in response.json()["publicity_end"][0]
    response = api(world, "county").post(
        f"/api/v1/leads/{lead.pk}/confirm/", {"category": "EDGE_AT_RISK", "risk_types": ["ILLNESS"]}, format="json"
    )
    assert response.status_code == 409 and "待核实" in response.json()["detail"]


def test_lead_list_query_count_is_pinned(world: World, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    for _ in range(30):
        hh = HouseholdFactory(village_id=VILLAGE)
        MemberFactory(household=hh, relation="HEAD")
        LeadFactory(household=hh)
    client = api(world, "county")
    with django_assert_num_queries(2):  # count, page (household, village, township joined; head name subquery)
        assert len(client.get("/api/v1/leads/").json()["results"]) == 30


def test_lead_detail_query_count_is_pinned(world: World, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    lead = lead_in(world.households[VILLAGE])
    client = api(world, "county")
    with django_assert_num_queries(3):  # lead, members, targets
        client.get(f"/api/v1/leads/{lead.pk}/")


def test_targets_api(world: World, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    TargetFactory(household=world.households[VILLAGE], risk_types=["ILLNESS", "DISASTER"], sources=["VISIT"])
    TargetFactory(household=world.households["530101001001"])
    client = api(world, "county")
    with django_assert_num_queries(2):
        body = client.get("/api/v1/targets/").json()
    assert body["count"] == 1
    assert body["results"][0]["category"] == "EDGE_AT_RISK" and body["results"][0]["status"] == "ACTIVE"
    assert client.get("/api/v1/targets/", {"risk_type": "DISASTER"}).json()["count"] == 1
    assert client.get("/api/v1/targets/", {"risk_type": "EDUCATION"}).json()["count"] == 0
