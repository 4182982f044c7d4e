"""A national change and a province's change of the screening parameters validate the merged
values (a province's own over the national ones); they take the national row's lock in the same
order, so neither validates against the other's old values (PostgreSQL, real threads)."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections, transaction

from monitoring.selectors.province_parameters import parameter_values_for
from monitoring.services.parameters import national_parameters_lock
from monitoring.services.province_parameters import province_parameters_set
from tests.conftest import World

P52 = "520000000000"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
def test_a_province_change_waits_for_a_national_change_and_validates_against_it(world: World) -> None:
    from monitoring.services.parameters import screening_parameters_set

    locked, release, out = threading.Event(), threading.Event(), {}

    def national() -> None:  # the national page: holds the national row while it checks the provinces
        try:
            with transaction.atomic():
                national_parameters_lock()
                locked.set()
                release.wait(20)
                screening_parameters_set(actor=world.users["admin"], reason="国家文件", spike_ratio=Decimal("0.7"))
        finally:
            connections.close_all()

    def province() -> None:
        try:
            out["result"] = province_parameters_set(
                actor=world.users["admin"], province_code=P52, values={"spike_ratio": "0.6"}, reason="本省文件"
            )
        except Exception as exc:  # the outcome is what the test compares
            out["result"] = exc
        finally:
            connections.close_all()

    holder = threading.Thread(target=national)
    holder.start()
    assert locked.wait(20)
    waiter = threading.Thread(target=province)
    waiter.start()
    waiter.join(1.5)
    assert waiter.is_alive(), out  # the province's change waits for the national one
    release.set()
    holder.join(20)
    waiter.join(20)
    assert not isinstance(out.get("result"), Exception), out
    values: dict[str, Any] = parameter_values_for(province_code=P52)
    assert values["spike_ratio"] == Decimal("0.6")
