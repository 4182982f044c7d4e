"""Rows for Excel exports, always scoped to a user (the same filters as the household list)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, FilteredRelation, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from monitoring.models import ExportJob, Member, MemberStatus
from monitoring.selectors.households import households_in_scope
from monitoring.selectors.rosters import ASSISTANCE_FLAG_FIELDS, assistance_flags

# Where a row's household lives, in every list sheet: townships and villages repeat their names across
# counties, so the county comes first (decision 2026-12-05-county-column).
REGION_COLUMNS: list[tuple[str, int]] = [("县", 12), ("乡镇", 12), ("村", 12)]

HOUSEHOLD_FIELDS = [
    "household_no",
    "head__name",
    "head__id_number",
    "village__parent__parent__name",
    "village__parent__name",
    "village__name",
    "village_id",
    "household_type",
    "exit_year",
    "member_count",
    "phone",
    "address",
]
INCOME_FIELDS = [
    "year_income__year",
    "year_income__family_size",
    "year_income__wage_income",
    "year_income__business_income",
    "year_income__property_income",
    "year_income__transfer_income",
]


def households_export_rows(
    *,
    user: Any,
    year: int | None = None,
    search: str = "",
    village_code: str = "",
    region_code: str = "",
    household_type: str = "",
    chunk_size: int = 2000,
) -> Iterator[tuple[Any, ...]]:
    """Tuples in ``HOUSEHOLD_FIELDS`` (+ ``INCOME_FIELDS`` with a year, + ``ASSISTANCE_FLAG_FIELDS``)
    order, streamed."""
    qs = households_in_scope(
        user=user, search=search, village_code=village_code, region_code=region_code, household_type=household_type
    )
    counts = (
        Member.objects.current()
        .filter(household=OuterRef("pk"))
        .order_by()
        .values("household")
        .annotate(n=Count("id"))
        .values("n")
    )
    qs = qs.annotate(
        # One join: at most one current 户主 per household (constraint member_one_current_head_per_household).
        head=FilteredRelation(
            "members", condition=Q(members__relation=Member.Relation.HEAD, members__status=MemberStatus.ACTIVE)
        ),
        member_count=Coalesce(Subquery(counts, output_field=IntegerField()), Value(0)),
    )
    fields = list(HOUSEHOLD_FIELDS)
    if year is not None:
        qs = qs.annotate(year_income=FilteredRelation("incomes", condition=Q(incomes__year=year)))
        fields += INCOME_FIELDS
    # last: the household's current 民政 statuses (社会救助), one flag per category
    qs = qs.annotate(**assistance_flags(household="pk"))
    fields += ASSISTANCE_FLAG_FIELDS
    return qs.values_list(*fields).iterator(chunk_size=chunk_size)


@contextmanager
def export_snapshot() -> Iterator[None]:
    """One read transaction for a whole export (a consistent snapshot).  On PostgreSQL the JIT is
    switched off for it: compiling the plan costs about a second and the query is index lookups."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        yield


def export_row_count(*, user: Any, kind: str, filters: dict[str, Any]) -> int:
    """How many rows a browser export of ``kind`` with these filters would write (one count query):
    small exports download at once, large ones become a job (``export_job_start``)."""
    from monitoring.selectors.leads import QueueFilters, lead_queue, targets_in_scope

    if kind == "households":
        # the full-number choice (``full_ids``, ``purpose``) changes the columns, not the rows
        rows = {k: v for k, v in filters.items() if k not in ("full_ids", "purpose")}
        return households_in_scope(user=user, **rows).count()
    if kind == "leads":
        return lead_queue(user=user, filters=QueueFilters(**filters)).count()
    if kind == "targets":
        return targets_in_scope(user=user, **filters).count()
    raise ValueError(kind)


def export_jobs_for_user(*, user: Any, limit: int = 20) -> QuerySet[ExportJob]:
    """The user's own exports, newest first (an export holds personal data: nobody else's)."""
    return ExportJob.objects.for_user(user).filter(created_by=user).order_by("-created_at", "-id")[:limit]


def export_job_get(*, user: Any, pk: int) -> ExportJob:
    """Raises ``ExportJob.DoesNotExist`` unless the user started it (and is still in its region)."""
    return ExportJob.objects.for_user(user).filter(created_by=user).get(pk=pk)
