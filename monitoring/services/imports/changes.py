"""What the member and household imports propose instead of writing (issue 19, SPEC §2.1).

A row that would move an existing member to another household, change an existing household's
户类型, or mark a member dead or removed (成员状态 死亡 / 注销) writes nothing of that: the rest of
the row is written as before, and the change becomes a pending ``HouseholdChange`` that the county
accepts or rejects (``monitoring.services.household_changes``).  The import's result counts them
(``extra["changes_pending"]``).
"""

from __future__ import annotations

from typing import Any

from monitoring.models import ChangeKind, Member, MemberStatus
from monitoring.services.household_changes import ChangeProposal, household_changes_propose
from monitoring.services.imports.rows import ImportContext, Row

PENDING_KEY = "changes_pending"


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
        return ChangeProposal(kind=ChangeKind.REMOVAL, before=before, after={"status": status}, **common)
    target = row.refs["household_id"]
    if target == old["household_id"]:
        return None
    after = {"household_id": target, "household_no": row.values["household_no"], "relation": row.values["relation"]}
    kind = ChangeKind.MOVE if target in populated else ChangeKind.SPLIT
    return ChangeProposal(kind=kind, before=before, after=after, target_household_id=target, **common)


def households_populated(household_ids: set[int]) -> set[int]:
    """Which of ``household_ids`` have members (one query)."""
    return set(Member.objects.filter(household_id__in=household_ids).values_list("household_id", flat=True).distinct())


def household_type_proposal(row: Row, old: dict[str, Any]) -> ChangeProposal | None:
    """The 户类型 change an imported household row proposes against the stored household ``old``."""
    if old["household_type"] == row.values["household_type"]:
        return None
    return ChangeProposal(
        kind=ChangeKind.TYPE,
        household_id=old["id"],
        region_code=row.values["village_code"],
        before={"household_type": old["household_type"], "exit_year": old["exit_year"]},
        after={"household_type": row.values["household_type"], "exit_year": row.values.get("exit_year")},
    )


def changes_propose(ctx: ImportContext, proposals: list[ChangeProposal], *, dry_run: bool) -> None:
    """Record the batch's proposals (a dry run only counts them) and count them in the result."""
    if not proposals:
        return
    if not dry_run:
        household_changes_propose(proposals=proposals, actor=ctx.user, import_job_id=ctx.job_id)
    ctx.extra[PENDING_KEY] = ctx.extra.get(PENDING_KEY, 0) + len(proposals)
