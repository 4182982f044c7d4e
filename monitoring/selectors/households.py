"""Reads of the household registry, always scoped to a user."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery

from fanpin.scoping import code_prefix
from monitoring.models import AnnualIncome, Household, Member, RigidExpenditure
from monitoring.selectors.lines import monitoring_lines_for_province


def _head_name_subquery() -> Subquery:
    return Subquery(Member.objects.filter(household=OuterRef("pk"), relation=Member.Relation.HEAD).values("name")[:1])


def households_in_scope(
    *,
    user: Any,
    search: str = "",
    village_code: str = "",
    region_code: str = "",  # any region (county, township, ...): narrows, never widens
    household_type: str = "",
) -> QuerySet[Household]:
    """The households a user may see, filtered as the household list and API filter them.

    ``search`` matches 户编号 (prefix), 户主 or member name (exact or prefix), or the last digits of
    any member's 身份证号 (4 to 18 characters).
    """
    qs = Household.objects.for_user(user).select_related("village", "village__parent")
    if village_code:
        qs = qs.filter(village_id=village_code)
    if region_code:
        qs = qs.within(code_prefix(region_code))
    if household_type:
        qs = qs.filter(household_type=household_type)
    search = search.strip()
    if search:
        condition = Q(household_no__startswith=search) | Q(
            pk__in=Member.objects.filter(name__startswith=search).values("household_id")
        )
        tail = search.upper()
        if 4 <= len(tail) <= 18 and tail[:-1].isdigit() and (tail[-1].isdigit() or tail[-1] == "X"):
            condition |= Q(pk__in=Member.objects.filter(id_number__endswith=tail).values("household_id"))
        qs = qs.filter(condition)
    return qs.annotate(head_name=_head_name_subquery()).order_by("household_no")


def household_detail(*, user: Any, pk: int) -> Household:
    """One household with members, incomes and expenditures; raises ``Household.DoesNotExist``
    when it is outside the user's scope."""
    return (
        Household.objects.for_user(user)
        .select_related("village", "village__parent", "village__parent__parent")
        .prefetch_related(  # type: ignore[type-var]
            Prefetch("members", queryset=Member.objects.order_by("id")),
            Prefetch("incomes", queryset=AnnualIncome.objects.order_by("-year")),
            Prefetch("expenditures", queryset=RigidExpenditure.objects.order_by("-occurred_on")),
        )
        .annotate(head_name=_head_name_subquery())
        .get(pk=pk)
    )


def household_income_rows(*, household: Household) -> list[dict[str, Any]]:
    """Incomes by year with the per-capita figure against that year's monitoring line."""
    province_code = household.village_id[:2].ljust(12, "0")
    incomes = list(household.incomes.all())
    lines = monitoring_lines_for_province(province_code=province_code, years=[i.year for i in incomes])
    rows = []
    for income in incomes:
        line: Decimal | None = lines.get(income.year)
        rows.append(
            {
                "income": income,
                "line": line,
                "below_line": line is not None and income.per_capita < line,
            }
        )
    return rows
