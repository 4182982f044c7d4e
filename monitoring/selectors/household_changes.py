"""Reads for the review of household changes and of likely duplicate persons."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import Substr

from fanpin.core.masking import user_sees_full_id
from monitoring.models import (
    MOVE_KINDS,
    ChangeKind,
    ChangeState,
    Household,
    HouseholdChange,
    HouseholdType,
    Member,
    MemberStatus,
    Relation,
)

DUPLICATE_GROUPS_SHOWN = 200
PROPOSALS_PER_READ = 2000  # as the write's chunk (services.bulk.CHUNK)


def household_changes_in_scope(*, user: Any, state: str = ChangeState.PENDING) -> QuerySet[HouseholdChange]:
    """The changes of the user's region (deny by default), ``state`` or every state when ``"ALL"``."""
    changes = HouseholdChange.objects.for_user(user)
    if state in ChangeState.values:
        changes = changes.filter(state=state)
    return changes.select_related(
        "household__village", "target_household__village", "member", "proposed_by", "decided_by", "import_job"
    ).order_by("-proposed_at", "-id")


def household_changes_pending_count(*, user: Any) -> int:
    """What the county's 待办 counts (the same rows as the list's default filter)."""
    return HouseholdChange.objects.for_user(user).filter(state=ChangeState.PENDING).count()


def household_pending_changes_count(*, user: Any, household: Household) -> int:
    """Pending changes of the user's region naming ``household`` (as origin or destination): what
    the household page's notice counts; the same scoping as the list it links to."""
    return (
        HouseholdChange.objects.for_user(user)
        .filter(state=ChangeState.PENDING)
        .filter(Q(household_id=household.pk) | Q(target_household_id=household.pk))
        .count()
    )


@dataclass(frozen=True)
class ChangeLine:
    """One value of a change, before and after, as the page shows it side by side."""

    label: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _relation(code: Any) -> str:
    return str(Relation(code).label) if code in Relation.values else ""


def _household_type(code: Any, exit_year: Any) -> str:
    if code not in HouseholdType.values:
        return ""
    label = str(HouseholdType(code).label)
    return f"{label}（{exit_year} 年脱贫）" if exit_year else label


def change_lines(change: HouseholdChange) -> list[ChangeLine]:
    """The before/after pairs of ``change`` (labels, not codes)."""
    b, a = change.before, change.after
    if change.kind in MOVE_KINDS:
        return [
            ChangeLine("户编号", str(b.get("household_no", "")), str(a.get("household_no", ""))),
            ChangeLine("与户主关系", _relation(b.get("relation")), _relation(a.get("relation"))),
        ]
    if change.kind == ChangeKind.TYPE:
        return [
            ChangeLine(
                "户类型",
                _household_type(b.get("household_type"), b.get("exit_year")),
                _household_type(a.get("household_type"), a.get("exit_year")),
            )
        ]
    status = a.get("status")
    return [
        ChangeLine("成员状态", str(MemberStatus.ACTIVE.label), str(MemberStatus(status).label) if status else ""),
        ChangeLine("户编号", str(b.get("household_no", "")), "（移出本户）"),
    ]


def changes_with_lines(changes: Iterable[HouseholdChange]) -> list[tuple[HouseholdChange, list[ChangeLine]]]:
    return [(c, change_lines(c)) for c in changes]


# --- likely duplicates ---------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicateGroup:
    county_code: str
    name: str
    birth: str  # YYYY-MM-DD; empty for roles that do not see full 身份证号
    members: list[Member]


def _birth(digits: str) -> str:
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}"


