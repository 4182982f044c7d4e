"""Reading 民政 rosters: who sees which lines, a household's current social-assistance status, and
the two work lists of the dashboard (targets not covered by 低保/特困 while below their line,
low-income households never visited).

A household's status is derived, never stored: the categories of its members' matched lines that
are current on a day (开始日期 ≤ day, 结束日期 empty or ≥ day).  See
docs/decisions/2026-12-03-minzheng-rosters.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from fanpin.core.roles import Department, Permission, Role, effective_role, role_can
from fanpin.core.scoping import sees_everything, user_region_prefix
from monitoring.models import (
    SAFETY_NET_CATEGORIES,
    AlertStatus,
    AnnualIncome,
    AssistanceCategory,
    AssistanceEntry,
    Household,
    Member,
    MonitoringLine,
    MonitoringTarget,
    Region,
    TargetStatus,
    Visit,
)


def _is_civil_affairs(user: Any) -> bool:
    return getattr(user, "role", None) == Role.DEPT and getattr(user, "department", "") == Department.CIVIL_AFFAIRS


def rosters_may_view(*, user: Any) -> bool:
    """The roster page and ``GET /api/v1/assistance-rosters/``: county staff and administrators (their
    region's lines, 未匹配 ones included) and 民政 department users (their own lines' match status)."""
    role = effective_role(user)
    if role == Role.DEPT and not sees_everything(user):
        return _is_civil_affairs(user)
    return role_can(role, Permission.VIEW_ALERTS)


def rosters_visible(*, user: Any) -> QuerySet[AssistanceEntry]:
    """The lines ``user`` may read.  A 民政 user: its unit's own submissions (its region as
    submitting unit, ``scope_code``), and nothing of households; others: their region's lines."""
    if getattr(user, "role", None) == Role.DEPT and not sees_everything(user):
        prefix = user_region_prefix(user)
        if prefix is None or not _is_civil_affairs(user):
            return AssistanceEntry.objects.none()
        return AssistanceEntry.objects.filter(scope_code=str(user.region_id)).within(prefix)
    return AssistanceEntry.objects.for_user(user).select_related("member__household")


def shows_household_data(*, user: Any) -> bool:
    return sees_everything(user) or getattr(user, "role", None) != Role.DEPT


def assistance_current(*, on: dt.date | None = None, categories: Iterable[str] | None = None) -> Q:
    """Matched lines current on ``on`` (today), optionally of ``categories`` — as a condition on
    ``AssistanceEntry``."""
    day = on or timezone.localdate()
    q = Q(status=AlertStatus.MATCHED, start_date__lte=day) & (Q(end_date__isnull=True) | Q(end_date__gte=day))
    if categories is not None:
        q &= Q(category__in=list(categories))
    return q


def low_income_exists(
    *, household: str = "pk", on: dt.date | None = None, categories: Iterable[str] | None = None
) -> Exists:
    """``Exists``: the household at ``OuterRef(household)`` is a low-income household on ``on``."""
    return Exists(
        AssistanceEntry.objects.filter(
            assistance_current(on=on, categories=categories), member__household=OuterRef(household)
        )
    )


def household_assistance_labels(*, household_ids: Iterable[int], on: dt.date | None = None) -> dict[int, str]:
    """household id → its current statuses as one label (``低保、特困``), in one query; households
    without any current line are absent."""
    ids = list(set(household_ids))
    if not ids:
        return {}
    found: dict[int, set[str]] = {}
    rows = (
        AssistanceEntry.objects.filter(assistance_current(on=on), member__household_id__in=ids)
        .values_list("member__household_id", "category")
        .distinct()
    )
    for household_id, category in rows:
        found.setdefault(household_id, set()).add(category)
    order = list(AssistanceCategory.values)
    return {
        hid: "、".join(str(AssistanceCategory(c).label) for c in sorted(cats, key=order.index))
        for hid, cats in found.items()
    }


def household_assistance_entries(*, household: Household) -> QuerySet[AssistanceEntry]:
    """The matched lines of a (visible) household's members, current and past."""
    return (
        AssistanceEntry.objects.filter(member__household=household, status=AlertStatus.MATCHED)
        .select_related("member")
        .order_by("-start_date", "id")
    )


