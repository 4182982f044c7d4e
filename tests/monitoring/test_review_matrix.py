"""Acceptance 1: every role × every transition × every state, through the pages and the API.

Only the allowed combinations (the table below, written from SPEC §5 independently of
``LEAD_WORKFLOW``) change the lead; every other one is refused and changes nothing.  Leads
outside the user's region answer 404.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from monitoring.models import Household, Lead, LeadState, MonitoringTarget
from tests.conftest import World
from tests.factories import HouseholdFactory
from tests.monitoring.review_helpers import OUTSIDE, VILLAGE, lead_in, today, verification

pytestmark = [pytest.mark.django_db, pytest.mark.shared_world]  # the world is built once (tests/conftest.py)

ROLES = ["admin", "province", "city", "county", "township", "village", "dept"]
TRANSITIONS = ["verify", "review", "confirm", "confirm_direct", "reject"]
STATES = [s.value for s in LeadState]
TARGET = {
    "verify": "VERIFIED",
    "review": "REVIEWED",
    "confirm": "CONFIRMED",
    "confirm_direct": "CONFIRMED",
    "reject": "REJECTED",
}
# (transition, state) → roles that may apply it (the administrator may do everything).
ALLOWED: dict[tuple[str, str], set[str]] = {
    ("verify", "NEW"): {"village"},
    ("review", "VERIFIED"): {"township"},
    ("confirm", "REVIEWED"): {"county"},
    ("confirm_direct", "NEW"): {"county"},
    ("confirm_direct", "VERIFIED"): {"county"},
    ("reject", "NEW"): {"village", "county"},
    ("reject", "VERIFIED"): {"township", "county"},
    ("reject", "REVIEWED"): {"county"},
}


def allowed(role: str, transition: str, state: str) -> bool:
    roles = ALLOWED.get((transition, state), set())
    return bool(roles) and (role in roles or role == "admin")


def may_ever(role: str, transition: str) -> bool:
    return any(allowed(role, transition, s) for s in STATES)


def page_data(transition: str) -> dict[str, Any]:
    v = verification()
    fields: dict[str, Any] = {
        "verify": {
            "home_checked_on": v.home_checked_on,
            "consent_signed": "yes",
            "appraisal_on": v.appraisal_on,
            "appraisal_outcome": "AGREED",
            "publicity_start": v.publicity_start,
            "publicity_end": v.publicity_end,
            "opinion": "属实",
        },
        "review": {"opinion": "同意"},
        "confirm": {"category": "EDGE_AT_RISK", "risk_types": ["ILLNESS"], "identified_on": today()},
        "confirm_direct": {
            "category": "EDGE_AT_RISK",
            "risk_types": ["ILLNESS"],
            "identified_on": today(),
            "opinion": "急难",
        },
        "reject": {"opinion": "收入已恢复"},
    }[transition]
    if transition in ("confirm", "confirm_direct", "reject"):
        fields["checked"] = "on"  # the 我已核对 box of decisions hard to undo (issue 15 defect 5)
    return {f"{transition}-{k}": (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in fields.items()}


def api_call(transition: str) -> tuple[str, dict[str, Any]]:
    v = verification()
    if transition == "verify":
        return "verify", {
            "home_checked_on": v.home_checked_on,
            "consent_signed": True,
            "appraisal_on": v.appraisal_on,
            "appraisal_outcome": "AGREED",
            "publicity_start": v.publicity_start,
            "publicity_end": v.publicity_end,
        }
    if transition == "review":
        return "review", {"opinion": "同意"}
    if transition == "confirm":
        return "confirm", {"category": "EDGE_AT_RISK", "risk_types": ["ILLNESS"]}
    if transition == "confirm_direct":
        return "confirm", {"category": "EDGE_AT_RISK", "risk_types": ["ILLNESS"], "direct": True, "opinion": "急难"}
    return "reject", {"opinion": "收入已恢复"}


def client_for(world: World, role: str) -> Client:
    return world.client_for(role)


def second_household() -> Household:
    return HouseholdFactory(village_id=VILLAGE)


CASES = [(r, t, s) for r in ROLES for t in TRANSITIONS for s in STATES]


@pytest.mark.parametrize(("role", "transition", "state"), CASES, ids=["-".join(c) for c in CASES])
def test_role_transition_state(world: World, role: str, transition: str, state: str) -> None:
    client = client_for(world, role)
    expected = allowed(role, transition, state)

    # the page
    lead = lead_in(world.households[VILLAGE], state)
    response = client.post(reverse("monitoring:lead_act", args=[lead.pk, transition]), page_data(transition))
    lead.refresh_from_db()
    if expected:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert lead.state == TARGET[transition]
    else:
        # a role that never does this step: 403; the right role in the wrong state: 409 with a message
        assert response.status_code == (409 if may_ever(role, transition) else 403)
        assert lead.state == state

    # the API
    api_lead = lead_in(second_household(), state)
    name, body = api_call(transition)
    response = client.post(reverse(f"lead-{name}", args=[api_lead.pk]), body, content_type="application/json")
    api_lead.refresh_from_db()
    if expected:
        assert response.status_code == 200, response.json()
        assert api_lead.state == TARGET[transition]
        assert response.json()["state"] == TARGET[transition]
    else:
        assert response.status_code == (404 if role == "dept" else 409 if may_ever(role, transition) else 403)
        assert api_lead.state == state
    confirmed = {lead.pk, api_lead.pk} & set(MonitoringTarget.objects.values_list("lead_id", flat=True))
    assert bool(confirmed) == (expected and TARGET[transition] == "CONFIRMED")


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
@pytest.mark.parametrize("transition", TRANSITIONS)
def test_out_of_region_lead_answers_404(world: World, role: str, transition: str) -> None:
    client = client_for(world, role)
    lead = lead_in(world.households[OUTSIDE])
    page = client.post(reverse("monitoring:lead_act", args=[lead.pk, transition]), page_data(transition))
    assert page.status_code == (403 if role == "dept" else 404)  # department users see no lead page at all
    name, body = api_call(transition)
    api = client.post(reverse(f"lead-{name}", args=[lead.pk]), body, content_type="application/json")
    assert api.status_code == 404
    assert client.get(reverse("lead-detail", args=[lead.pk])).status_code == 404
    assert Lead.objects.get(pk=lead.pk).state == LeadState.NEW
