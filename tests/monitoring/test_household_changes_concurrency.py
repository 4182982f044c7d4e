"""Two accepts of one household change at once (two submits, two people) apply it once.

Real threads with their own connections, as ``test_review_concurrency``: PostgreSQL (row locks on
the change, its households and member) or SQLite in a file (one writer at a time).
"""

from __future__ import annotations

import pytest

from fanpin.core.models import AuditEntry
from fanpin.core.workflow import TransitionNotAllowed
from monitoring.models import ChangeKind, ChangeState, HouseholdChange, Member, Relation
from monitoring.services.household_changes import ChangeProposal, household_change_accept, household_changes_propose
from tests.conftest import World
from tests.factories import MemberFactory
from tests.monitoring.test_review_concurrency import _shared_database, race

pytestmark = [pytest.mark.django_db(transaction=True)]
__all__ = ["_shared_database"]  # the fixture that skips on in-memory SQLite


@pytest.mark.parametrize("rounds", [3])
def test_two_accepts_at_once_apply_once(world: World, rounds: int) -> None:
    county, admin = world.users["county"], world.users["admin"]
    origin, target = world.households["520101001001"], world.households["520101001002"]
    for _ in range(rounds):
        son = MemberFactory(household=origin, relation=Relation.SON)
        proposal = ChangeProposal(
            kind=ChangeKind.MOVE,
            household_id=origin.pk,
            region_code=origin.village_id,
            member_id=son.pk,
            target_household_id=target.pk,
            before={"household_id": origin.pk, "household_no": origin.household_no, "relation": "SON"},
            after={"household_id": target.pk, "household_no": target.household_no, "relation": "SON"},
        )
        change_id = household_changes_propose(proposals=[proposal], actor=county).ids[0]
        results = race(
            lambda pk=change_id: household_change_accept(actor=county, change_id=pk),
            lambda pk=change_id: household_change_accept(actor=admin, change_id=pk),
        )
        done = [r for r in results if isinstance(r, HouseholdChange)]
        refused = [r for r in results if isinstance(r, TransitionNotAllowed)]
        assert len(done) == 1 and len(refused) == 1, results
        assert HouseholdChange.objects.get(pk=change_id).state == ChangeState.ACCEPTED
        assert Member.objects.get(pk=son.pk).household_id == target.pk
        accepted = AuditEntry.objects.filter(object_type="household_change", object_id=str(change_id), action="accept")
        assert accepted.count() == 1
