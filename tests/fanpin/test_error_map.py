"""One error map (fanpin.web.errors): the kernel's exceptions answer the same on every page and in
every API view — out of scope 404, a refused step 409, bad input 400, no right 403 — with the
message the user needs."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from fanpin.core.scoping import ObjectOutOfScope, out_of_scope_message
from fanpin.web.errors import form_errors_add
from monitoring.models import LeadState
from tests.assistance.helpers import eligible_target
from tests.conftest import World
from tests.monitoring.review_helpers import OUTSIDE, VILLAGE, lead_in

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.fanpin.error_map_urls")]


def page_client(world: World, role: str = "county") -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def api_client(world: World, role: str = "county") -> APIClient:
    client = APIClient()
    client.force_authenticate(world.users[role])
    return client


# -- the map, exception by exception ---------------------------------------------------------------
PAGE_CASES = [
    ("out_of_scope", 404, "您要访问的内容不存在，或不在您的管辖范围内。"),
    ("transition", 409, "当前状态为“县级已确定”，不能执行“不予纳入”。"),
    ("invalid_field", 400, "金额不能为负数。"),
    ("invalid", 400, "请先选择村。"),
    ("denied", 403, "您的角色不能执行此操作。"),
]


@pytest.mark.parametrize(("kind", "status", "text"), PAGE_CASES, ids=[c[0] for c in PAGE_CASES])
def test_page_answers(world: World, kind: str, status: int, text: str) -> None:
    response = page_client(world).get(f"/error-map/{kind}/")
    assert response.status_code == status
    assert text in response.content.decode()


API_CASES: list[tuple[str, int, dict[str, Any]]] = [
    ("out_of_scope", 404, {"detail": "线索不存在或不在您的管辖范围内。"}),
    ("transition", 409, {"detail": "当前状态为“县级已确定”，不能执行“不予纳入”。"}),
    ("invalid_field", 400, {"amount": ["金额不能为负数。"]}),
    ("invalid", 400, {"detail": "请先选择村。"}),
    ("denied", 403, {"detail": "您的角色不能执行此操作。"}),
]


@pytest.mark.parametrize(("kind", "status", "body"), API_CASES, ids=[c[0] for c in API_CASES])
def test_api_answers(world: World, kind: str, status: int, body: dict[str, Any]) -> None:
    response = api_client(world).get(f"/api/v1/error-map/{kind}/")
    assert response.status_code == status
    assert response.json() == body


def test_refused_page_links_back_to_our_own_page_only(world: World) -> None:
    client = page_client(world)
    own = client.get("/error-map/transition/", headers={"Referer": "http://testserver/monitoring/leads/"})
    assert own.status_code == 409 and 'href="http://testserver/monitoring/leads/"' in own.content.decode()
    foreign = client.get("/error-map/transition/", headers={"Referer": "https://evil.example/"})
    assert foreign.status_code == 409 and "evil.example" not in foreign.content.decode()


def test_out_of_scope_message_is_one_sentence() -> None:
    assert str(ObjectOutOfScope("农户")) == out_of_scope_message("农户") == "农户不存在或不在您的管辖范围内。"
    assert str(ObjectOutOfScope()) == "对象不存在或不在您的管辖范围内。"


# -- the real pages and API views let the exceptions through ----------------------------------------
def test_lead_outside_the_region_is_404_on_the_page_and_in_the_api(world: World) -> None:
    lead = lead_in(world.households[OUTSIDE])
    assert page_client(world).get(reverse("monitoring:lead_detail", args=[lead.pk])).status_code == 404
    response = api_client(world).post(f"/api/v1/leads/{lead.pk}/reject/", {"opinion": "不符合"}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "线索不存在或不在您的管辖范围内。"}
    lead.refresh_from_db()
    assert lead.state == LeadState.NEW


def test_visit_for_a_household_outside_is_404_with_the_message(world: World) -> None:
    household = world.households["520101001002"]  # the village cadre's neighbour village
    response = api_client(world, "village").post(
        "/api/v1/visits/",
        {
            "client_uuid": "0b9e4c1e-2f1d-4c55-9a51-7d1f3c0e8a11",
            "household": household.pk,
            "visited_on": "2025-03-01",
            "visitors": "村干部",
        },
        format="json",
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "农户不存在或不在您的管辖范围内。"}


def test_service_out_of_scope_on_a_page_is_404(world: World) -> None:
    """The service refuses a target outside the village (ObjectOutOfScope); the page answers 404."""
    target = eligible_target(world.households["520101001002"])
    response = page_client(world, "village").post(
        reverse("assistance:elimination_propose", args=[target.pk]), {"method": "ASSISTED", "opinion": ""}
    )
    assert response.status_code == 404


def test_dashboard_region_outside_is_404(world: World) -> None:
    response = page_client(world, "county").get("/dashboard/", {"region": "520102000000"})
    assert response.status_code == 404


def test_refused_step_in_the_api_is_409_with_the_state(world: World) -> None:
    lead = lead_in(world.households[VILLAGE], LeadState.CONFIRMED)
    response = api_client(world).post(f"/api/v1/leads/{lead.pk}/reject/", {"opinion": "不符合"}, format="json")
    assert response.status_code == 409
    assert "县级已确定" in response.json()["detail"]


def test_page_without_the_right_says_why(world: World) -> None:
    response = page_client(world, "dept").get(reverse("monitoring:household_list"))
    assert response.status_code == 403
    assert "您的角色无权访问此页面。" in response.content.decode()


# -- the form-errors helper --------------------------------------------------------------------------
class AmountForm(forms.Form):
    amount = forms.DecimalField()


def test_form_errors_go_next_to_their_field_or_on_top() -> None:
    form = AmountForm({"amount": "5"})
    assert form.is_valid()
    form_errors_add(form, ValidationError({"amount": "金额超过上限。", "household": "该户已迁出。"}))
    assert form.errors["amount"] == ["金额超过上限。"]
    assert form.non_field_errors() == ["该户已迁出。"]
    other = AmountForm({"amount": "5"})
    assert other.is_valid()
    form_errors_add(other, ValidationError(["第一条。", "第二条。"]))
    assert other.non_field_errors() == ["第一条。", "第二条。"]
