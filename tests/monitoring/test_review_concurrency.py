"""Acceptance 2: two users acting on the same lead at once yield one outcome, never a second target.

Real threads with their own connections on PostgreSQL (row lock in ``Workflow.lock``); SQLite
serialises writers anyway and has no row locks, so this runs on PostgreSQL only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from fanpin.core.workflow import TransitionNotAllowed
from monitoring.models import Lead, LeadState, MonitoringTarget
from monitoring.services import review
from tests.conftest import World
from tests.monitoring.review_helpers import VILLAGE, decision, lead_in

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _shared_database() -> None:
    """PostgreSQL (row locks), or SQLite in a file (SQLITE_TEST_NAME, as .ci/run runs this module):
    two connections need one database; the in-memory test database is one per connection."""
    if connection.vendor == "sqlite" and connection.settings_dict["TEST"]["NAME"] in ("", ":memory:", None):
        pytest.skip("需要 PostgreSQL 或文件中的 SQLite（SQLITE_TEST_NAME）")


def race(*actions: Callable[[], Any]) -> list[Any]:
    """Run the actions in threads released at the same moment; each result or exception."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(i: int, action: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[i] = action()
        except Exception as exc:  # the outcome is what we compare
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@pytest.mark.parametrize("rounds", [5])
def test_two_confirmations_at_once_make_one_target(world: World, rounds: int) -> None:
    county, admin = world.users["county"], world.users["admin"]
    for _ in range(rounds):
        MonitoringTarget.objects.all().delete()
        Lead.objects.all().delete()
        lead = lead_in(world.households[VILLAGE], LeadState.REVIEWED)
        results = race(
            lambda pk=lead.pk: review.lead_confirm(
                lead_id=pk, actor=county, decision=decision(category="EDGE_AT_RISK")
            ),
            lambda pk=lead.pk: review.lead_confirm(
                lead_id=pk, actor=admin, decision=decision(category="SUDDEN_HARDSHIP")
            ),
        )
        done = [r for r in results if isinstance(r, Lead)]
        refused = [r for r in results if isinstance(r, TransitionNotAllowed)]
        assert len(done) == 1 and len(refused) == 1, results
        assert "当前状态为“县级已确定”" in refused[0].messages[0]
        assert MonitoringTarget.objects.filter(lead=lead).count() == 1


def test_confirm_and_reject_at_once_have_one_outcome(world: World) -> None:
    lead = lead_in(world.households[VILLAGE], LeadState.REVIEWED)
    county, admin = world.users["county"], world.users["admin"]
    results = race(
        lambda: review.lead_confirm(lead_id=lead.pk, actor=county, decision=decision()),
        lambda: review.lead_reject(lead_id=lead.pk, actor=admin, reason="不符合条件"),
    )
    assert sum(isinstance(r, Lead) for r in results) == 1, results
    assert sum(isinstance(r, TransitionNotAllowed) for r in results) == 1, results
    lead.refresh_from_db()
    assert MonitoringTarget.objects.filter(lead=lead).count() == (1 if lead.state == LeadState.CONFIRMED else 0)


def test_two_new_sources_at_once_make_one_open_lead(world: World) -> None:
    hh = world.households[VILLAGE]
    results = race(
        lambda: review.lead_raise_or_merge(household_id=hh.pk, source="VISIT", evidence={"note": "走访"}),
        lambda: review.lead_raise_or_merge(household_id=hh.pk, source="SELF_APPLICATION", evidence={"note": "申报"}),
    )
    assert all(isinstance(r, Lead) for r in results), results
    lead = Lead.objects.get()
    assert lead.sources == ["SELF_APPLICATION", "VISIT"]