def below_line_condition(*, year: int, provinces: Iterable[str]) -> Q | None:
    """On ``AnnualIncome``: per-capita income of ``year`` below the household's monitoring line of
    ``year`` (its province's if set, else national; exact, in fen).  None when no line is set."""
    rows = MonitoringLine.objects.filter(year=year).values_list("province_id", "line")
    national = next((line for province, line in rows if province is None), None)
    own = {province: line for province, line in rows if province is not None}
    condition: Q | None = None
    for province in sorted(set(provinces)):
        line = own.get(province.ljust(12, "0"), national)
        if line is None:
            continue
        fen = int(line * 100)
        below = Q(household__village__code__startswith=province[:2]) & Q(total_fen__lt=F("family_size") * fen)
        condition = below if condition is None else condition | below
    return condition


def _scope_provinces(user: Any) -> list[str]:
    prefix = user_region_prefix(user) or ""
    if len(prefix) >= 2:
        return [prefix[:2]]
    return [code[:2] for code in Region.objects.filter(level="PROVINCE").values_list("code", flat=True)]


def _head_name(household: str) -> Subquery:
    return Member.objects.head_name_of(household)


def targets_uncovered(*, user: Any, year: int, today: dt.date | None = None) -> QuerySet[MonitoringTarget]:
    """Work list: active targets whose household has no current 低保 or 特困 line while its per-capita
    income of ``year`` is below its monitoring line (SPEC §4 ``LOW_INCOME``, the line fanpin keeps)."""
    below = below_line_condition(year=year, provinces=_scope_provinces(user))
    if below is None:
        return MonitoringTarget.objects.none()
    incomes = AnnualIncome.objects.filter(below, household=OuterRef("household"), year=year)
    return (
        MonitoringTarget.objects.for_user(user)
        .filter(status=TargetStatus.ACTIVE)
        .filter(Exists(incomes))
        .filter(~low_income_exists(household="household", on=today, categories=SAFETY_NET_CATEGORIES))
        .select_related("household", "household__village")
        .annotate(head_name=_head_name("household"))
        .order_by("household__village_id", "household__household_no")
    )


def low_income_unvisited(*, user: Any, today: dt.date | None = None) -> QuerySet[Household]:
    """Work list: households with a current 民政 status (低保, 特困, 低保边缘, 刚性支出困难) that no
    visit record has ever reached."""
    return (
        Household.objects.for_user(user)
        .filter(low_income_exists(on=today))
        .filter(~Exists(Visit.objects.filter(household=OuterRef("pk"))))
        .select_related("village")
        .annotate(head_name=_head_name("pk"))
        .order_by("village_id", "household_no")
    )


def assistance_condition(*, category: str, household: str = "household") -> Q:
    """The queues' 社会救助 filter as a condition on a model reaching the household by
    ``household`` (``ANY``: any current status; ``NONE``: none; or one category); empty: no filter."""
    if category == "ANY":
        return Q(low_income_exists(household=household))
    if category == "NONE":
        return ~Q(low_income_exists(household=household))
    if category in AssistanceCategory.values:
        return Q(low_income_exists(household=household, categories=[category]))
    return Q()


ASSISTANCE_FILTER_CHOICES = [
    ("", "全部"),
    ("ANY", "任一救助"),
    *AssistanceCategory.choices,
    ("NONE", "无救助"),
]


def assistance_flags(*, household: str = "household") -> dict[str, Exists]:
    """Annotations ``sa_<CATEGORY>``: whether the household has a current line of each category
    (exports add them to their ``values_list`` and write ``assistance_label_of`` of them)."""
    return {f"sa_{c}": low_income_exists(household=household, categories=[c]) for c in AssistanceCategory.values}


ASSISTANCE_FLAG_FIELDS = tuple(f"sa_{c}" for c in AssistanceCategory.values)


def assistance_label_of(flags: Iterable[bool]) -> str:
    """The 社会救助 cell of an export row from its ``assistance_flags`` values."""
    return "、".join(str(label) for (_code, label), on in zip(AssistanceCategory.choices, flags, strict=True) if on)
