"""Issue 10: the same alert batch sent twice at the same moment yields one set of alerts,
expenditures and leads (PostgreSQL: real threads with their own connections; SQLite has one writer)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from monitoring.models import DepartmentAlert, Lead, RigidExpenditure
from monitoring.services.alerts import alerts_submit
from tests.conftest import World
from tests.monitoring.test_review_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("需要 PostgreSQL（两个连接同时写入）")


@pytest.mark.parametrize("rounds", [3])
def test_the_same_batch_twice_at_once_is_written_once(world: World, rounds: int) -> None:
    dept = world.users["dept"]
    people = [
        hh.members.get() for code, hh in sorted(world.households.items()) if code.startswith("520101")
    ]  # the department's county
    for n in range(rounds):
        batch = [
            {
                "idempotency_key": f"r{n}-{i}",
                "id_number": m.id_number,
                "name": m.name,
                "alert_type": "MEDICAL",
                "alert_date": dt.date(2025, 3, 1 + n),
                "amount": Decimal("30000.00"),
                "department": "医保",
                "note": "",
            }
            for i, m in enumerate(people)
        ]
        results = race(
            lambda b=batch: alerts_submit(user=dept, items=b), lambda b=batch: alerts_submit(user=dept, items=b)
        )
        assert not [r for r in results if isinstance(r, Exception)], results
        # one of the two saw the other's keys: every item a duplicate
        assert sorted(all(o.duplicate for o in r) for r in results) == [False, True]
        assert DepartmentAlert.objects.filter(alert_date=dt.date(2025, 3, 1 + n)).count() == len(people)
        assert RigidExpenditure.objects.filter(occurred_on=dt.date(2025, 3, 1 + n)).count() == len(people)
    for lead in Lead.objects.all():
        assert len(lead.evidence["DEPARTMENT_ALERT"]) == rounds  # one entry per round, none doubled
    assert Lead.objects.count() == len({m.household_id for m in people})


@pytest.mark.parametrize("rounds", [6])
def test_an_extract_and_another_department_record_the_same_cost_at_once(world: World, rounds: int) -> None:
    """医保's extract (its system alert) and 卫健's own alert carry the same medical cost (member, date,
    amount) at the same moment, under different department locks: one rigid expenditure, linked by
    both alerts, and no unique-key error for either."""
    from fanpin.core.roles import Department, Role
    from monitoring.models import AlertOrigin, HouseholdType
    from monitoring.services.alerts import medical_settlements_submit
    from tests.factories import user

    household = world.households["520101001001"]
    household.household_type, household.exit_year = HouseholdType.EXITED, 2016
    household.save(update_fields=["household_type", "exit_year"])
    from tests.factories import MemberFactory

    head = household.members.get()
    health = user("weijian", Role.DEPT, "520101000000", department=Department.HEALTH)
    for n in range(rounds):
        # alert dates lie within the last five years (monitoring.services.alerts.dates): the years repeat, each round
        # with a member of its own
        year = 2025 - n % 5
        member = head if n == 0 else MemberFactory(household=household)
        amount = Decimal("6000.00") + n  # one household: the same date and amount would be one expense
        line = {"id_number": member.id_number, "year": year, "out_of_pocket": amount}
        own = {
            "idempotency_key": f"wj-{n}",
            "id_number": member.id_number,
            "name": member.name,
            "alert_type": "MEDICAL",
            "alert_date": dt.date(year, 12, 31),  # the date the system gives the extract's alert
            "amount": amount,
            "note": "",
        }
        results = race(
            lambda line=line: medical_settlements_submit(user=world.users["dept"], items=[line]),
            lambda own=own: alerts_submit(user=health, items=[own]),
        )
        assert not [r for r in results if isinstance(r, Exception)], results
        alerts = DepartmentAlert.objects.filter(alert_date=dt.date(year, 12, 31), id_number=member.id_number)
        assert sorted(alerts.values_list("origin", flat=True)) == [AlertOrigin.DEPARTMENT, AlertOrigin.MEDICAL_EXTRACT]
        (cost,) = RigidExpenditure.objects.filter(occurred_on=dt.date(year, 12, 31), amount=amount)
        assert set(alerts.values_list("expenditure_id", flat=True)) == {cost.pk}
