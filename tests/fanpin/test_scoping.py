"""SPEC §1: a user sees their region and below, never beside or above — pages, admin and API."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import ROLE_REGIONS, VILLAGES, World

pytestmark = pytest.mark.django_db

ROLES = list(ROLE_REGIONS)


def login(client: Client, world: World, role: str) -> Client:
    client.force_login(world.users[role])
    return client


def listed_household_nos(html: str, world: World) -> set[str]:
    return {h.household_no for h in world.households.values() if h.household_no in html}


@pytest.mark.parametrize("role", ROLES)
def test_household_list_shows_exactly_the_users_region(client: Client, world: World, role: str) -> None:
    prefix = ROLE_REGIONS[role][2]
    response = login(client, world, role).get(reverse("monitoring:household_list"))
    assert response.status_code == 200
    assert listed_household_nos(response.content.decode(), world) == world.visible(prefix)


@pytest.mark.parametrize("role", ROLES)
def test_household_page_outside_region_is_404(client: Client, world: World, role: str) -> None:
    prefix = ROLE_REGIONS[role][2]
    login(client, world, role)
    for code, household in world.households.items():
        response = client.get(reverse("monitoring:household_detail", args=[household.pk]))
        expected = 200 if code.startswith(prefix) else 404
        assert response.status_code == expected, (role, code)


@pytest.mark.parametrize("role", ROLES)
def test_api_households_scoped(client: Client, world: World, role: str) -> None:
    prefix = ROLE_REGIONS[role][2]
    login(client, world, role)
    response = client.get("/api/v1/households/")
    assert response.status_code == 200
    data = response.json()
    assert {row["household_no"] for row in data["results"]} == world.visible(prefix)
    assert data["count"] == len(world.visible(prefix))
    for code, household in world.households.items():
        detail = client.get(f"/api/v1/households/{household.pk}/")
        assert detail.status_code == (200 if code.startswith(prefix) else 404), (role, code)


@pytest.mark.parametrize("role", ROLES)
def test_api_regions_scoped(client: Client, world: World, role: str) -> None:
    prefix = ROLE_REGIONS[role][2]
    login(client, world, role)
    codes = {row["code"] for row in client.get("/api/v1/regions/?page_size=500").json()["results"]}
    assert codes
    assert all(code.startswith(prefix) for code in codes)
    assert ROLE_REGIONS[role][1] in codes


@pytest.mark.parametrize("role", ["county", "township"])
def test_admin_changelist_scoped(client: Client, world: World, role: str) -> None:
    prefix = ROLE_REGIONS[role][2]
    login(client, world, role)
    response = client.get(reverse("admin:monitoring_household_changelist"))
    assert response.status_code == 200
    assert listed_household_nos(response.content.decode(), world) == world.visible(prefix)
    outside = next(h for code, h in world.households.items() if not code.startswith(prefix))
    response = client.get(reverse("admin:monitoring_household_change", args=[outside.pk]))
    # Django's admin redirects to its index with a message for objects outside the queryset.
    assert response.status_code == 302
    response = client.get(reverse("admin:monitoring_household_change", args=[outside.pk]), follow=True)
    assert outside.household_no not in response.content.decode()


@pytest.mark.parametrize("role", ["province", "city", "village", "dept"])
def test_admin_refused_for_non_staff_roles(client: Client, world: World, role: str) -> None:
    login(client, world, role)
    response = client.get(reverse("admin:monitoring_household_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_admin_sees_everything(client: Client, world: World) -> None:
    login(client, world, "admin")
    response = client.get(reverse("monitoring:household_list"))
    assert listed_household_nos(response.content.decode(), world) == world.visible("")
    assert client.get("/api/v1/households/").json()["count"] == len(VILLAGES)


def test_department_user_sees_no_household_data(client: Client, world: World) -> None:
    login(client, world, "dept")
    assert client.get(reverse("monitoring:household_list")).status_code == 403
    assert client.get("/api/v1/households/").json()["count"] == 0
    household = world.households["520101001001"]
    assert client.get(f"/api/v1/households/{household.pk}/").status_code == 404


def test_anonymous_is_sent_to_login(client: Client, world: World) -> None:
    response = client.get(reverse("monitoring:household_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert client.get("/api/v1/households/").status_code in (401, 403)


def test_masked_id_numbers_on_household_page(client: Client, world: World) -> None:
    household = world.households["520101001001"]
    member = household.members.get()
    login(client, world, "county")
    html = client.get(reverse("monitoring:household_detail", args=[household.pk])).content.decode()
    assert member.id_number not in html
    assert f"{member.id_number[:6]}********{member.id_number[-4:]}" in html
    api = client.get(f"/api/v1/households/{household.pk}/").json()
    assert api["members"][0]["id_number"] == f"{member.id_number[:6]}********{member.id_number[-4:]}"
