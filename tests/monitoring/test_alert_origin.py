"""The alerts the system makes from 医保 settlement lines are kept apart from the alerts departments
submit (AlertOrigin): a department's answer must not tell whether the system made an alert for the
same person and date, since that a 5 000–20 000 元 line alerted means the person belongs to a
脱贫户 or a monitoring target (household data a department may not learn)."""

from __future__ import annotations

import datetime as dt
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from rest_framework.test import APIClient

from monitoring.models import AlertOrigin, AlertStatus, DepartmentAlert, HouseholdType, MedicalSettlement
from monitoring.services.imports.pipeline import import_run
from tests.conftest import World
from tests.monitoring.xlsx import kind_sheet

pytestmark = pytest.mark.django_db

YEAR = 2024
EXTRACT_DATE = "2024-12-31"  # the date the system gives the alert of a past year's line


@pytest.fixture
def people(world: World) -> dict[str, str]:
    """身份证号 of a 脱贫户 member and of an ordinary member, both sent with a 6 000 元 line: only the
    first alerts (supported threshold 5 000 元, general 20 000 元)."""
    exited = world.households["520101001001"]
    exited.household_type, exited.exit_year = HouseholdType.EXITED, 2019
    exited.save(update_fields=["household_type", "exit_year"])
    people = {
        "exited": exited.members.get().id_number,
        "general": world.households["520101001002"].members.get().id_number,
    }
    api = dept_api(world)
    lines = [{"id_number": i, "year": YEAR, "out_of_pocket": "6000"} for i in people.values()]
    assert api.post("/api/v1/medical-settlements/", {"settlements": lines}, format="json").status_code == 201
    extract = DepartmentAlert.objects.get()
    assert (extract.id_number, extract.origin) == (people["exited"], AlertOrigin.MEDICAL_EXTRACT)
    assert extract.alert_date == dt.date(YEAR, 12, 31)
    return people


def dept_api(world: World) -> APIClient:
    api = APIClient()
    api.force_authenticate(world.users["dept"])
    return api


def direct(id_number: str, key: str) -> dict[str, Any]:
    return {
        "idempotency_key": key,
        "id_number": id_number,
        "name": "张三",
        "alert_type": "MEDICAL",
        "alert_date": EXTRACT_DATE,
        "amount": "6000.00",
    }


def snapshot(alert: DepartmentAlert) -> tuple[Any, ...]:
    return (alert.pk, alert.amount, alert.note, alert.origin, alert.idempotency_key, alert.updated_at)


