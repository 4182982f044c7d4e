"""Issue 16, hole 5: an alert key is the submitting unit's own (来源部门 + the submitter's region).

Before, the answer to an alert whose key (身份证号+预警类型+预警日期) another department or county had
used was a refusal: a department learnt that someone else had reported an event for any 身份证号
on a date.  Now each unit's keys never meet another's, so every answer below is compared in full
(ids aside: they are drawn from one counter) with and without the other unit's report.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from fanpin.core.models import User
from fanpin.core.roles import Department, Role
from monitoring.models import AlertStatus, DepartmentAlert, ImportJob, MedicalSettlement
from monitoring.services.imports.jobs import import_job_preview_run, import_job_run
from tests.conftest import World
from tests.factories import make_id_number, user
from tests.monitoring.xlsx import kind_sheet

pytestmark = pytest.mark.django_db

VILLAGE = "520101001001"


def api_for(account: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(account)
    return client


def item(id_number: str, key: str, **over: Any) -> dict[str, Any]:
    return {
        "idempotency_key": key,
        "id_number": id_number,
        "name": "张三",
        "alert_type": "MEDICAL",
        "alert_date": "2025-03-14",
        "amount": "23456.00",
        **over,
    }


def without_ids(data: Any) -> Any:
    """The answer with ids and timestamps left out (one counter and a clock for everyone)."""
    if isinstance(data, dict):
        return {k: without_ids(v) for k, v in data.items() if k not in ("id", "created_at")}
    if isinstance(data, list):
        return [without_ids(v) for v in data]
    return data


def answered(first: Callable[[], Any] | None, then: Callable[[], Any]) -> Any:
    """What ``then`` answers after ``first`` (or alone), rolled back afterwards."""
    with transaction.atomic():
        if first is not None:
            first()
        out = then()
        transaction.set_rollback(True)
    return out


@pytest.fixture
def civil(world: World) -> User:
    return user("minzheng", Role.DEPT, "520101000000", department=Department.CIVIL_AFFAIRS)


@pytest.fixture
def neighbour(world: World) -> User:
    """The 医保 of another county (520102)."""
    return user("yibao-520102", Role.DEPT, "520102000000", department=Department.MEDICAL_INSURANCE)


def api_answer(account: User, items: list[dict[str, Any]]) -> Any:
    client = api_for(account)
    response = client.post("/api/v1/alerts/", {"alerts": items}, format="json")
    listing = client.get("/api/v1/alerts/")
    assert listing.status_code == 200
    return response.status_code, without_ids(response.json()), without_ids(listing.json())


def test_two_departments_submit_the_same_key_each_as_its_own(world: World, civil: User) -> None:
    member = world.households[VILLAGE].members.get().id_number
    stranger = make_id_number()
    a = [item(member, "a1"), item(stranger, "a2", alert_type="UNEMPLOYMENT", amount=None)]
    b = [item(member, "b1"), item(stranger, "b2", alert_type="UNEMPLOYMENT", amount=None)]
    alone = answered(None, lambda: api_answer(world.users["dept"], b))
    after_a = answered(lambda: api_answer(civil, a), lambda: api_answer(world.users["dept"], b))
    assert alone == after_a
    status, body, listing = after_a
    assert status == 201 and (body["matched"], body["unmatched"], body["duplicates"]) == (1, 1, 0)
    assert listing["count"] == 2

    # Both stored, each its department's own, both matched to the member.
    api_answer(civil, a)
    api_answer(world.users["dept"], b)
    assert sorted(DepartmentAlert.objects.filter(id_number=member).values_list("department", "status")) == [
        ("医保", AlertStatus.MATCHED),
        ("民政", AlertStatus.MATCHED),
    ]
    # The household's expense counts once, whoever reported it.
    assert world.households[VILLAGE].expenditures.count() == 1


def test_the_same_idempotency_key_of_another_county_is_no_duplicate(world: World, neighbour: User) -> None:
    member = world.households[VILLAGE].members.get().id_number
    alone = answered(None, lambda: api_answer(neighbour, [item(member, "k1")]))
    after = answered(
        lambda: api_answer(world.users["dept"], [item(member, "k1")]),
        lambda: api_answer(neighbour, [item(member, "k1")]),
    )
    assert alone == after
    status, body, _listing = after
    assert status == 201 and body["duplicates"] == 0 and body["results"][0]["status"] == "UNMATCHED"


def test_a_county_scope_user_of_another_county_learns_nothing(world: World, neighbour: User) -> None:
    member = world.households[VILLAGE].members.get().id_number
    mine = [item(member, "n1"), item(member, "n2", alert_type="DISASTER")]
    alone = answered(None, lambda: api_answer(neighbour, mine))
    after = answered(lambda: api_answer(world.users["dept"], [item(member, "c1")]), lambda: api_answer(neighbour, mine))
    assert alone == after
    # and the county's matched alert is untouched by the neighbour's
    api_answer(world.users["dept"], [item(member, "c1")])
    api_answer(neighbour, mine)
    county = DepartmentAlert.objects.get(scope_code="520101000000")
    assert (county.status, county.region_code) == (AlertStatus.MATCHED, VILLAGE)


def upload_answer(account: User, path: Path, capture: Any, kind: str = "alerts") -> Any:
    client = Client()
    client.force_login(account)
    client.post(reverse("monitoring:import_list"), {"kind": kind, "file": _file(path)})
    job = import_job_preview_run(job_id=ImportJob.objects.latest("pk").pk)  # the check, a task after the commit
    preview = (job.status, job.message, job.errors, job.created_count, job.updated_count, job.unchanged_count)
    if job.status != "VALIDATED":
        return preview, None
    with capture(execute=False):
        client.post(reverse("monitoring:import_confirm", args=[job.pk]))
    import_job_run(job_id=job.pk)
    job.refresh_from_db()
    done = (job.status, job.message, job.errors, job.created_count, job.updated_count, job.unchanged_count)
    return preview, done


def _file(path: Path) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(path.name, path.read_bytes())


def test_an_uploaded_sheet_is_answered_alike(
    world: World, civil: User, neighbour: User, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    member = world.households[VILLAGE].members.get().id_number
    row = {"身份证号": member, "姓名": "张三", "预警类型": "申请低保", "预警日期": "2025-03-14"}
    sheet = kind_sheet(tmp_path / "a.xlsx", "alerts", [row])
    capture = django_capture_on_commit_callbacks
    for other, me in ((civil, world.users["dept"]), (world.users["dept"], neighbour)):
        alone = answered(None, lambda me=me: upload_answer(me, sheet, capture))
        after = answered(
            lambda other=other: upload_answer(other, sheet, capture), lambda me=me: upload_answer(me, sheet, capture)
        )
        assert alone == after
        assert after[1] is not None and after[1][0] == "SUCCEEDED" and after[1][3] == 1  # 新增 1 行


def test_a_medical_extract_of_another_county_is_neither_overwritten_nor_told(
    world: World, neighbour: User, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    member = world.households[VILLAGE].members.get().id_number
    line = {"身份证号": member, "年度": 2024, "个人自付医疗费用": 30000}
    sheet = kind_sheet(tmp_path / "m.xlsx", "medical", [line])
    capture = django_capture_on_commit_callbacks
    alone = answered(None, lambda: upload_answer(neighbour, sheet, capture, kind="medical"))
    after = answered(
        lambda: upload_answer(world.users["dept"], sheet, capture, kind="medical"),
        lambda: upload_answer(neighbour, sheet, capture, kind="medical"),
    )
    assert alone == after
    upload_answer(world.users["dept"], sheet, capture, kind="medical")
    upload_answer(neighbour, sheet, capture, kind="medical")
    county = MedicalSettlement.objects.get(scope_code="520101000000")
    assert county.member is not None and county.region_code == VILLAGE
    assert MedicalSettlement.objects.get(scope_code="520102000000").member is None


def test_the_migration_puts_stored_alerts_in_their_submitter_unit(world: World, civil: User) -> None:
    from importlib import import_module

    from django.apps import apps

    member = world.households[VILLAGE].members.get().id_number
    api_answer(civil, [item(member, "a1")])
    lines = [{"id_number": make_id_number(), "year": 2024, "out_of_pocket": "30000"}]
    assert (
        api_for(world.users["dept"])
        .post("/api/v1/medical-settlements/", {"settlements": lines}, format="json")
        .status_code
        == 201
    )
    DepartmentAlert.objects.update(scope_code="")
    MedicalSettlement.objects.update(scope_code="")
    import_module("monitoring.migrations.0016_alert_unit_keys").units_fill(apps, None)
    assert set(DepartmentAlert.objects.values_list("department", "scope_code")) == {
        ("民政", "520101000000"),
        ("医保", "520101000000"),
    }
    assert MedicalSettlement.objects.get().scope_code == "520101000000"


def test_a_department_lists_only_its_own_units_alerts(world: World) -> None:
    """Outside probe F6: the county 医保 listed the province 医保's alert on one of its villagers
    (a matched alert carries the member's village code), and the province 医保 the county's."""
    member = world.households[VILLAGE].members.get()
    province = user("yibao-52", Role.DEPT, "520000000000", department=Department.MEDICAL_INSURANCE)
    county = world.users["dept"]  # 医保 of county 520101
    api_for(province).post("/api/v1/alerts/", {"alerts": [item(member.id_number, "p-1")]}, format="json")
    api_for(county).post(
        "/api/v1/alerts/", {"alerts": [item(member.id_number, "c-1", alert_type="DISABILITY")]}, format="json"
    )
    assert DepartmentAlert.objects.count() == 2
    for account, key in ((province, "p-1"), (county, "c-1")):
        rows = api_for(account).get("/api/v1/alerts/").json()["results"]
        assert [r["idempotency_key"] for r in rows] == [key], account.username
        page = Client()
        page.force_login(account)
        other = "c-1" if key == "p-1" else "p-1"
        assert other not in page.get(reverse("monitoring:alert_list")).content.decode()
