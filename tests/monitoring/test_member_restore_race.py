"""恢复在册 of a departed 户主 while an import names another 户主 at the same moment: a message
naming the household, never a server error (PostgreSQL, real threads)."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.utils import timezone

from monitoring.models import Member, MemberStatus, Relation
from monitoring.services.members import member_restore
from tests.conftest import World
from tests.factories import HouseholdFactory, MemberFactory, region


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
def test_a_head_named_at_the_same_moment_answers_with_the_message(world: World) -> None:
    hh = HouseholdFactory(village=region("520101001001"), household_no="H520101001055")
    old = MemberFactory(
        household=hh,
        relation=Relation.HEAD,
        name="吴大",
        status=MemberStatus.DECEASED,
        departed_on=timezone.localdate(),
    )
    son = MemberFactory(household=hh, relation=Relation.SON, name="吴小")
    named, release, out = threading.Event(), threading.Event(), {}

    def importer() -> None:
        try:
            with transaction.atomic():
                Member.objects.filter(pk=son.pk).update(relation=Relation.HEAD)
                named.set()
                release.wait(20)
        finally:
            connections.close_all()

    def county() -> None:
        try:
            out["result"] = member_restore(actor=world.users["county"], member_id=old.pk, reason="误报")
        except Exception as exc:
            out["result"] = exc
        finally:
            connections.close_all()

    holder = threading.Thread(target=importer)
    holder.start()
    assert named.wait(20)
    waiter = threading.Thread(target=county)
    waiter.start()
    waiter.join(1.5)
    release.set()
    holder.join(20)
    waiter.join(20)
    assert isinstance(out.get("result"), ValidationError), out
    assert "已有在册户主" in str(out["result"])
    old.refresh_from_db()
    assert old.status == MemberStatus.DECEASED
