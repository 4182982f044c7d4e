"""Issue 16 hole 7: 预警日期 of 1900 or 2099, and 结算年度 out of range, are refused — through the
API and the Excel import alike, naming the row and the field, with nothing written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from monitoring.models import DepartmentAlert, Lead, MedicalSettlement, RigidExpenditure
from monitoring.services.alerts import ALERT_MAX_AGE_YEARS
from monitoring.services.imports.pipeline import import_run
from tests.conftest import World
from tests.monitoring.xlsx import kind_sheet

pytestmark = pytest.mark.django_db
VILLAGE = "520101001001"


def today() -> dt.date:
    return timezone.localdate()


def earliest() -> dt.date:
    return dt.date(today().year - ALERT_MAX_AGE_YEARS, 1, 1)


def head(world: World) -> str:
    return world.households[VILLAGE].members.get().id_number


def api(world: World, role: str = "dept") -> APIClient:
    client = APIClient()
    client.force_authenticate(world.users[role])
    return client


def alert(key: str, id_number: str, day: dt.date) -> dict[str, Any]:
    return {
        "idempotency_key": key,
        "id_number": id_number,
        "name": "张三",
        "alert_type": "MEDICAL",
        "alert_date": day.isoformat(),
        "amount": "23456.00",
    }


def nothing_written() -> None:
    assert not DepartmentAlert.objects.exists() and not RigidExpenditure.objects.exists()
    assert not Lead.objects.exists() and not MedicalSettlement.objects.exists()


BAD_DATES = [
    (dt.date(1900, 1, 1), "1900-01-01 过早"),
    (dt.date(2099, 1, 1), "2099-01-01 晚于今天"),
]


@pytest.mark.parametrize(("day", "text"), BAD_DATES)
def test_api_refuses_alert_dates_far_back_or_in_the_future(world: World, day: dt.date, text: str) -> None:
    good = alert("ok", head(world), today())
    response = api(world).post("/api/v1/alerts/", {"alerts": [good, alert("bad", head(world), day)]}, format="json")
    assert response.status_code == 400
    assert any(m.startswith("第 2 条：预警日期 " + text) for m in response.json()["alerts"]), response.json()
    nothing_written()


def test_api_dates_at_the_edges_are_accepted(world: World) -> None:
    response = api(world).post(
        "/api/v1/alerts/",
        {"alerts": [alert("a", head(world), earliest()), alert("b", head(world), today())]},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert DepartmentAlert.objects.count() == 2
    one_day_before = earliest() - dt.timedelta(days=1)
    response = api(world).post("/api/v1/alerts/", {"alerts": [alert("c", head(world), one_day_before)]}, format="json")
    assert response.status_code == 400


@pytest.mark.parametrize(("day", "text"), BAD_DATES)
def test_excel_import_of_alerts_names_row_and_column(world: World, tmp_path: Path, day: dt.date, text: str) -> None:
    rows = [
        {
            "身份证号": head(world),
            "姓名": "张三",
            "预警类型": "大额医疗支出",
            "预警日期": today().isoformat(),
            "金额": 30000,
        },
        {"身份证号": head(world), "姓名": "张三", "预警类型": "受灾", "预警日期": day, "金额": 30000},
    ]
    path = kind_sheet(tmp_path / "alerts.xlsx", "alerts", rows)
    result = import_run(kind="alerts", source=str(path), user=world.users["dept"])
    assert [(e.row, e.column) for e in result.errors] == [(3, "预警日期")]
    assert result.errors[0].message.startswith("预警日期 " + text)
    nothing_written()


@pytest.mark.parametrize("year_back", [ALERT_MAX_AGE_YEARS + 1, 126])
def test_medical_settlement_years_far_back_are_refused(world: World, tmp_path: Path, year_back: int) -> None:
    year = today().year - year_back
    line = {"id_number": head(world), "year": year, "out_of_pocket": "60000.00"}
    response = api(world).post("/api/v1/medical-settlements/", {"settlements": [line]}, format="json")
    if year >= 2000:  # below 2000 the field's own minimum answers first
        assert response.status_code == 400
        assert f"结算年度 {year} 过早" in str(response.json())
    else:
        assert response.status_code == 400
    path = kind_sheet(
        tmp_path / "m.xlsx", "medical", [{"身份证号": head(world), "年度": year, "个人自付医疗费用": 60000}]
    )
    result = import_run(kind="medical", source=str(path), user=world.users["dept"])
    assert [(e.row, e.column) for e in result.errors] == [(2, "年度")]
    nothing_written()


def test_medical_settlement_years_in_the_future_are_refused_and_the_oldest_year_is_taken(
    world: World, tmp_path: Path
) -> None:
    sheet = [{"身份证号": head(world), "年度": today().year + 1, "个人自付医疗费用": 60000}]
    result = import_run(kind="medical", source=str(kind_sheet(tmp_path / "m.xlsx", "medical", sheet)), user=None)
    assert [(e.row, e.column, e.message) for e in result.errors] == [(2, "年度", "结算年度不能晚于今年。")]
    nothing_written()
    line = {"id_number": head(world), "year": earliest().year, "out_of_pocket": "60000.00"}
    response = api(world).post("/api/v1/medical-settlements/", {"settlements": [line]}, format="json")
    assert response.status_code == 201, response.content
    made = DepartmentAlert.objects.get()  # the alert made from the line is within the window too
    assert made.alert_date == dt.date(earliest().year, 12, 31)
