"""Reads for the village cadre's phone pages: households, who is due a visit, leads to verify, visits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from fanpin.core.scoping import LEVEL_PREFIX_LENGTH, user_region_prefix
from monitoring.models import Application, Household, Lead, LeadState, Member, MonitoringTarget, TargetStatus, Visit
from monitoring.selectors.households import _head_name_subquery, households_in_scope
from monitoring.selectors.rosters import low_income_exists

VISIT_DUE_DAYS = 30  # monitoring targets not visited for this many days are due a visit


@dataclass(frozen=True)
class CadreHome:
    households: list[Household]
    household_total: int
    due: list[Household]
    due_total: int
    to_verify: list[Lead]


def visits_due(*, user: Any, today: dt.date | None = None) -> QuerySet[Household]:
    """Not visited in the last 30 days and an active monitoring target, with an open lead, or a
    low-income household of 民政 (a current roster line: 低保, 特困, 低保边缘, 刚性支出困难).

    One row per household, whichever populations it belongs to: a household both a target and
    low-income is one household, due once, and one visit serves both programmes.  Each row
    carries ``is_target``, ``has_open_lead``, ``is_low_income`` and ``last_visit`` (None: never).
    """
    day = today or timezone.localdate()
    cutoff = day - dt.timedelta(days=VISIT_DUE_DAYS)
    return (
        Household.objects.for_user(user)
        .annotate(
            is_target=Exists(MonitoringTarget.objects.filter(household=OuterRef("pk"), status=TargetStatus.ACTIVE)),
            has_open_lead=Exists(Lead.objects.open().filter(household=OuterRef("pk"))),
            is_low_income=low_income_exists(on=day),
            visited_recently=Exists(Visit.objects.filter(household=OuterRef("pk"), visited_on__gt=cutoff)),
        )
        .filter(Q(is_target=True) | Q(has_open_lead=True) | Q(is_low_income=True), visited_recently=False)
        .annotate(
            head_name=_head_name_subquery(),
            last_visit=Subquery(
                Visit.objects.filter(household=OuterRef("pk")).order_by("-visited_on").values("visited_on")[:1]
            ),
        )
        .order_by("-is_target", "household_no")
    )


def leads_to_verify(*, user: Any) -> QuerySet[Lead]:
    head = Member.objects.head_name_of("household_id")
    return (
        Lead.objects.for_user(user)
        .filter(state=LeadState.NEW)
        .select_related("household")
        .annotate(head_name=head)
        .order_by("raised_at", "id")
    )


def cadre_home(*, user: Any, search: str = "", limit: int = 50) -> CadreHome:
    """The cadre home page: a fixed number of queries, whatever the village's size."""
    households = households_in_scope(user=user, search=search)
    return CadreHome(
        households=list(households[:limit]),
        household_total=households.count(),
        due=list(visits_due(user=user)[:limit]),
        due_total=visits_due(user=user).count(),
        to_verify=list(leads_to_verify(user=user)[:limit]),
    )


def visits_in_scope(*, user: Any, household_id: int | None = None) -> QuerySet[Visit]:
    qs = Visit.objects.for_user(user).select_related("household").prefetch_related("photos")
    if household_id is not None:
        qs = qs.filter(household_id=household_id)
    return qs.order_by("-visited_on", "-id")


def applications_in_scope(*, user: Any, status: str = "") -> QuerySet[Application]:
    qs = Application.objects.for_user(user).select_related("household", "village")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


VILLAGE_PREFIX_LENGTH = LEVEL_PREFIX_LENGTH["VILLAGE"]
HOUSEHOLD_PICKER_ALL = 300  # a scope of up to this many households (or one village) is offered whole
HOUSEHOLD_PICKER_FOUND = 50  # above it, at most this many households found by a search


@dataclass(frozen=True)
class HouseholdPicker:
    """The households the visit and application forms offer.  A village cadre's scope is offered
    whole; a township's or county's (thousands, up to 100 000) is searched first, as the household list
    is, and the list holds what the search found plus the household already chosen."""

    households: list[Household]
    searchable: bool  # the scope is too large to list: the page shows a search
    search: str
    more: bool  # the search found more than the list shows
    found: int = 0  # how many of the households listed the search found (at most 50)


def household_picker(*, user: Any, search: str = "", chosen: int | None = None) -> HouseholdPicker:
    """Two or three queries whatever the scope's size: whether the scope has more than
    ``HOUSEHOLD_PICKER_ALL`` households (a count of at most that many ids), then the households.
    A scope of one village is listed whole whatever its size (many hold more than 300 households):
    its cadre's forms are kept for offline use, where no search can run."""
    scope = households_in_scope(user=user)
    one_village = len(user_region_prefix(user) or "") == VILLAGE_PREFIX_LENGTH
    if one_village or scope.order_by().values("pk")[: HOUSEHOLD_PICKER_ALL + 1].count() <= HOUSEHOLD_PICKER_ALL:
        return HouseholdPicker(households=list(scope), searchable=False, search="", more=False)
    found = list(households_in_scope(user=user, search=search)[: HOUSEHOLD_PICKER_FOUND + 1]) if search else []
    more = len(found) > HOUSEHOLD_PICKER_FOUND
    found = found[:HOUSEHOLD_PICKER_FOUND]
    listed = found
    if chosen is not None and all(h.pk != chosen for h in found):
        listed = list(scope.filter(pk=chosen)) + found  # nothing when the household is outside the scope
    return HouseholdPicker(households=listed, searchable=True, search=search, more=more, found=len(found))


def household_for_visit(*, user: Any, pk: int) -> Household:
    """One household in scope (raises ``Household.DoesNotExist`` outside), with its head's name."""
    return Household.objects.for_user(user).annotate(head_name=_head_name_subquery()).get(pk=pk)


def last_visit_dates(*, household_ids: list[int]) -> dict[int, dt.date]:
    rows = Visit.objects.filter(household_id__in=household_ids).values("household_id").annotate(last=Max("visited_on"))
    return {r["household_id"]: r["last"] for r in rows}