def duplicate_persons(*, user: Any, limit: int = DUPLICATE_GROUPS_SHOWN) -> list[DuplicateGroup]:
    """Persons of the user's region with the same name and date of birth (from the 身份证号) in one
    county but different 身份证号 (the number is unique, so two rows are two numbers): likely the
    same person registered twice.  Two queries whatever the region's size: the groups, grouped by
    the database, then their members.

    The birth date is digits 7–14 of the number, exactly the ones a masked number hides (SPEC §1):
    only roles that see full numbers get it (``birth``) and groups ordered by it; for the others
    ``birth`` is empty and the groups follow county, name and their first member's id, so neither
    the page nor its order tells a date."""
    show_birth = user_sees_full_id(user)
    members = (
        Member.objects.current()
        .for_user(user)
        .annotate(county=Substr("household__village_id", 1, 6), birth_digits=Substr("id_number", 7, 8))
    )
    order = ("county", "name", "birth_digits") if show_birth else ("county", "name", "first_id")
    groups = list(
        members.values("county", "name", "birth_digits")
        .annotate(n=Count("id"), first_id=Min("id"))
        .filter(n__gt=1)
        .order_by(*order)[:limit]
    )
    if not groups:
        return []
    found: dict[tuple[str, str, str], list[Member]] = {(g["county"], g["name"], g["birth_digits"]): [] for g in groups}
    rows = (
        members.filter(name__in={g["name"] for g in groups})
        .select_related("household__village")
        .order_by("household__household_no", "id")
    )
    for m in rows:
        key = (m.county, m.name, m.birth_digits)  # type: ignore[attr-defined]
        if key in found:
            found[key].append(m)
    return [
        DuplicateGroup(county.ljust(12, "0"), name, _birth(birth) if show_birth else "", people)
        for (county, name, birth), people in found.items()
        if len(people) > 1
    ]


# --- proposals against the pending changes (an import's dry run and its write) --------------


class Proposal(Protocol):
    """What ``monitoring.services.household_changes.ChangeProposal`` holds (read here, not imported:
    selectors sit below services)."""

    @property
    def kind(self) -> str: ...
    @property
    def household_id(self) -> int: ...
    @property
    def member_id(self) -> int | None: ...
    @property
    def target_household_id(self) -> int | None: ...
    @property
    def before(self) -> dict[str, Any]: ...
    @property
    def after(self) -> dict[str, Any]: ...
    @property
    def slot(self) -> tuple[str, int]: ...


def _sans_name(values: dict[str, Any]) -> dict[str, Any]:
    """``before`` without the member's name (a renaming row, written, is no new proposal) and
    身份证号 (the member's own, kept on a removal; a removal proposed before it was kept is no new
    proposal either)."""
    return {k: v for k, v in values.items() if k not in ("name", "id_number")}


def change_slot(change: HouseholdChange) -> tuple[str, int]:
    """What at most one pending change may hold (as ``ChangeProposal.slot``)."""
    if change.kind in MOVE_KINDS:
        return ("move", change.member_id or 0)
    if change.kind == ChangeKind.REMOVAL:
        return ("removal", change.member_id or 0)
    return ("type", change.household_id)


def household_changes_in_slots(
    *, proposals: Sequence[Proposal], lock: bool = False
) -> dict[tuple[str, int], HouseholdChange]:
    """The pending changes that hold the slots of ``proposals`` (two queries; ``lock``: the rows
    locked until the transaction ends, for the write that replaces them)."""
    member_ids = [p.member_id for p in proposals if p.member_id is not None]
    household_ids = [p.household_id for p in proposals if p.kind == ChangeKind.TYPE]
    pending = HouseholdChange.objects.pending()
    if lock:
        pending = pending.select_for_update()
    existing: dict[tuple[str, int], HouseholdChange] = {}
    for change in pending.filter(member_id__in=member_ids):
        existing[change_slot(change)] = change
    for change in pending.filter(kind=ChangeKind.TYPE, household_id__in=household_ids):
        existing[change_slot(change)] = change
    return existing


def change_proposes_the_same(change: HouseholdChange, proposal: Proposal) -> bool:
    """``proposal`` is what the pending ``change`` already proposes (sending it again changes nothing)."""
    return (change.kind, change.target_household_id, _sans_name(change.before), change.after) == (
        proposal.kind,
        proposal.target_household_id,
        _sans_name(proposal.before),
        proposal.after,
    )


def proposals_already_pending(*, proposals: Sequence[Proposal]) -> int:
    """How many of ``proposals`` a pending change already proposes as they do: what
    ``household_changes_propose`` counts ``unchanged`` (an import's dry run reports them as not
    submitted again).  A fixed number of queries per ``PROPOSALS_PER_READ``."""
    again = 0
    for start in range(0, len(proposals), PROPOSALS_PER_READ):
        part = proposals[start : start + PROPOSALS_PER_READ]
        existing = household_changes_in_slots(proposals=part)
        again += sum(1 for p in part if (old := existing.get(p.slot)) is not None and change_proposes_the_same(old, p))
    return again
