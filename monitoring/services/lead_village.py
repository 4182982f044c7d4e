"""A lead's copy of its household's village (``Lead.village``, the scope of leads): the lock it is
read and written under, and the move that takes a household's leads along
(docs/decisions/2026-12-04-village-code-on-leads.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from django.db.models import F, OuterRef, Subquery

from fanpin.core.audit import state_changes_follow
from fanpin.core.models import AuditEntry
from fanpin.core.regions import county_code_of
from monitoring.models import Household, Lead, Region
from monitoring.selectors.regions import village_moves_described

_K = TypeVar("_K")
_V = TypeVar("_V")


def counties_lock(*, village_codes: Iterable[str]) -> None:
    """Hold the rows of the counties of these villages (or county codes) until the transaction
    ends, in code order.  The one lock under which a county's leads are written and its households
    move: screening holds it while it writes a county, the other sources while they raise leads,
    the households import while it moves households (their old and new counties).  So a lead is
    always written with its household's village as it is then, and a move always finds every lead
    written before it (SQLite has one writer at a time: nothing to wait for)."""
    codes = sorted({county_code_of(code) for code in village_codes})
    if codes:
        list(Region.objects.select_for_update().filter(code__in=codes).order_by("code").values_list("code", flat=True))


def counties_lock_read(
    *, read: Callable[[], dict[_K, _V]], village: Callable[[_V], str], locked: Iterable[str] = ()
) -> dict[_K, _V]:
    """``read()`` (households → something holding their village) under the locks of the households'
    counties: lock the counties read, read again, until every household read lies in a county whose
    lock is held (a held county cannot lose a household meanwhile: a move takes both counties'
    locks).  ``locked``: counties (6 digits) this transaction already holds.  Returns the last read."""
    held = set(locked)
    rows = read()
    while wanted := {village(value)[:6] for value in rows.values()} - held:
        counties_lock(village_codes=sorted(wanted))
        held |= wanted
        rows = read()
    return rows


def leads_village_follow(*, household_ids: Sequence[int], actor: Any | None, import_job_id: int | None = None) -> int:
    """The leads of these households that name another village than their household take the
    household's (an import moved it): one read, one UPDATE and their audit rows (``move``: from
    and to which village, by which import), in the caller's transaction, under its county locks.  A
    lead is seen by the regions of its village (``LeadQuerySet.region_path``), so a moved
    household's leads go with it, as its targets and visits do.  Returns how many leads moved."""
    moving = list(
        Lead.objects.filter(household_id__in=household_ids)
        .exclude(village_id=F("household__village_id"))
        .values_list("id", "village_id", "household__village_id", "state")
    )
    if not moving:
        return 0
    Lead.objects.filter(pk__in=[pk for pk, *_ in moving]).update(
        village_id=Subquery(Household.objects.filter(pk=OuterRef("household_id")).values("village_id")[:1])
    )
    village_moves_audit(
        object_type="lead",
        moves=moving,
        actor=actor,
        import_job_id=import_job_id,
    )
    return len(moving)


def village_moves_audit(
    *, object_type: str, moves: Sequence[tuple[int, str, str, str]], actor: Any | None, import_job_id: int | None
) -> None:
    """A ``move`` audit row for each (object id, from village, to village, its state) that followed
    its household to another village (the reason names both villages; ``data``: the codes and the
    import), in one insert; the villages' dashboards expire (these rows bypass ``audit_record``)."""
    reasons = village_moves_described(moves={(old, new) for _, old, new, _ in moves})
    actor_id = actor.pk if actor is not None and getattr(actor, "pk", None) else None
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                actor_id=actor_id,
                object_type=object_type,
                object_id=str(pk),
                region_code=new,
                action="move",
                from_state=state,
                to_state=state,
                reason=reasons[old, new],
                data={"from_village": old, "to_village": new, "import_job": import_job_id},
            )
            for pk, old, new, state in moves
        ],
        batch_size=1000,
    )
    state_changes_follow(object_type=object_type, region_codes=sorted({code for move in reasons for code in move}))
