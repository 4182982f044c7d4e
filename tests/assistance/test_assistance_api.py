"""/api/v1/assistance/: scoped, filtered, upper-case codes, a fixed number of queries; the export."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from assistance.models import MeasureStatus
from assistance.services.exports import assistance_export, headers
from fanpin.core.models import AuditEntry
from tests.assistance.factories import TargetMeasureFactory, measure, target_for
from tests.conftest import World

pytestmark = pytest.mark.django_db
URL = "/api/v1/assistance/"


@pytest.fixture
def measures(world: World) -> dict[str, object]:
    made = {}
    for code, village in (("MICROCREDIT", "520101001001"), ("MEDICAL_ASSISTANCE", "520101001002")):
        made[code] = TargetMeasureFactory(target=target_for(world.households[village]), measure=measure(code))
    made["outside"] = TargetMeasureFactory(target=target_for(world.households["530101001001"]))
    return made


def _client(world: World, role: str) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def test_list_is_scoped_with_upper_case_codes(world: World, measures: dict[str, object]) -> None:
    data = _client(world, "county").get(URL).json()
    assert data["count"] == 2
    first = data["results"][0]
    assert (first["household_no"], first["measure"], first["category"], first["kind"], first["status"]) == (
        "H520101001001",
        "MICROCREDIT",
        "FINANCE",
        "DEVELOPMENTAL",
        "IN_PROGRESS",
    )
    assert first["measure_name"] == "小额信贷" and first["target_status"] == "ACTIVE"
    assert _client(world, "village").get(URL).json()["count"] == 1
    assert _client(world, "dept").get(URL).json()["count"] == 0
    assert _client(world, "admin").get(URL).json()["count"] == 3


def test_detail_outside_the_region_is_404(world: World, measures: dict[str, object]) -> None:
    client = _client(world, "county")
    assert client.get(f"{URL}{measures['MICROCREDIT'].pk}/").status_code == 200  # type: ignore[attr-defined]
    assert client.get(f"{URL}{measures['outside'].pk}/").status_code == 404  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"category": "HEALTH"}, {"MEDICAL_ASSISTANCE"}),
        ({"kind": "DEVELOPMENTAL"}, {"MICROCREDIT"}),
        ({"measure": "MICROCREDIT"}, {"MICROCREDIT"}),
        ({"status": "COMPLETED"}, set()),
        ({"village": "520101001002"}, {"MEDICAL_ASSISTANCE"}),
        ({"township": "520101001000"}, {"MICROCREDIT", "MEDICAL_ASSISTANCE"}),
        ({"county": "530101000000"}, set()),  # outside the scope: filters narrow, never widen
        ({"household_no": "H520101001001"}, {"MICROCREDIT"}),
    ],
)
def test_filters(world: World, measures: dict[str, object], query: dict[str, str], expected: set[str]) -> None:
    data = _client(world, "county").get(URL, query).json()
    assert {row["measure"] for row in data["results"]} == expected


def test_query_count_is_pinned(world: World) -> None:
    client = _client(world, "county")
    target = target_for(world.households["520101001001"])
    TargetMeasureFactory(target=target)
    with CaptureQueriesContext(connection) as one:
        assert client.get(URL).status_code == 200
    for _ in range(5):
        TargetMeasureFactory(target=target_for(world.households["520101001002"]), status=MeasureStatus.PLANNED)
    with CaptureQueriesContext(connection) as many:
        assert client.get(URL).json()["count"] == 6
    # session + user, count, page (joins and the head-name subquery)
    assert len(one) == len(many) == 4


def test_export_writes_chinese_headers_frozen_and_audited(world: World, measures: dict[str, object]) -> None:
    output = io.BytesIO()
    rows = assistance_export(user=world.users["county"], region_code="", year=2024, output=output)
    assert rows == 2
    output.seek(0)
    sheet = load_workbook(output).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == headers()
    assert sheet.freeze_panes == "A2"
    assert {row[8] for row in values[1:]} == {"小额信贷", "医疗保障/医疗救助"}
    assert values[1][18] in ("实施中",)
    entry = AuditEntry.objects.get(object_type="export")
    assert entry.data["rows"] == 2 and entry.data["kind"] == "assistance"


def test_export_year_and_region_narrow(world: World, measures: dict[str, object]) -> None:
    assert assistance_export(user=world.users["county"], year=2023, output=io.BytesIO()) == 0
    assert assistance_export(user=world.users["county"], region_code="520101001002", output=io.BytesIO()) == 1
    assert assistance_export(user=world.users["village"], region_code="520101001002", output=io.BytesIO()) == 0
