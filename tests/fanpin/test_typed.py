"""Whole numbers from addresses and forms: "²" and "１２" pass ``str.isdigit()`` but are no number
(``int("²")`` fails; a run of 5 000 digits too), so each place reading one answers as for "abc", never 500."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from fanpin.core.typed import ascii_int
from tests.conftest import World

ODD = ["²", "１２", "1²", "-3", "", " 7", "9" * 19, "9" * 5000]


@pytest.mark.parametrize("text", ODD)
def test_odd_digits_are_no_number(text: str) -> None:
    assert ascii_int(text) is None


def test_ascii_digits_are() -> None:
    assert (ascii_int("0"), ascii_int("2025"), ascii_int(42), ascii_int("9" * 18)) == (0, 2025, 42, 10**18 - 1)


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["²", "9" * 5000])
def test_pages_and_api_answer_odd_digits_without_a_server_error(world: World, text: str) -> None:
    county = Client()
    county.force_login(world.users["county"])
    assert county.get(reverse("monitoring:roster_list"), {"year": text}).status_code == 200
    assert county.get(reverse("monitoring:visit_new"), {"household": text}).status_code == 200
    api = APIClient()
    api.force_authenticate(world.users["county"])
    assert api.post(f"/api/v1/leads/{text}/reject/", {"opinion": "x"}, format="json").status_code == 404
    assert api.post(f"/api/v1/eliminations/{text}/appraisal/", {}, format="json").status_code == 404
    assert api.get("/api/v1/visits/", {"household": text}).status_code == 200
    admin = Client()
    admin.force_login(world.users["admin"])
    preview = admin.post(reverse("monitoring:parameters_preview"), {"kind": "params", "preview_year": text})
    assert preview.status_code in (200, 400) and "请填写预览年度" in preview.content.decode()


def test_an_int_is_its_number_zero_too() -> None:
    """An ``int`` (a form's cleaned value, a URL converter's) reads as itself: 0 as 0, not as nothing."""
    assert (ascii_int(0), ascii_int(7), ascii_int(None)) == (0, 7, None)
