"""Issue 19 item 2: POST/GET /api/v1/assistance-rosters/ — the same matching as the upload,
idempotent re-send, scoping, a 民政 user sees only its own lines, a fixed number of queries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from fanpin.core.models import AuditEntry
from fanpin.core.roles import Department, Role
from monitoring.models import AlertStatus, AssistanceEntry, Member
from tests.conftest import World
from tests.factories import MemberFactory, make_id_number, user

pytestmark = pytest.mark.django_db
URL = "/api/v1/assistance-rosters/"
VILLAGE = "520101001001"


def client_of(actor: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(actor)
    return client


def minzheng(world: World, name: str = "minzheng", region: str = "520101000000") -> Any:
    if name not in world.users:
        world.users[name] = user(name, Role.DEPT, region, department=Department.CIVIL_AFFAIRS)
    return world.users[name]


def registered_name(id_number: str) -> str:
    """The name a member of that number is registered under (a roster line names the person)."""
    return Member.objects.filter(id_number=id_number).values_list("name", flat=True).first() or "张三"


def line(id_number: str, **over: Any) -> dict[str, Any]:
    return {
        "id_number": id_number,
        "name": registered_name(id_number),
        "category": "SUBSISTENCE",
        "start_date": "2026-01-01",
        "end_date": None,
        "monthly_amount": "450.00",
        **over,
    }


def head(world: World, village: str = VILLAGE) -> str:
    return world.households[village].members.get().id_number


def test_submit_matches_keeps_unmatched_and_a_resend_changes_nothing(world: World) -> None:
    batch = {"entries": [line(head(world)), line(make_id_number(), category="DESTITUTE")]}
    client = client_of(minzheng(world))
    first = client.post(URL, batch, format="json")
    assert first.status_code == 201, first.content
    body = first.json()
    assert (body["matched"], body["unmatched"], body["unchanged"]) == (1, 1, 0)
    assert [r["status"] for r in body["results"]] == [AlertStatus.MATCHED, AlertStatus.UNMATCHED]
    before = list(AssistanceEntry.objects.order_by("pk").values())
    audits = AuditEntry.objects.filter(object_type="assistance_entry").count()
    again = client.post(URL, batch, format="json").json()
    assert (again["unchanged"], [r["action"] for r in again["results"]]) == (2, ["same", "same"])
    assert [r["id"] for r in again["results"]] == [r["id"] for r in body["results"]]
    assert list(AssistanceEntry.objects.order_by("pk").values()) == before
    assert AuditEntry.objects.filter(object_type="assistance_entry").count() == audits == 2


def test_other_region_is_unmatched_like_nobody(world: World) -> None:
    outside = head(world, "520102001001")
    body = client_of(minzheng(world)).post(URL, {"entries": [line(outside)]}, format="json").json()
    assert body["results"][0]["status"] == AlertStatus.UNMATCHED
    assert AssistanceEntry.objects.get().member is None


def test_department_reads_only_its_own_lines_without_household_data(world: World) -> None:
    own, other = minzheng(world), minzheng(world, "minzheng2", "520102000000")
    client_of(own).post(URL, {"entries": [line(head(world))]}, format="json")
    client_of(other).post(URL, {"entries": [line(head(world, "520102001001"), category="DESTITUTE")]}, format="json")
    mine = client_of(own).get(URL).json()
    assert mine["count"] == 1 and mine["results"][0]["category"] == "SUBSISTENCE"
    own_line = mine["results"][0]
    assert own_line["household_no"] is None and own_line["name"] == registered_name(head(world))
    assert own_line["id_number_masked"] == f"{head(world)[:6]}********{head(world)[-4:]}"
    assert "外" not in str(mine) and own_line["source_row"] is None and own_line["unmatched_reason"] == ""
    other_id = AssistanceEntry.objects.get(category="DESTITUTE").pk
    assert client_of(own).get(f"{URL}{other_id}/").status_code == 404
    county = client_of(world.users["county"]).get(URL).json()
    assert county["count"] == 1 and county["results"][0]["household_no"] == f"H{VILLAGE}"


def test_who_may_send_and_read(world: World) -> None:
    batch = {"entries": [line(head(world))]}
    assert client_of(world.users["dept"]).post(URL, batch, format="json").status_code == 403  # 医保
    assert client_of(world.users["village"]).post(URL, batch, format="json").status_code == 403
    assert client_of(world.users["village"]).get(URL).status_code == 403
    assert client_of(world.users["county"]).post(URL, batch, format="json").status_code == 201
    bad = client_of(minzheng(world)).post(
        URL, {"entries": [line(head(world), start_date="2026-05-01", end_date="2026-04-01")]}, format="json"
    )
    assert bad.status_code == 400 and "结束日期" in bad.content.decode()


def test_query_count_is_pinned(world: World) -> None:
    """A batch takes the same, pinned number of queries whatever its size (members matched, lines
    read and written, audit rows inserted, each in one statement); so does the list."""
    actor = minzheng(world)
    few = [MemberFactory(household=world.households[VILLAGE]).id_number for _ in range(3)]
    many = [MemberFactory(household=world.households["520101002001"]).id_number for _ in range(20)]

    def send(ids: list[str]) -> int:
        client = client_of(actor)
        entries = [line(n) for n in ids]
        with CaptureQueriesContext(connection) as ctx:
            assert client.post(URL, {"entries": entries}, format="json").status_code == 201
        return len(ctx.captured_queries)

    small = send(few)
    large = send(many + [make_id_number() for _ in range(10)])
    # two savepoints and their releases (the submit and the write are atomic), the unit's lock
    # (PostgreSQL), match members, their names, read the unit's lines, insert lines, insert audit
    # rows, read ids
    lock = 1 if connection.vendor == "postgresql" else 0
    assert small == large == 10 + lock
    resend = send(few)  # nothing written: match and read only
    assert resend == 7 + lock

    def read() -> int:
        client = client_of(world.users["county"])
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL).status_code == 200
        return len(ctx.captured_queries)

    assert read() == 2  # count + page (members and households joined)


@pytest.mark.parametrize("amount", ["1e9", "9999999999.99", "1_000", "100000.01"])
def test_an_implausible_monthly_amount_is_refused(world: World, amount: str) -> None:
    answer = client_of(minzheng(world)).post(
        URL, {"entries": [line(head(world)), line(head(world), category="DESTITUTE", monthly_amount=amount)]},
        format="json",
    )  # fmt: skip
    assert answer.status_code == 400, answer.json()
    assert not AssistanceEntry.objects.exists()
    if amount == "100000.01":
        assert "第 2 条" in str(answer.json()) and "月救助金额不能超过" in str(answer.json())


def test_a_different_name_is_unmatched_with_the_reason(world: World) -> None:
    body = client_of(minzheng(world)).post(URL, {"entries": [line(head(world), name="李错名")]}, format="json").json()
    assert body["unmatched"] == 1
    read = client_of(minzheng(world)).get(URL).json()["results"][0]
    # 民政 learns 未匹配 only: a name mismatch and an unknown number answer alike, so a department
    # cannot try numbers to learn which belong to someone in its region
    assert read["unmatched_reason"] == "" and read["name"] == "李错名" and read["status"] == "UNMATCHED"
    county = client_of(world.users["county"]).get(URL).json()["results"][0]
    assert county["unmatched_reason"] == "姓名与身份证号不符"


@pytest.mark.parametrize("amount", ["1,000", "１０００", " 1000.00 "])
def test_an_amount_is_read_as_the_imports_read_it(world: World, amount: str) -> None:
    """Thousands commas and full-width digits read as in an uploaded sheet (``number_text_parse``),
    not refused by the API alone."""
    answer = client_of(minzheng(world)).post(
        URL, {"entries": [line(head(world), monthly_amount=amount)]}, format="json"
    )
    assert answer.status_code == 201, answer.json()
    assert AssistanceEntry.objects.get().monthly_amount == Decimal("1000.00")
