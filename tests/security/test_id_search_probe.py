"""Issue 16, hole 1: a masked 身份证号 must not be recoverable through search (SPEC §1).

The probe: the mask shows ``520101********1234``; a user who may not see full numbers searched the
last 5, 6, … 17 characters, trying the ten digits of each hidden position in turn, and rebuilt the
whole number from which guess found the household.  A search by 身份证号 now matches only the last
4 characters (what the mask shows) or a whole, valid 18-character number, and the whole-number
search of such a user is written to the access log.  Every place that searches households by a
term (the household list, the cadre home, the export, ``/api/v1/households/?search=``) follows the
one rule (``monitoring.selectors.households._household_ids_matching``).
"""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from fanpin.core.idcard import id_check_digit
from fanpin.core.models import AccessLog
from monitoring.models import Household, Member
from tests.conftest import World

pytestmark = pytest.mark.django_db

# Roles that see households but may not see full numbers (fanpin.core.roles: no VIEW_FULL_ID).
MASKED_ROLES = ["province", "city", "township", "village"]
# Those of them with the cadre home (RECORD_VISITS).
CADRE_ROLES = ["township", "village"]
# Those whose visit form searches (a village's form lists its village whole, whatever the term).
PICKER_SEARCH_ROLES = ["township"]


def _target(world: World) -> tuple[Household, Member]:
    household = world.households["520101001001"]  # inside every role's scope above
    return household, household.members.get()


def _other_digit(ch: str) -> str:
    return "0" if ch in "9X" else str(int(ch) + 1)


def _wrong_checks(number: str) -> list[str]:
    """The 18-character numbers with the right first 17 digits and a wrong check character."""
    right = id_check_digit(number[:17])
    return [number[:17] + ch for ch in "0123456789X" if ch != right]


def _wrong_check(number: str) -> str:
    return _wrong_checks(number)[0]


@pytest.fixture(autouse=True)
def _forms_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """The visit form searches instead of listing whenever the scope is larger than this (0: always)."""
    monkeypatch.setattr("monitoring.selectors.cadre.HOUSEHOLD_PICKER_ALL", 0)


def _form_options(client: Client, term: str) -> list[str]:
    response = client.get(reverse("monitoring:visit_new"), {"q": term})
    assert response.status_code == 200
    return re.findall(r'<option value="(\d+)"', response.content.decode())


def _page_rows(client: Client, name: str, term: str) -> list[str]:
    response = client.get(reverse(name), {"q": term})
    assert response.status_code == 200
    return re.findall(r"/monitoring/households/(\d+)/", response.content.decode())


def _api_body(api: APIClient, term: str) -> dict:
    response = api.get("/api/v1/households/", {"search": term})
    assert response.status_code == 200
    return response.json()


def _surfaces(world: World, role: str) -> dict[str, object]:
    """For a role, a function per search surface: term → what the user sees of the answer."""
    user = world.users[role]
    client = Client()
    client.force_login(user)
    api = APIClient()
    api.force_authenticate(user)
    found: dict[str, object] = {
        "household list": lambda term: _page_rows(client, "monitoring:household_list", term),
        "api": lambda term: _api_body(api, term),
    }
    if role in CADRE_ROLES:
        found["cadre home"] = lambda term: _page_rows(client, "monitoring:cadre_home", term)
    if role in PICKER_SEARCH_ROLES:
        found["visit form's household search"] = lambda term: _form_options(client, term)
    return found


@pytest.mark.parametrize("role", MASKED_ROLES)
def test_trailing_characters_beyond_the_mask_tell_nothing(world: World, role: str) -> None:
    """The probe itself: for each hidden position, every guess of its digit gets the same answer,
    and none finds the household."""
    household, member = _target(world)
    number = member.id_number
    for surface, search in _surfaces(world, role).items():
        for n in range(5, 18):
            tail = number[-n:]
            answers = [search(str(d) + tail[1:]) for d in range(10)]  # the ten guesses of one digit
            assert all(a == answers[0] for a in answers), (surface, n)
            assert str(household.pk) not in str(answers[0]) and household.household_no not in str(answers[0])
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("role", MASKED_ROLES)
def test_a_wrong_check_digit_finds_nothing(world: World, role: str) -> None:
    _household, member = _target(world)
    for surface, search in _surfaces(world, role).items():
        for wrong in _wrong_checks(member.id_number):
            answer = search(wrong)
            if isinstance(answer, dict):
                assert answer["count"] == 0, (surface, wrong)
            else:
                assert answer == [], (surface, wrong)
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("role", MASKED_ROLES)
def test_the_last_four_characters_find_the_household(world: World, role: str) -> None:
    household, member = _target(world)
    for surface, search in _surfaces(world, role).items():
        answer = search(member.id_number[-4:].lower())
        if isinstance(answer, dict):
            assert household.household_no in [r["household_no"] for r in answer["results"]], surface
        else:
            assert str(household.pk) in answer, surface
    assert not AccessLog.objects.exists()  # the mask shows these: nothing to log


