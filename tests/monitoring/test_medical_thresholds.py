"""Issue 8, part 2: the 医保 alert thresholds are parameters — shown and changed on the parameters
page (audited, validated) and used by the settlement-extract conversion, at the boundary (≥)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from fanpin.core.models import AuditEntry
from fanpin.core.terms import term
from monitoring.models import DepartmentAlert, HouseholdType, ScreeningParameters
from monitoring.selectors.screening import screening_parameters_get
from monitoring.services.imports.pipeline import import_run
from monitoring.services.parameters import screening_parameters_set
from tests.conftest import World
from tests.factories import TargetFactory, make_id_number
from tests.monitoring.xlsx import kind_sheet

pytestmark = pytest.mark.django_db

SUPPORTED = "medical_alert_supported"
GENERAL = "medical_alert_general"
LABEL_SUPPORTED = f"大额医疗支出预警线（脱贫户、{term('target')}）"  # the default glossary (2026)
LABEL_GENERAL = "大额医疗支出预警线（其他人员）"


@pytest.fixture
def people(world: World) -> dict[str, str]:
    """身份证号 of a 脱贫户 member, a monitoring target's member, an ordinary member, a stranger."""
    exited = world.households["520101001001"]
    exited.household_type, exited.exit_year = HouseholdType.EXITED, 2019
    exited.save(update_fields=["household_type", "exit_year"])
    TargetFactory(household=world.households["520101002001"])
    return {
        "exited": exited.members.get().id_number,
        "target": world.households["520101002001"].members.get().id_number,
        "general": world.households["520101001002"].members.get().id_number,
        "stranger": make_id_number(),
    }


def submit(world: World, tmp_path: Path, via: str, lines: list[tuple[str, int, str]]) -> None:
    """Send (身份证号, year, amount) lines as the 医保 department user, by API or Excel upload."""
    if via == "api":
        client = APIClient()
        client.force_authenticate(world.users["dept"])
        body = {"settlements": [{"id_number": i, "year": y, "out_of_pocket": a} for i, y, a in lines]}
        assert client.post("/api/v1/medical-settlements/", body, format="json").status_code == 201
    else:
        rows = [{"身份证号": i, "年度": y, "个人自付医疗费用": a} for i, y, a in lines]
        path = kind_sheet(tmp_path / f"结算{len(list(tmp_path.iterdir()))}.xlsx", "medical", rows)
        result = import_run(kind="medical", source=str(path), user=world.users["dept"])
        assert result.ok, result.errors


def alerted() -> set[tuple[str, int]]:
    return {(a.id_number, a.alert_date.year) for a in DepartmentAlert.objects.all()}


@pytest.mark.parametrize("via", ["api", "excel"])
def test_threshold_boundaries_for_both_groups(world: World, people: dict[str, str], tmp_path: Path, via: str) -> None:
    lines = [
        (people["exited"], 2023, "5000.00"),  # exactly at the supported threshold: alert
        (people["exited"], 2024, "4999.99"),  # one fen below: stored only
        (people["target"], 2023, "5000.00"),
        (people["target"], 2024, "4999.99"),
        (people["general"], 2023, "20000.00"),  # exactly at the general threshold: alert
        (people["general"], 2024, "19999.99"),
        (people["stranger"], 2023, "20000.00"),  # not found: general threshold
        (people["stranger"], 2024, "19999.99"),
    ]
    submit(world, tmp_path, via, lines)
    assert alerted() == {(people[p], 2023) for p in ("exited", "target", "general", "stranger")}


@pytest.mark.parametrize("via", ["api", "excel"])
def test_a_changed_threshold_applies_to_the_next_extract(
    world: World, people: dict[str, str], tmp_path: Path, via: str
) -> None:
    screening_parameters_set(
        actor=world.users["admin"], **{SUPPORTED: Decimal("6000.00"), GENERAL: Decimal("15000.00")}
    )
    submit(
        world,
        tmp_path,
        via,
        [
            (people["exited"], 2023, "5999.99"),
            (people["exited"], 2024, "6000.00"),
            (people["general"], 2023, "14999.99"),
            (people["general"], 2024, "15000.00"),
        ],
    )
    assert alerted() == {(people["exited"], 2024), (people["general"], 2024)}


def test_parameters_page_shows_and_changes_the_thresholds_with_audit(world: World) -> None:
    client = Client()
    client.force_login(world.users["admin"])
    page = client.get(reverse("monitoring:parameters")).content.decode()
    assert LABEL_SUPPORTED in page and LABEL_GENERAL in page
    assert 'value="5000.00"' in page and 'value="20000.00"' in page
    form = {
        "kind": "params",
        "spike_ratio": "1",
        "drop_ratio": "0.3",
        "drop_line_multiple": "2",
        "scale_cap_normal": "0.05",
        "scale_cap_deep": "0.1",
        "scale_floor": "0.01",
        SUPPORTED: "6000",
        GENERAL: "20000.00",
        "reason": "市医保局 2025 年通知",
    }
    response = client.post(reverse("monitoring:parameters"), form)
    assert response.status_code == 302
    params = screening_parameters_get()
    assert (params.medical_alert_supported, params.medical_alert_general) == (Decimal("6000.00"), Decimal("20000.00"))
    entry = AuditEntry.objects.get(object_type="screening_parameter")
    assert (entry.object_id, entry.from_state, entry.to_state, entry.reason, entry.actor) == (
        SUPPORTED,
        "5000.00",
        "6000",
        "市医保局 2025 年通知",
        world.users["admin"],
    )
    assert 'value="6000.00"' in client.get(reverse("monitoring:parameters")).content.decode()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (SUPPORTED, "0", f"{LABEL_SUPPORTED}必须大于 0 元。"),
        (GENERAL, "-100", f"{LABEL_GENERAL}必须大于 0 元。"),
        (SUPPORTED, "5000.001", f"{LABEL_SUPPORTED}最多保留 2 位小数（精确到分）。"),
        (GENERAL, "两万", f"{LABEL_GENERAL}必须是数字（单位：元）。"),
        (GENERAL, "", f"请填写{LABEL_GENERAL}。"),
    ],
)
def test_invalid_thresholds_are_refused_next_to_the_field(world: World, field: str, value: str, message: str) -> None:
    client = Client()
    client.force_login(world.users["admin"])
    form: dict[str, Any] = {
        "kind": "params",
        "spike_ratio": "1",
        "drop_ratio": "0.3",
        "drop_line_multiple": "2",
        "scale_cap_normal": "0.05",
        "scale_cap_deep": "0.1",
        "scale_floor": "0.01",
        SUPPORTED: "5000",
        GENERAL: "20000",
        field: value,
    }
    response = client.post(reverse("monitoring:parameters"), form)
    assert response.status_code == 400
    assert f'<div class="invalid-feedback">{message}</div>' in response.content.decode()
    params = screening_parameters_get()
    assert (params.medical_alert_supported, params.medical_alert_general) == (Decimal("5000.00"), Decimal("20000.00"))
    assert not AuditEntry.objects.filter(object_type="screening_parameter").exists()


def test_service_refuses_a_non_positive_threshold_and_the_database_too(world: World) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        screening_parameters_set(actor=world.users["admin"], **{SUPPORTED: Decimal("0")})
    assert exc.value.message_dict == {SUPPORTED: [f"{LABEL_SUPPORTED}必须大于 0 元。"]}
    screening_parameters_get()
    with pytest.raises(IntegrityError), transaction.atomic():
        ScreeningParameters.objects.filter(id=1).update(medical_alert_general=Decimal("0"))
