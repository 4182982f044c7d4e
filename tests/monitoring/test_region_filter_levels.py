"""A region filter takes any region inside the user's scope at or above the field's finest level, typed
by name or code (12 digits, or the short code without its trailing zeros), and lists that region's
area; the user's own region lists the whole scope; a region beside or above the scope is refused.

A newcomer walk found a county officer told that its own county's 6-digit code was outside its scope,
an administrator refused 云南省, a city officer refused one of its counties in the household list's
村 field, and a county officer refused one of its townships there.
"""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from fanpin.core.regions import RegionLevel
from monitoring.models import Region
from monitoring.selectors.regions import (
    TOWNSHIPS_AND_VILLAGES,
    VILLAGES,
    area_levels,
    code_typed,
    filter_levels,
    levels_label,
)
from tests.conftest import World
from tests.factories import LeadFactory, TargetFactory, region

pytestmark = pytest.mark.django_db

HOUSEHOLDS = reverse("monitoring:household_list")
LEADS = reverse("monitoring:lead_queue")
TARGETS = reverse("monitoring:target_list")


@pytest.fixture
def named(world: World) -> None:
    """Names a county office would type: 贵州省 (52) and 云南省 (53); in city 5201 绿水县 (the county
    user's) and 青山县; 东岗镇 in both counties, 西岭镇 in 绿水县; a lead and a target per household."""
    for code, name in (
        ("520000000000", "贵州省"),
        ("530000000000", "云南省"),
        ("520100000000", "安顺市"),
        ("520101000000", "绿水县"),
        ("520102000000", "青山县"),
        ("520101001000", "东岗镇"),
        ("520102001000", "东岗镇"),
        ("520101002000", "西岭镇"),
    ):
        Region.objects.filter(code=code).update(name=name)
    region("520102002000", "南坪镇")  # a township of 青山县 without households
    for household in world.households.values():
        LeadFactory(household=household)
        TargetFactory(household=household)


def client_for(world: World, role: str) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def listed(client: Client, url: str, **params: str) -> tuple[set[str], str]:
    """The households a list shows (by 户编号) and its page."""
    query = {"state": "ALL", **params} if url == LEADS else params
    html = client.get(url, query).content.decode()
    return set(re.findall(r"H5\d{11}", html)), html


def test_a_county_typing_its_own_short_code_sees_its_whole_county(world: World, named: None) -> None:
    county = client_for(world, "county")
    own = {"H520101001001", "H520101001002", "H520101002001"}
    for url, field in ((LEADS, "region"), (TARGETS, "region"), (HOUSEHOLDS, "village")):
        for typed in ("520101", "５２０１０１", "520101000000", "绿水县"):
            rows, html = listed(county, url, **{field: typed})
            assert rows == own, (url, typed)
            assert "不是您管辖范围内" not in html and "（绿水县）" in html, (url, typed)


def test_a_short_township_code_lists_that_township(world: World, named: None) -> None:
    county = client_for(world, "county")
    for url, field in ((LEADS, "region"), (TARGETS, "region"), (HOUSEHOLDS, "village")):
        rows, html = listed(county, url, **{field: "520101002"})
        assert rows == {"H520101002001"}, url
        assert "（西岭镇）" in html, url


def test_the_household_lists_village_field_takes_a_township_of_the_county(world: World, named: None) -> None:
    county = client_for(world, "county")
    rows, html = listed(county, HOUSEHOLDS, village="西岭镇")
    assert rows == {"H520101002001"} and "不是您管辖范围内" not in html
    rows, _html = listed(county, HOUSEHOLDS, village="东岗镇")
    assert rows == {"H520101001001", "H520101001002"}
    # a village is still that village alone
    rows, _html = listed(county, HOUSEHOLDS, village="520101001002")
    assert rows == {"H520101001002"}