@pytest.mark.parametrize("role", MASKED_ROLES)
def test_a_whole_valid_number_finds_the_household_and_is_logged(world: World, role: str) -> None:
    household, member = _target(world)
    surfaces = _surfaces(world, role)
    for surface, search in surfaces.items():
        answer = search(member.id_number)
        if isinstance(answer, dict):
            assert [r["household_no"] for r in answer["results"]] == [household.household_no], surface
        else:
            assert answer == [str(household.pk)], surface
    logs = list(AccessLog.objects.order_by("id"))
    assert len(logs) == len(surfaces)  # one row per search, whichever box it came from
    for log in logs:
        assert (log.actor, log.action, log.object_id, log.region_code, log.row_count) == (
            world.users[role],
            AccessLog.Action.VIEW_ID,
            str(member.pk),
            household.village_id,
            1,
        )
        assert household.household_no in log.what and member.id_number not in log.what


def test_a_whole_number_that_finds_nothing_is_logged_masked(world: World) -> None:
    outside = world.households["530101001001"].members.get()  # another province
    api = APIClient()
    api.force_authenticate(world.users["village"])
    assert _api_body(api, outside.id_number)["count"] == 0
    log = AccessLog.objects.get()
    assert (log.actor, log.object_id, log.region_code, log.row_count) == (
        world.users["village"],
        "",
        "520101001001",
        0,
    )
    assert outside.id_number not in log.what and outside.id_number[-4:] in log.what


def test_county_staff_search_the_same_way_and_their_whole_number_search_is_logged(world: World) -> None:
    """County staff may see full numbers (and reveal them, logged): their searches follow the same
    rule, and a whole-number search is logged as anyone's is (SPEC §1)."""
    household, member = _target(world)
    client = Client()
    client.force_login(world.users["county"])
    assert _page_rows(client, "monitoring:household_list", member.id_number[-7:]) == []
    assert _page_rows(client, "monitoring:household_list", _wrong_check(member.id_number)) == []
    assert not AccessLog.objects.filter(action=AccessLog.Action.VIEW_ID).exists()  # no whole number yet
    assert _page_rows(client, "monitoring:household_list", member.id_number) == [str(household.pk)]
    (entry,) = AccessLog.objects.filter(action=AccessLog.Action.VIEW_ID)
    assert entry.actor == world.users["county"] and entry.what.startswith("按完整身份证号搜索")
    assert member.id_number not in entry.what


def _export_ids(client: Client, term: str) -> list[str]:
    response = client.get(reverse("monitoring:household_export"), {"q": term})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active  # type: ignore[attr-defined]
    return [str(row[0]) for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]]


def test_the_export_follows_the_same_rule(world: World) -> None:
    household, member = _target(world)
    client = Client()
    client.force_login(world.users["county"])
    assert _export_ids(client, member.id_number[-6:]) == []
    assert _export_ids(client, _wrong_check(member.id_number)) == []
    assert household.household_no in _export_ids(client, member.id_number[-4:])
    assert _export_ids(client, member.id_number) == [household.household_no]


@pytest.mark.parametrize("role", ["township", "village"])
def test_full_width_and_circled_digits_reveal_nothing_more(world: World, role: str) -> None:
    """Searches read what an input method types as ASCII (NFKC: １ → 1, ① → 1, Ｘ → X): a tail of 5
    to 17 characters typed so still finds nothing and answers alike for every guess of a hidden digit."""
    household, member = _target(world)
    number = member.id_number
    full_width = {ord(c): ord(c) + 0xFEE0 for c in "0123456789X"}
    circled = {ord(str(d)): ord("①") + d - 1 for d in range(1, 10)}
    for surface, search in _surfaces(world, role).items():
        for n in (5, 11, 17):
            tail = number[-n:]
            for table in (full_width, circled):
                answers = [search((str(d) + tail[1:]).translate(table)) for d in range(10)]
                assert all(a == answers[0] for a in answers), (surface, n)
                assert str(household.pk) not in str(answers[0]) and household.household_no not in str(answers[0])
