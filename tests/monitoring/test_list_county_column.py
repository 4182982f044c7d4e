"""A city's or province's lists name the 县 of every row: townships and villages repeat their names
across counties (the demo's two counties both have 城关镇), so 乡镇 and 村 alone are ambiguous.
A county's, township's or village's lists keep the two columns they had."""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from assistance.services.exports import assistance_export
from monitoring.models import MonitoringTarget, Region
from monitoring.services.exports_leads import leads_export, targets_export
from tests.assistance.factories import TargetMeasureFactory
from tests.conftest import World
from tests.factories import LeadFactory, TargetFactory

pytestmark = pytest.mark.django_db

PAGES = [
    reverse("monitoring:lead_queue") + "?state=ALL",
    reverse("monitoring:household_list"),
    reverse("monitoring:target_list"),
]


@pytest.fixture
def namesakes(world: World) -> None:
    """Two counties of one city, each with a 城关镇 and its 东关村, a lead and a target in each."""
    names = {"520101000000": "甲县", "520102000000": "乙县"}
    for code, name in names.items():
        Region.objects.filter(code=code).update(name=name)
    Region.objects.filter(code__in=["520101001000", "520102001000"]).update(name="城关镇")
    Region.objects.filter(code__in=["520101001001", "520102001001"]).update(name="东关村")
    for code in ("520101001001", "520102001001"):
        household = world.households[code]
        LeadFactory(household=household)
        TargetFactory(household=household)


def header(html: str) -> list[str]:
    head = re.search(r"<thead>(.*?)</thead>", html, re.S)
    assert head is not None
    return re.findall(r"<th scope=\"col\">([^<]*)</th>", head.group(1))


def row_of(html: str, household_no: str) -> list[str]:
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S):
        if household_no in row:
            return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    raise AssertionError(f"{household_no} not listed")


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", ["city", "province", "admin"])
def test_a_wide_scope_lists_the_county(world: World, namesakes: None, role: str, page: str) -> None:
    html = world.client_for(role).get(page).content.decode()
    columns = header(html)
    assert columns[columns.index("县") + 1 : columns.index("县") + 3] == ["乡镇", "村"]
    for code, county in (("520101001001", "甲县"), ("520102001001", "乙县")):
        cells = row_of(html, f"H{code}")
        at = cells.index(county)
        assert cells[at : at + 3] == [county, "城关镇", "东关村"]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", ["county", "township"])
def test_a_county_and_below_keep_township_and_village(world: World, namesakes: None, role: str, page: str) -> None:
    html = world.client_for(role).get(page).content.decode()
    columns = header(html)
    assert "县" not in columns
    assert "乡镇" in columns and "村" in columns
    assert "城关镇" in row_of(html, "H520101001001")


def test_exports_name_the_county_of_every_row(world: World, namesakes: None) -> None:
    """The lead, target and measure sheets carry a 县 column before 乡镇 and 村 (the household sheet
    always had one), whoever exports them."""
    for target in MonitoringTarget.objects.all():
        TargetMeasureFactory(target=target)
    province = world.users["province"]
    for export in (leads_export, targets_export, assistance_export):
        out = io.BytesIO()
        export(user=province, output=out)
        rows = [list(r) for r in load_workbook(io.BytesIO(out.getvalue())).active.iter_rows(values_only=True)]
        at = rows[0].index("县")
        assert rows[0][at : at + 3] == ["县", "乡镇", "村"], export
        assert sorted(tuple(r[at : at + 3]) for r in rows[1:]) == [
            ("乙县", "城关镇", "东关村"),
            ("甲县", "城关镇", "东关村"),
        ]


def test_the_target_lists_region_filter_is_typed_and_says_what_it_cannot_read(world: World, namesakes: None) -> None:
    """The target list's 乡镇/村 was a <select> of every township and village of the scope (城关镇 twice,
    no county; 10 000 options for a province), and a region it could not read listed everything."""
    city = world.client_for("city")
    page = reverse("monitoring:target_list")
    html = city.get(page).content.decode()
    assert 'name="region"' in html and '<select name="region"' not in html and 'list="id_region-options"' in html
    ambiguous = city.get(page, {"region": "城关镇"}).content.decode()
    assert "有多个县、乡镇或村与“城关镇”相符" in ambiguous and "H520101001001" not in ambiguous
    outside = city.get(page, {"region": "530101001001"}).content.decode()
    assert "不是您管辖范围内的县、乡镇或村" in outside and "H520102001001" not in outside
    picked = city.get(page, {"region": "520102001000"}).content.decode()
    assert "H520102001001" in picked and "H520101001001" not in picked and "乙县 城关镇" in picked
    by_county = city.get(page, {"region": "乙县"}).content.decode()  # a city filters by county too
    assert "H520102001001" in by_county and "H520101001001" not in by_county
    refused = Client(raise_request_exception=False)
    refused.force_login(world.users["county"])
    response = refused.get(reverse("monitoring:targets_export"), {"region": "520102001000"})
    assert response.status_code == 400 and "不是您管辖范围内的乡镇或村" in response.content.decode()


