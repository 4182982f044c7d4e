"""A NUL character in a form or query value is refused with a message (400) before any view runs:
PostgreSQL cannot store it, and views that pass a value straight to a service would answer 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from monitoring.models import ChangeKind, ChangeSource, HouseholdChange
from tests.conftest import World

pytestmark = pytest.mark.django_db


def test_a_nul_in_a_reason_posted_to_a_service_is_refused_with_a_message(world: World) -> None:
    hh = world.households["520101001001"]
    change = HouseholdChange.objects.create(
        kind=ChangeKind.TYPE,
        household=hh,
        region_code=hh.village_id,
        before={"household_type": hh.household_type, "exit_year": hh.exit_year},
        after={"household_type": "EDGE", "exit_year": None},
        source=ChangeSource.IMPORT,
    )
    county = world.client_for("county")
    url = reverse("monitoring:household_change_decide", args=[change.pk, "reject"])
    answer = county.post(url, {"reason": "驳回\x00"})
    assert answer.status_code == 400 and "控制字符" in answer.content.decode()
    change.refresh_from_db()
    assert change.state == "PENDING"


def test_a_nul_posted_to_the_api_is_refused_and_a_search_with_one_is_no_error(world: World) -> None:
    from django.test import Client

    county = world.client_for("county")
    api = county.post("/api/v1/visits/", {"household": world.households["520101001001"].pk, "notes": "x\x00"})
    assert api.status_code == 400 and "控制字符" in api.json()["detail"]
    # query strings are the pages' own (a search with a NUL finds nothing; filter forms refuse it)
    quiet = Client(raise_request_exception=False)
    quiet.force_login(world.users["county"])
    assert quiet.get(reverse("monitoring:household_list"), {"q": "王\x00"}).status_code < 500
    assert quiet.get("/api/v1/households/", {"q": "王\x00"}).status_code < 500
