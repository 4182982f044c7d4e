"""Reads for the review of household changes and of likely duplicate persons."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

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