def test_the_household_export_writes_what_the_township_filter_lists(world: World, named: None) -> None:
    response = client_for(world, "county").get(reverse("monitoring:household_export"), {"village": "东岗镇"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    numbers = {
        cell for row in sheet.iter_rows(min_row=2, values_only=True) for cell in row if str(cell).startswith("H5")
    }
    assert numbers == {"H520101001001", "H520101001002"}


def test_a_city_typing_one_of_its_counties_into_the_village_field(world: World, named: None) -> None:
    city = client_for(world, "city")
    rows, html = listed(city, HOUSEHOLDS, village="青山县")
    assert rows == {"H520102001001"} and "（青山县）" in html
    rows, _html = listed(city, HOUSEHOLDS, village="520102")
    assert rows == {"H520102001001"}
    # two 东岗镇 in the city: the message names the wider levels, the label with its county picks one
    rows, html = listed(city, HOUSEHOLDS, village="东岗镇")
    assert rows == set() and "有多个县或乡镇与“东岗镇”相符" in html
    rows, html = listed(city, HOUSEHOLDS, village="青山县 东岗镇")
    assert rows == {"H520102001001"} and "（青山县 东岗镇）" in html


def test_an_administrator_typing_a_province(world: World, named: None) -> None:
    admin = client_for(world, "admin")
    for url, field in ((LEADS, "region"), (TARGETS, "region"), (HOUSEHOLDS, "village")):
        for typed in ("云南省", "53", "530000000000"):
            rows, html = listed(admin, url, **{field: typed})
            assert rows == {"H530101001001"}, (url, typed)
            assert "（云南省）" in html, (url, typed)
        rows, _html = listed(admin, url, **{field: "安顺市"})
        assert rows == {"H520101001001", "H520101001002", "H520101002001", "H520102001001"}, url


@pytest.mark.parametrize(
    ("role", "typed", "expected"),
    [
        ("county", "贵州省", "乡镇或村"),  # the county's own province: above its scope
        ("county", "5201", "乡镇或村"),  # its own city, by short code
        ("county", "青山县", "乡镇或村"),  # the county beside it
        ("county", "南坪镇", "乡镇或村"),  # a township of the county beside it
        ("county", "520102001", "乡镇或村"),
        ("county", "云南省", "乡镇或村"),
        ("city", "520201", "县、乡镇或村"),  # a county of another city
        ("city", "云南省", "县、乡镇或村"),
        ("province", "云南省", "市、县、乡镇或村"),
        ("province", "53", "市、县、乡镇或村"),
    ],
)
def test_a_region_beside_or_above_the_scope_is_refused_and_lists_nothing(
    world: World, named: None, role: str, typed: str, expected: str
) -> None:
    client = client_for(world, role)
    for url, field in ((LEADS, "region"), (TARGETS, "region"), (HOUSEHOLDS, "village")):
        rows, html = listed(client, url, **{field: typed})
        assert rows == set(), (url, typed)
        assert f"“{typed}”不是您管辖范围内的{expected}" in html, (url, typed)


@pytest.mark.parametrize("typed", ["52010", "5201010", "52010100100", "520 1010"])
def test_digits_of_no_codes_length_are_told_how_a_code_is_written(world: World, named: None, typed: str) -> None:
    """Not a scope problem but a typing one: the message says which lengths a code has."""
    client = client_for(world, "county")
    for url, field in ((LEADS, "region"), (TARGETS, "region"), (HOUSEHOLDS, "village")):
        rows, html = listed(client, url, **{field: typed})
        assert rows == set(), (url, typed)
        assert f"“{typed}”不是区划代码：请输入 12 位代码，或去掉末尾的 0 后的 2、4、6、9 位代码" in html, (url, typed)


@pytest.mark.parametrize("typed", ["54", "999999999999", "不存在的村"])
def test_the_administrator_is_told_no_region_answers_not_that_it_is_outside_a_scope(
    world: World, named: None, typed: str
) -> None:
    admin = client_for(world, "admin")
    for url, field in ((LEADS, "region"), (TARGETS, "region"), (HOUSEHOLDS, "village")):
        rows, html = listed(admin, url, **{field: typed})
        assert rows == set(), (url, typed)
        assert f"没有与“{typed}”相符的" in html and "不是您管辖范围内" not in html, (url, typed)


def test_a_code_written_with_spaces_is_read() -> None:
    assert code_typed("520 101") == code_typed("520101") == "520101000000"
    assert code_typed("520 101 001 001") == "520101001001"


def test_the_exports_refuse_a_region_outside_the_scope(world: World, named: None) -> None:
    county = Client(raise_request_exception=False)
    county.force_login(world.users["county"])
    for url, params in (
        ("monitoring:leads_export", {"state": "ALL", "region": "青山县"}),
        ("monitoring:targets_export", {"region": "520102"}),
        ("monitoring:household_export", {"village": "云南省"}),
    ):
        response = county.get(reverse(url), params)
        assert response.status_code == 400 and "不是您管辖范围内的乡镇或村" in response.content.decode(), url


def test_codes_typed_short_or_whole() -> None:
    assert code_typed("539901") == "539901000000"
    assert code_typed("５３９９") == "539900000000"
    assert code_typed("53") == "530000000000"
    assert code_typed("539901001") == "539901001000"
    assert code_typed("539901001001") == "539901001001"
    assert code_typed("53990") == code_typed("5399010010011") == code_typed("东岗镇") == code_typed("") == ""


def test_the_levels_a_filter_takes(world: World) -> None:
    users = world.users
    assert filter_levels(user=users["county"], levels=VILLAGES) == TOWNSHIPS_AND_VILLAGES
    assert filter_levels(user=users["city"], levels=VILLAGES) == (
        RegionLevel.COUNTY,
        RegionLevel.TOWNSHIP,
        RegionLevel.VILLAGE,
    )
    assert filter_levels(user=users["admin"], levels=area_levels(users["admin"])) == tuple(RegionLevel.values)
    assert filter_levels(user=users["village"], levels=VILLAGES) == ()  # its own village is the whole scope
    assert levels_label(VILLAGES) == "村"
    assert levels_label(TOWNSHIPS_AND_VILLAGES) == "乡镇或村"
    assert levels_label(tuple(RegionLevel.values)) == "省、市、县、乡镇或村"
