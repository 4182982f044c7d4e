"""The 村 and 乡镇/村 filters take a typed code or name with htmx suggestions, not a list of every village.

A province-wide household search rendered a ``<select>`` of 10 000 villages (≈ 1.1 s of a request
whose SQL took 40 ms).  The suggestions come from ``monitoring:region_typeahead``: at most 20 regions
of the user's scope, never one outside it.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from fanpin.core.regions import RegionLevel
from monitoring.models import Region
from tests.conftest import World
from tests.factories import region

pytestmark = pytest.mark.django_db

TYPEAHEAD = reverse("monitoring:region_typeahead")


def as_user(world: World, role: str) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def suggested(client: Client, term: str, *, levels: str = "village", field: str = "village") -> list[str]:
    """The region codes the typeahead offers for ``term`` typed into ``field``."""
    response = client.get(TYPEAHEAD, {"levels": levels, "field": field, field: term})
    assert response.status_code == 200
    return re.findall(r'<option value="(\d{12})">', response.content.decode())


@pytest.fixture
def namesakes(world: World) -> None:
    """The same village name in two counties and two provinces (names repeat across China)."""
    region("520101001003", "上营村")
    region("520102001003", "上营村")
    region("530101001003", "上营村")


def test_suggestions_never_leave_the_users_region(world: World, namesakes: None) -> None:
    assert suggested(as_user(world, "county"), "上营") == ["520101001003"]
    assert suggested(as_user(world, "city"), "上营") == ["520101001003", "520102001003"]
    assert suggested(as_user(world, "province"), "上营") == ["520101001003", "520102001003"]
    assert suggested(as_user(world, "admin"), "上营") == ["520101001003", "520102001003", "530101001003"]
    assert suggested(as_user(world, "township"), "上营") == ["520101001003"]
    assert suggested(as_user(world, "village"), "上营") == []
    # a code of another county or province, whole or in part: nothing
    county = as_user(world, "county")
    assert suggested(county, "520102001003") == []
    assert suggested(county, "5301") == []
    assert suggested(county, "520101") == ["520101001001", "520101001002", "520101001003", "520101002001"]
    # empty: the first of the scope, so focusing the field already offers something
    assert suggested(as_user(world, "township"), "") == ["520101001001", "520101001002", "520101001003"]


def test_suggestions_are_few_and_named_with_their_township(world: World) -> None:
    Region.objects.filter(code="520101001000").update(name="东岗镇")
    Region.objects.filter(code="520101001001").update(name="上营村")
    html = as_user(world, "county").get(TYPEAHEAD, {"levels": "village", "field": "village", "village": "东岗"})
    assert '<option value="520101001001">东岗镇 上营村</option>' in html.content.decode()
    for n in range(30):
        region(f"520101003{n + 1:03d}", f"新村{n}")
    assert len(suggested(as_user(world, "county"), "新村")) == 20
    # 乡镇/村 (the lead queue): townships too
    area = suggested(as_user(world, "county"), "520101", levels="area", field="region")
    assert area[:3] == ["520101001000", "520101001001", "520101001002"]
    assert "没有相符的区划" in as_user(world, "county").get(TYPEAHEAD, {"q": "不存在"}).content.decode()


def test_roles_without_household_pages_get_no_suggestions(world: World) -> None:
    assert as_user(world, "dept").get(TYPEAHEAD, {"q": "村"}).status_code == 403
    assert Client().get(TYPEAHEAD).status_code == 302  # to the login page


def household_numbers(client: Client, **params: str) -> tuple[list[str], str]:
    html = client.get(reverse("monitoring:household_list"), params).content.decode()
    return re.findall(r'<td><a href="/monitoring/households/\d+/">([^<]+)</a></td>', html), html


def test_household_filter_by_code_or_unique_name(world: World, namesakes: None) -> None:
    county = as_user(world, "county")
    rows, html = household_numbers(county, village="520101001002")
    assert rows == ["H520101001002"]
    assert "（区划520101001000 村001002）" in html  # the chosen village named beside the field's label
    Region.objects.filter(code="520101002001").update(name="下营村")
    rows, html = household_numbers(county, village="下营村")
    assert rows == ["H520101002001"]
    assert 'value="下营村"' in html and "（区划520101002000 下营村）" in html


def test_household_filter_refuses_another_countys_village_and_ambiguous_names(world: World, namesakes: None) -> None:
    county = as_user(world, "county")
    rows, html = household_numbers(county, village="520102001001")
    assert "H520102001001" not in rows
    assert "“520102001001”不是您管辖范围内的乡镇或村" in html
    city = as_user(world, "city")
    rows, html = household_numbers(city, village="上营村")
    assert "有多个村与“上营村”相符" in html


def test_lead_queue_region_filter_takes_a_township_or_village(world: World) -> None:
    from tests.factories import LeadFactory

    for code in ("520101001001", "520101002001", "520102001001"):
        LeadFactory(household=world.households[code])
    county = as_user(world, "county")
    url = reverse("monitoring:lead_queue")

    def households(**params: str) -> set[str]:
        html = county.get(url, {"state": "ALL", **params}).content.decode()
        return set(re.findall(r"H52\d{10}", html))

    assert households() == {"H520101001001", "H520101002001"}
    assert households(region="520101002000") == {"H520101002001"}
    assert households(region="520101001001") == {"H520101001001"}
    html = county.get(url, {"state": "ALL", "region": "520102001001"}).content.decode()
    assert "“520102001001”不是您管辖范围内的乡镇或村" in html and "H520102001001" not in html


def test_a_province_wide_page_lists_no_villages(world: World) -> None:
    """10 000 villages in scope: the pages carry the typeahead, not 10 000 options."""
    townships = [
        Region(
            code=f"5201{c:02d}{t:03d}000", name=f"镇{c}-{t}", level=RegionLevel.TOWNSHIP, parent_id=f"5201{c:02d}000000"
        )
        for c in (1,)
        for t in range(100, 200)
    ]
    Region.objects.bulk_create(townships)
    Region.objects.bulk_create(
        Region(code=t.code[:9] + f"{v:03d}", name=f"村{v}", level=RegionLevel.VILLAGE, parent_id=t.code)
        for t in townships
        for v in range(1, 101)
    )
    assert Region.objects.filter(level=RegionLevel.VILLAGE).count() > 10_000
    province = as_user(world, "province")
    for name in ("monitoring:household_list", "monitoring:lead_queue"):
        html = province.get(reverse(name)).content.decode()
        assert html.count("<option") < 60, name
        assert f'hx-get="{TYPEAHEAD}?levels=' in html, name


@pytest.fixture
def two_counties(world: World) -> None:
    """上营村 of 东岗镇 in two counties of one city: 绿水县 and 青山县."""
    Region.objects.filter(code="520101000000").update(name="绿水县")
    Region.objects.filter(code="520102000000").update(name="青山县")
    region("520101001000", "东岗镇")
    region("520102001000", "东岗镇")
    region("520101001003", "上营村")
    region("520102001003", "上营村")


def options(client: Client, term: str, *, levels: str = "village", field: str = "village") -> list[tuple[str, str]]:
    html = client.get(TYPEAHEAD, {"levels": levels, "field": field, field: term}).content.decode()
    return re.findall(r'<option value="(\d{12})">([^<]*)</option>', html)


def test_wide_scopes_tell_namesakes_apart_by_county(world: World, two_counties: None) -> None:
    Region.objects.filter(code__in=["520101001000", "520102001000"]).update(name="东岗镇")
    city = options(as_user(world, "city"), "上营")
    assert city == [("520101001003", "绿水县 东岗镇 上营村"), ("520102001003", "青山县 东岗镇 上营村")]
    assert options(as_user(world, "province"), "上营")[1] == ("520102001003", "青山县 东岗镇 上营村")
    # within one county the township is enough
    assert options(as_user(world, "county"), "上营") == [("520101001003", "东岗镇 上营村")]
    # townships of the lead queue's 乡镇/村 field, too
    area = options(as_user(world, "city"), "东岗", levels="area", field="region")
    assert ("520102001000", "青山县 东岗镇（乡镇）") in area
    # the label as the city picked it filters to that one village
    _rows, html = household_numbers(as_user(world, "city"), village="青山县 东岗镇 上营村")
    assert "有多个村" not in html and "（青山县 东岗镇 上营村）" in html


def test_typing_a_county_name_offers_its_villages(world: World, two_counties: None) -> None:
    found = suggested(as_user(world, "city"), "绿水")
    assert found and all(code.startswith("520101") for code in found)
    assert "520101001003" in found


def test_full_width_digits_are_read_as_digits(world: World, two_counties: None) -> None:
    county = as_user(world, "county")
    assert suggested(county, "５２０１０１００１") == suggested(county, "520101001") != []
    rows, html = household_numbers(county, village="５２０１０１００１００２")
    assert rows == ["H520101001002"] and "不是您管辖范围内" not in html


def test_an_unreadable_village_filter_lists_no_households(world: World, namesakes: None) -> None:
    county = as_user(world, "county")
    rows, html = household_numbers(county, village="539902001001")
    assert rows == [] and "“539902001001”不是您管辖范围内的乡镇或村" in html
    city = as_user(world, "city")
    rows, html = household_numbers(city, village="上营")
    assert rows == [] and "有多个村与“上营”相符" in html
    assert household_numbers(city)[0] != []  # without the filter the city sees its households


def test_an_unreadable_region_filter_lists_no_leads(world: World, namesakes: None) -> None:
    from tests.factories import LeadFactory

    for code in ("520101001001", "520102001001"):
        LeadFactory(household=world.households[code])
    city = as_user(world, "city")
    url = reverse("monitoring:lead_queue")
    assert re.findall(r"H52\d{10}", city.get(url, {"state": "ALL"}).content.decode())
    # a city's filter takes counties too (its scope spans several)
    for value, error in (
        ("539902001001", "不是您管辖范围内的县、乡镇或村"),
        ("上营", "有多个县、乡镇或村与“上营”相符"),
    ):
        html = city.get(url, {"state": "ALL", "region": value}).content.decode()
        assert error in html, value
        assert re.findall(r"H52\d{10}", html) == [], value


def test_a_wide_scope_is_offered_counties_too(world: World) -> None:
    Region.objects.filter(code="520102000000").update(name="绿水县")
    assert suggested(as_user(world, "city"), "绿水", levels="area", field="region")[0] == "520102000000"
    html = as_user(world, "city").get(TYPEAHEAD, {"levels": "area", "field": "region", "region": "绿水"})
    assert '<option value="520102000000">绿水县</option>' in html.content.decode()
    assert "520102000000" not in suggested(as_user(world, "county"), "5201", levels="area", field="region")


def test_a_filter_sent_by_htmx_says_why_nothing_is_listed(world: World, namesakes: None) -> None:
    """The queue's table alone comes back to an htmx search: it said 没有符合条件的线索 and not why."""
    html = (
        as_user(world, "city")
        .get(reverse("monitoring:lead_queue"), {"state": "ALL", "region": "上营"}, HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert 'data-testid="filter-errors"' in html and "有多个县、乡镇或村与“上营”相符" in html


def test_the_household_lists_htmx_answer_says_why_nothing_is_listed(world: World, namesakes: None) -> None:
    html = (
        as_user(world, "city")
        .get(reverse("monitoring:household_list"), {"village": "上营"}, HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert 'data-testid="filter-errors"' in html and "有多个村与“上营”相符" in html


def test_a_county_typing_its_own_county_into_the_filter_sees_its_whole_county(world: World) -> None:
    """Its own county is not a 乡镇 or 村, but it is not outside its scope either: the whole county."""
    from tests.factories import LeadFactory

    for code in ("520101001001", "520101002001", "520102001001"):
        LeadFactory(household=world.households[code])
    county = as_user(world, "county")
    name = Region.objects.get(code="520101000000").name
    for typed in ("520101000000", name, f" {name} "):
        response = county.get(reverse("monitoring:lead_queue"), {"state": "ALL", "region": typed})
        html = response.content.decode()
        assert response.status_code == 200 and "不是您管辖范围内" not in html, typed
        assert set(re.findall(r"H52\d{10}", html)) == {"H520101001001", "H520101002001"}, typed
        assert f"（{name}）" in html  # the field says what it was read as
    # another county's code is still refused
    html = county.get(reverse("monitoring:target_list"), {"region": "520102000000"}).content.decode()
    assert "“520102000000”不是您管辖范围内的乡镇或村" in html


def test_exports_refuse_a_filter_they_cannot_read_alike(world: World, namesakes: None) -> None:
    """The lead export wrote an empty sheet (read as "no leads"), the household export answered 404,
    the target export 400: each now refuses with the reason, as the list shows it."""
    county = as_user(world, "county")
    for url, params, field in (
        ("monitoring:leads_export", {"state": "ALL", "region": "539902001001"}, "乡镇/村"),
        ("monitoring:targets_export", {"region": "539902001001"}, "乡镇/村"),
        ("monitoring:household_export", {"village": "539902001001"}, "村"),
    ):
        response = county.get(reverse(url), params)
        html = response.content.decode()
        assert response.status_code == 400 and response["Content-Type"].startswith("text/html"), url
        assert f"{field}：“539902001001”不是您管辖范围内的" in html, url


def test_a_list_with_an_unreadable_filter_offers_no_export_and_names_no_field_in_english(
    world: World, namesakes: None
) -> None:
    """The lead and target lists offered 导出 Excel beside an unreadable filter (the export answered
    填写有误); the household list showed Django's error list with the field's English name."""
    county = as_user(world, "county")
    leads = county.get(reverse("monitoring:lead_queue"), {"state": "ALL", "region": "绿水县"}).content.decode()
    assert "不是您管辖范围内" in leads and 'data-testid="leads-export"' not in leads
    assert 'data-testid="leads-export"' in county.get(reverse("monitoring:lead_queue")).content.decode()
    targets = county.get(reverse("monitoring:target_list"), {"region": "绿水县"}).content.decode()
    assert "不是您管辖范围内" in targets and reverse("monitoring:targets_export") not in targets
    assert reverse("monitoring:targets_export") in county.get(reverse("monitoring:target_list")).content.decode()
    households = county.get(reverse("monitoring:household_list"), {"village": "asdf"}).content.decode()
    assert "“asdf”不是您管辖范围内的乡镇或村" in households
    assert "<li>village" not in households  # Django's own error list named the field "village"
    assert households.count("“asdf”不是您管辖范围内的乡镇或村") == 1  # beside the field, not twice