def test_a_direct_alert_is_answered_alike_whether_the_extract_alerted(world: World, people: dict[str, str]) -> None:
    extract = DepartmentAlert.objects.get()
    before = snapshot(extract)
    body = {"alerts": [direct(people["exited"], "d-1"), direct(people["general"], "d-2")]}
    response = dept_api(world).post("/api/v1/alerts/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["matched"], data["unmatched"], data["duplicates"]) == (2, 0, 0)
    first, second = data["results"]
    # Both new, both matched, consecutive ids: nothing tells them apart.
    assert [r["duplicate"] for r in (first, second)] == [False, False]
    assert [r["status"] for r in (first, second)] == [AlertStatus.MATCHED, AlertStatus.MATCHED]
    assert second["id"] == first["id"] + 1
    # The system's alert is left as it was; the department's list shows its two alerts only.
    extract.refresh_from_db()
    assert snapshot(extract) == before
    listed = dept_api(world).get("/api/v1/alerts/").json()["results"]
    assert sorted(a["id"] for a in listed) == [first["id"], second["id"]]
    assert {a["origin"] for a in listed} == {AlertOrigin.DEPARTMENT}


def test_the_ids_a_department_sees_do_not_count_the_system_alerts(world: World, people: dict[str, str]) -> None:
    """A department's own alerts, sent before and after a settlement line, are numbered one after
    the other whether the line made an alert (脱贫户 member) or not (ordinary member)."""
    api = dept_api(world)
    gaps = {}
    for n, who in enumerate(("exited", "general")):
        own = {**direct(people["general"], f"a-{n}"), "alert_date": f"2024-03-0{n + 1}"}
        before = api.post("/api/v1/alerts/", {"alerts": [own]}, format="json")
        line = {"id_number": people[who], "year": YEAR - 1, "out_of_pocket": "6000"}
        assert api.post("/api/v1/medical-settlements/", {"settlements": [line]}, format="json").status_code == 201
        after = api.post(
            "/api/v1/alerts/", {"alerts": [{**direct(people["general"], f"b-{n}"), "alert_date": f"2024-04-0{n + 1}"}]},
            format="json",
        )  # fmt: skip
        assert [r.json()["results"][0]["duplicate"] for r in (before, after)] == [False, False]
        gaps[who] = after.json()["results"][0]["id"] - before.json()["results"][0]["id"]
    assert DepartmentAlert.objects.filter(origin=AlertOrigin.MEDICAL_EXTRACT).count() == 2  # the 2024 and 2023 lines
    assert gaps == {"exited": 1, "general": 1}
    made = DepartmentAlert.objects.filter(origin=AlertOrigin.MEDICAL_EXTRACT)
    assert made.filter(pk__lt=0).count() == 2  # numbered apart, below 0
    assert DepartmentAlert.objects.filter(origin=AlertOrigin.DEPARTMENT).earliest("pk").pk > 0


def test_the_extract_idempotency_key_is_not_a_duplicate_for_the_department(
    world: World, people: dict[str, str]
) -> None:
    guessed = f"medical-{people['exited']}-{YEAR}"  # the key the system gave its alert
    body = {"alerts": [{**direct(people["exited"], guessed), "alert_date": "2024-06-01"}]}
    response = dept_api(world).post("/api/v1/alerts/", body, format="json")
    assert response.status_code == 201, response.content
    (result,) = response.json()["results"]
    assert result["duplicate"] is False and result["id"] != DepartmentAlert.objects.get(origin="MEDICAL_EXTRACT").pk
    # Sent again, it is the department's own duplicate.
    again = dept_api(world).post("/api/v1/alerts/", body, format="json").json()["results"][0]
    assert (again["duplicate"], again["id"]) == (True, result["id"])


def test_a_department_cannot_make_its_alert_a_system_alert(world: World, people: dict[str, str]) -> None:
    body = {"alerts": [{**direct(people["general"], "d-9"), "origin": "MEDICAL_EXTRACT"}]}
    response = dept_api(world).post("/api/v1/alerts/", body, format="json")
    assert response.status_code == 201, response.content
    assert DepartmentAlert.objects.get(idempotency_key="d-9").origin == AlertOrigin.DEPARTMENT


def test_an_uploaded_sheet_previews_the_same_for_both(world: World, people: dict[str, str], tmp_path: Path) -> None:
    rows = [
        {"身份证号": people[who], "姓名": "张三", "预警类型": "大额医疗支出", "预警日期": EXTRACT_DATE, "金额": 6000}
        for who in ("exited", "general")
    ]
    sheet = kind_sheet(tmp_path / "预警.xlsx", "alerts", rows)
    preview = import_run(kind="alerts", source=str(sheet), user=world.users["dept"], dry_run=True)
    assert preview.ok, preview.errors
    assert (preview.created, preview.updated, preview.unchanged) == (2, 0, 0)
    result = import_run(kind="alerts", source=str(sheet), user=world.users["dept"])
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    assert DepartmentAlert.objects.filter(origin=AlertOrigin.DEPARTMENT).count() == 2
    assert DepartmentAlert.objects.filter(origin=AlertOrigin.MEDICAL_EXTRACT).count() == 1


def test_a_resent_extract_still_finds_its_own_alert(world: World, people: dict[str, str]) -> None:
    dept_api(world).post("/api/v1/alerts/", {"alerts": [direct(people["exited"], "d-1")]}, format="json")
    line = {"id_number": people["exited"], "year": YEAR, "out_of_pocket": "7000"}
    assert (
        dept_api(world).post("/api/v1/medical-settlements/", {"settlements": [line]}, format="json").status_code == 201
    )
    extract = DepartmentAlert.objects.get(origin=AlertOrigin.MEDICAL_EXTRACT)
    assert MedicalSettlement.objects.get(id_number=people["exited"]).alert_id == extract.pk
    assert DepartmentAlert.objects.get(origin=AlertOrigin.DEPARTMENT).amount == 6000  # untouched


def test_the_migration_marks_the_alerts_made_from_settlement_lines(world: World, people: dict[str, str]) -> None:
    extract = DepartmentAlert.objects.get()
    DepartmentAlert.objects.filter(pk=extract.pk).update(origin=AlertOrigin.DEPARTMENT)  # as before 0015
    body = {"alerts": [{**direct(people["general"], "medical-x"), "alert_date": "2024-05-01"}]}
    assert dept_api(world).post("/api/v1/alerts/", body, format="json").status_code == 201
    migration = import_module("monitoring.migrations.0015_alert_origin")
    migration.mark_extract_alerts(apps, None)
    # Only the alert a settlement line links to; a submitted one with a look-alike key stays.
    assert dict(DepartmentAlert.objects.values_list("idempotency_key", "origin")) == {
        extract.idempotency_key: AlertOrigin.MEDICAL_EXTRACT,
        "medical-x": AlertOrigin.DEPARTMENT,
    }


def test_the_alert_page_names_the_system_alert_for_county_staff_only(world: World, people: dict[str, str]) -> None:
    from django.test import Client
    from django.urls import reverse

    dept_api(world).post("/api/v1/alerts/", {"alerts": [direct(people["general"], "d-1")]}, format="json")
    pages = {}
    for name in ("county", "dept"):
        client = Client()
        client.force_login(world.users[name])
        response = client.get(reverse("monitoring:alert_list"))
        assert response.status_code == 200
        pages[name] = response.content.decode()
    assert pages["county"].count("医保结算生成") == 1 and pages["county"].count("<tr") == 3  # header + 2
    assert "医保结算生成" not in pages["dept"] and pages["dept"].count("<tr") == 2  # header + its own


def test_a_department_correction_leaves_the_expenditure_the_system_alert_shares(
    world: World, people: dict[str, str]
) -> None:
    """The department reports the same medical cost (same person, date and amount) as the system's
    alert from the extract: both link the one rigid expenditure; when the department then corrects
    or withdraws the amount, the system's alert keeps its expenditure as it was."""
    from monitoring.models import RigidExpenditure

    extract = DepartmentAlert.objects.get()
    shared = extract.expenditure
    assert shared is not None and shared.amount == 6000
    api = dept_api(world)
    assert api.post("/api/v1/alerts/", {"alerts": [direct(people["exited"], "d-1")]}, format="json").status_code == 201
    own = DepartmentAlert.objects.get(origin=AlertOrigin.DEPARTMENT)
    assert own.expenditure_id == shared.pk and RigidExpenditure.objects.count() == 1  # not counted twice

    corrected = {**direct(people["exited"], "d-2"), "amount": "100.00"}
    assert api.post("/api/v1/alerts/", {"alerts": [corrected]}, format="json").status_code == 201
    own.refresh_from_db()
    extract.refresh_from_db()
    assert own.amount == 100 and own.expenditure is not None and own.expenditure.amount == 100
    assert extract.expenditure_id == shared.pk
    assert RigidExpenditure.objects.get(pk=shared.pk).amount == 6000

    withdrawn = {**direct(people["exited"], "d-3"), "amount": None}
    assert api.post("/api/v1/alerts/", {"alerts": [withdrawn]}, format="json").status_code == 201
    own.refresh_from_db()
    extract.refresh_from_db()
    assert own.expenditure_id is None and extract.expenditure_id == shared.pk
    assert set(RigidExpenditure.objects.values_list("pk", "amount")) == {(shared.pk, 6000)}


def test_the_migration_turns_a_merged_alert_into_the_system_alert(world: World, people: dict[str, str]) -> None:
    """Before 0015 an extract line could overwrite a department's alert of the same key (keeping the
    department's idempotency key): that row holds the line's figures, so it becomes the system's."""
    extract = DepartmentAlert.objects.get()
    DepartmentAlert.objects.filter(pk=extract.pk).update(origin=AlertOrigin.DEPARTMENT, idempotency_key="yb-0001")
    migration = import_module("monitoring.migrations.0015_alert_origin")
    migration.mark_extract_alerts(apps, None)
    extract.refresh_from_db()
    assert (extract.origin, extract.idempotency_key) == (
        AlertOrigin.MEDICAL_EXTRACT,
        f"medical-{people['exited']}-{YEAR}",
    )
    # The department's list no longer shows it, and a resent extract finds it (no second alert).
    assert dept_api(world).get("/api/v1/alerts/").json()["results"] == []
    line = {"id_number": people["exited"], "year": YEAR, "out_of_pocket": "6000"}
    assert (
        dept_api(world).post("/api/v1/medical-settlements/", {"settlements": [line]}, format="json").status_code == 201
    )
    assert list(DepartmentAlert.objects.values_list("pk", flat=True)) == [extract.pk]


def test_system_alert_ids_go_on_below_the_lowest_stored(world: World, people: dict[str, str]) -> None:
    """No counter to fall behind the rows (a reloaded table, ``loaddata``): the next id is one below
    the lowest stored."""
    from tests.factories import make_id_number

    DepartmentAlert.objects.create(
        pk=-50,
        id_number=make_id_number(),
        name="（医保结算）",
        alert_type="MEDICAL",
        alert_date=dt.date(2020, 12, 31),
        department="医保",
        status=AlertStatus.UNMATCHED,
        origin=AlertOrigin.MEDICAL_EXTRACT,
        idempotency_key="medical-reloaded-2020",
    )
    line = {"id_number": people["general"], "year": YEAR, "out_of_pocket": "25000"}
    assert (
        dept_api(world).post("/api/v1/medical-settlements/", {"settlements": [line]}, format="json").status_code == 201
    )
    assert DepartmentAlert.objects.get(id_number=people["general"], origin=AlertOrigin.MEDICAL_EXTRACT).pk == -51