@pytest.mark.parametrize("page", ["assistance:plan_list", "assistance:measure_list"])
def test_the_assistance_lists_village_filter_is_typed_and_named_with_its_county(
    world: World, namesakes: None, page: str
) -> None:
    """/assistance/ and /assistance/measures/ offered every village of the scope in a <select>
    (城关镇 东关村 twice for a city, no county)."""
    for target in MonitoringTarget.objects.all():
        TargetMeasureFactory(target=target)
    city = world.client_for("city")
    url = reverse(page)
    html = city.get(url).content.decode()
    assert '<select name="village"' not in html and 'list="id_village-options"' in html
    assert "有多个村与“东关村”相符" in city.get(url, {"village": "东关村"}).content.decode()
    picked = city.get(url, {"village": "520102001001"}).content.decode()
    assert "乙县 城关镇 东关村" in picked and "H520102001001" in picked and "H520101001001" not in picked
    rows = city.get(url).content.decode()  # every row names its county
    assert "甲县 城关镇 东关村" in rows and "乙县 城关镇 东关村" in rows
    assert "甲县 城关镇" not in world.client_for("county").get(url).content.decode()


@pytest.fixture
def namesakes_in_procedures(world: World, namesakes: None) -> None:
    """Each namesake village's target with an elimination proposal waiting and an open 补办."""
    import datetime as dt

    from django.utils import timezone

    from monitoring.models import FollowUp
    from tests.assistance.factories import ProposalFactory

    for target in MonitoringTarget.objects.filter(household__village_id__in=["520101001001", "520102001001"]):
        ProposalFactory(target=target, proposed_by=world.users["village"])
        FollowUp.objects.create(
            target=target,
            opened_on=timezone.localdate() - dt.timedelta(days=1),
            opened_at=timezone.now(),
            owes_home_check=True,
        )


PROCEDURE_PAGES = [
    (reverse("assistance:elimination_list") + "?all=1", "proposal-table"),
    (reverse("assistance:elimination_list") + "?all=1", "candidate-table"),
    (reverse("monitoring:followups") + "?state=ALL", "followup-table"),
]


def _table(html: str, testid: str) -> str:
    found = re.search(rf'<table[^>]*data-testid="{testid}".*?</table>', html, re.S)
    assert found is not None, testid
    return found.group(0)


@pytest.mark.parametrize(("page", "table"), PROCEDURE_PAGES)
@pytest.mark.parametrize("role", ["city", "province", "admin"])
def test_the_elimination_and_follow_up_lists_name_the_county_for_a_wide_scope(
    world: World, namesakes_in_procedures: None, role: str, page: str, table: str
) -> None:
    """风险消除 and 补办 listed 村 (or 乡镇 村) alone: two 城关镇 东关村 could not be told apart."""
    html = _table(world.client_for(role).get(page).content.decode(), table)
    columns = header(html)
    assert columns[columns.index("县") : columns.index("县") + 3] == ["县", "乡镇", "村"]
    for code, county in (("520101001001", "甲县"), ("520102001001", "乙县")):
        cells = row_of(html, f"H{code}")
        at = cells.index(county)
        assert cells[at : at + 3] == [county, "城关镇", "东关村"]


@pytest.mark.parametrize(("page", "table"), PROCEDURE_PAGES)
def test_the_county_keeps_township_and_village_in_those_lists(
    world: World, namesakes_in_procedures: None, page: str, table: str
) -> None:
    html = _table(world.client_for("county").get(page).content.decode(), table)
    columns = header(html)
    assert "县" not in columns and columns[columns.index("乡镇") : columns.index("乡镇") + 2] == ["乡镇", "村"]
    assert row_of(html, "H520101001001")[columns.index("乡镇") : columns.index("乡镇") + 2] == ["城关镇", "东关村"]
