"""What the member and household imports propose instead of writing (SPEC §2.1).

A row that would move an existing member to another household, change an existing household's
户类型, or mark a member dead or removed (成员状态 死亡 / 注销) writes nothing of that: the rest of
the row is written as before, and the change becomes a pending ``HouseholdChange`` that the county
accepts or rejects (``monitoring.services.household_changes``).  The import's result counts them
(``extra["changes_pending"]``), and apart from them the rows whose change was already pending as they
propose it (``extra["changes_again"]``: an import sent again submits nothing new).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import CharField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from monitoring.models import ChangeKind, ChangeState, HouseholdChange, Member, MemberStatus
from monitoring.selectors.household_changes import proposals_already_pending
from monitoring.services.bulk import JSON_ARRAY, chunks, json_list
from monitoring.services.household_changes import ChangeProposal, household_changes_propose
from monitoring.services.imports.rows import ImportContext, Row

PENDING_KEY = "changes_pending"
AGAIN_KEY = "changes_again"


def member_change_proposal(row: Row, old: dict[str, Any], *, populated: set[int]) -> ChangeProposal | None:
    """The change an imported member row proposes against the stored member ``old`` (its
    ``values`` with ``household__household_no`` and ``household__village_id``): a death or removal,
    else a move to another household (分户 when the destination has no members yet, ``populated``
    being the destinations that have some), else None."""
    status = row.values.get("status") or MemberStatus.ACTIVE
    before = {
        "household_id": old["household_id"],
        "household_no": old["household__household_no"],
        "relation": old["relation"],
        "name": old["name"],
    }
    common = {"household_id": old["household_id"], "region_code": old["household__village_id"], "member_id": old["id"]}
    if status != MemberStatus.ACTIVE:
        # the 身份证号 stays on the change: the record that this person left the registry
        before["id_number"] = old["id_number"]
        return ChangeProposal(kind=ChangeKind.REMOVAL, before=before, after={"status": status}, **common)
    target = row.refs["household_id"]
    if target == old["household_id"]:
        return None
    after = {"household_id": target, "household_no": row.values["household_no"], "relation": row.values["relation"]}
    kind = ChangeKind.MOVE if target in populated else ChangeKind.SPLIT
    return ChangeProposal(kind=kind, before=before, after=after, target_household_id=target, **common)


def households_populated(household_ids: set[int]) -> set[int]:
    """Which of ``household_ids`` have current members (one query)."""
    return set(
        Member.objects.current()
        .filter(household_id__in=household_ids)
        .values_list("household_id", flat=True)
        .distinct()
    )


def household_type_proposal(row: Row, old: dict[str, Any]) -> ChangeProposal | None:
    """The 户类型 / 脱贫年度 change an imported household row proposes against the stored household
    ``old`` (a different 脱贫年度 alone is reviewed too: it is part of the household's type)."""
    exit_year = row.values.get("exit_year")
    if (old["household_type"], old["exit_year"]) == (row.values["household_type"], exit_year):
        return None
    return ChangeProposal(
        kind=ChangeKind.TYPE,
        household_id=old["id"],
        region_code=row.values["village_code"],
        before={"household_type": old["household_type"], "exit_year": old["exit_year"]},
        after={"household_type": row.values["household_type"], "exit_year": row.values.get("exit_year")},
    )


@dataclass(frozen=True)
class RemovalAccepted:
    """The accepted death or removal that took a person out of the registry: the member's own
    status and date (kept since 2026-12-04), or the change alone for people deleted before."""

    change_id: int | None
    status: str
    decided_on: date | None

    @property
    def refusal(self) -> str:
        label = MemberStatus(self.status).label if self.status in MemberStatus.values else "死亡或注销"
        on = f"于 {self.decided_on:%Y-%m-%d} " if self.decided_on else ""
        change = f"（变更 {self.change_id}）" if self.change_id else ""
        return f"该成员已{on}经县级审核登记为{label}{change}，不能再作为在册成员导入；如属误报，请联系县级核实。"


def removals_accepted(*, id_numbers: list[str], prefix: str) -> dict[str, RemovalAccepted]:
    """身份证号 → the latest accepted death or removal of that person in the region ``prefix``
    (one query per chunk of numbers; the number is kept in the change's ``before``)."""
    found: dict[str, RemovalAccepted] = {}
    if connection.vendor == "postgresql":
        # one plain statement per chunk, the numbers as one array: the ORM built the 2 000-value
        # ``IN`` in more time than the statement takes (docs/benchmarks.md, session 14)
        table = HouseholdChange._meta.db_table
        sql = (
            f"SELECT id, before->>'id_number', after->>'status', decided_at FROM {table}"  # noqa: S608  # nosec B608
            f" WHERE kind = %s AND state = %s AND region_code LIKE %s AND before->>'id_number' = ANY({JSON_ARRAY})"
            " ORDER BY decided_at, id"
        )
        like = connection.ops.prep_for_like_query(prefix) + "%"  # as the ORM's startswith escapes it
        with connection.cursor() as cursor:
            for part in chunks(sorted(set(id_numbers))):
                cursor.execute(sql, [ChangeKind.REMOVAL.value, ChangeState.ACCEPTED.value, like, json_list(part)])
                for pk, id_number, status, decided_at in cursor.fetchall():  # the latest wins
                    found[id_number] = RemovalAccepted(pk, status or "", timezone.localdate(decided_at))
        return found
    for part in chunks(sorted(set(id_numbers))):
        # the number compared as text (``->>``): a JSON ``IN`` of 2 000 numbers cost the first import
        # of a 300 000-member roster ≈ 1.5 s more in the ORM alone (docs/benchmarks.md, session 13)
        changes = (
            HouseholdChange.objects.filter(
                kind=ChangeKind.REMOVAL, state=ChangeState.ACCEPTED, region_code__startswith=prefix
            )
            .annotate(number=Cast(KT("before__id_number"), output_field=CharField()))  # plain text IN
            .filter(number__in=part)
            .order_by("decided_at", "id")
            .values_list("id", "number", "after__status", "decided_at")
        )
        for pk, id_number, status, decided_at in changes:  # the latest wins
            found[str(id_number)] = RemovalAccepted(pk, str(status or ""), timezone.localdate(decided_at))
    return found


def changes_propose(ctx: ImportContext, proposals: list[ChangeProposal], *, dry_run: bool) -> None:
    """Record the batch's proposals (a dry run only counts them) and count them in the result: those
    submitted (new, or in place of a different pending proposal) and those already pending as proposed."""
    if not proposals:
        return
    if dry_run:
        again = proposals_already_pending(proposals=proposals)
    else:
        again = household_changes_propose(proposals=proposals, actor=ctx.user, import_job_id=ctx.job_id).unchanged
    if len(proposals) > again:
        ctx.extra[PENDING_KEY] = ctx.extra.get(PENDING_KEY, 0) + len(proposals) - again
    if again:
        ctx.extra[AGAIN_KEY] = ctx.extra.get(AGAIN_KEY, 0) + again
