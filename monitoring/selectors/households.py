"""Reads of the household registry, always scoped to a user."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Exists, F, Lookup, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Reverse

from fanpin.core.idcard import id_search_tail, id_search_whole
from fanpin.core.regions import province_code_of
from fanpin.core.scoping import ObjectOutOfScope, code_prefix
from fanpin.core.typed import plain
from monitoring.models import AnnualIncome, Household, Member, RigidExpenditure
from monitoring.selectors.lines import monitoring_lines_for_province
from monitoring.selectors.regions import county_name_annotation


def _head_name_subquery() -> Subquery:
    # at most one current 户主 per household (member_one_current_head_per_household): no ordering needed
    return Member.objects.head_name_of("pk")


class _InSubqueryArray(Lookup):
    """``lhs IN (subquery)``; on PostgreSQL written ``lhs = ANY(ARRAY(subquery))``.

    PostgreSQL runs the uncorrelated ``ARRAY(...)`` once (an InitPlan) and then looks the rows up
    by primary key, whatever it guesses about the number of matches.  With ``IN (subquery)`` it may
    instead walk the whole region in list order, probing the subquery for every household, which
    is what made a search with few or no hits take seconds at 1 000 000 households.
    """

    lookup_name = "in_subquery_array"

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        params = (*lhs_params, *rhs_params)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(ARRAY{rhs})", params
        return f"{lhs} IN {rhs}", params


def _name_or_number_parts(*, search: str, as_typed: str) -> list[str]:
    """The forms of the term that 户编号 and names are matched by (as read, and as typed when it differs)."""
    return [search, as_typed] if as_typed and as_typed != search else [search]


def _id_number_ids(*, search: str) -> QuerySet[Any] | None:
    """Ids of the households whose member's 身份证号 the term names, as SPEC §1 allows: a whole, valid
    number exactly (the unique index; ``fanpin.core.idcard.id_search_whole``), or exactly the last 4
    characters the mask shows (a prefix of the reversed number: ``member_id_number_tail`` on
    PostgreSQL; ``id_search_tail``).  Never 5 to 17 trailing characters nor an 18-character number
    with a wrong check digit: those would let a user find a hidden digit one guess at a time."""
    whole = id_search_whole(search)
    if whole is not None:
        return Member.objects.filter(id_number=whole).order_by().values("household_id")
    tail = id_search_tail(search)
    if tail is not None:
        return (
            Member.objects.alias(id_reversed=Reverse("id_number"))
            .filter(id_reversed__startswith=tail[::-1])
            .order_by()
            .values("household_id")
        )
    return None


def _household_ids_matching(*, search: str, as_typed: str = "") -> QuerySet[Any]:
    """Ids of the households a search term finds (unscoped: callers intersect with a scope).

    ``search`` is the term read as ASCII (NFKC); ``as_typed``, when it differs, the term as typed:
    names and 户编号 are stored as imported (王　芳 with a full-width space, Ｈ-77), so their prefixes
    are matched in both forms.  The 身份证号 terms read ``search`` only (always ASCII when stored).

    One ``UNION ALL`` of index range scans: 户编号 prefix (``household_no`` pattern index), any
    member's name prefix (``member_name_prefix``), and a 身份证号 (``_id_number_ids``).
    """
    parts: list[QuerySet[Any]] = []
    for term in _name_or_number_parts(search=search, as_typed=as_typed):
        parts += [
            Household.objects.filter(household_no__startswith=term).order_by().values("pk"),
            Member.objects.current().filter(name__startswith=term).order_by().values("household_id"),
        ]
    ids = _id_number_ids(search=search)
    if ids is not None:
        parts.append(ids)
    return parts[0].union(*parts[1:], all=True)


def _household_matches(*, search: str, as_typed: str) -> Q:
    """The same match as ``_household_ids_matching``, written per household: its 户编号 prefix, an
    ``EXISTS`` on its members' name prefix, or its id among the 身份证号 hits.  For a term that most
    of a region matches (a common surname, a 户编号 prefix shared by a county): the list then walks
    ``household_village_no`` in its own order and stops at the page's 50 rows."""
    condition = Q()
    for term in _name_or_number_parts(search=search, as_typed=as_typed):
        names = Member.objects.current().filter(household=OuterRef("pk"), name__startswith=term)
        condition |= Q(household_no__startswith=term) | Q(Exists(names))
    ids = _id_number_ids(search=search)
    if ids is not None:
        condition |= Q(_InSubqueryArray(F("pk"), ids))
    return condition


SEARCH_MAX_LENGTH = 64  # the household list's and the API's search field allow as much
# A term with more hits than this (member and household rows, unscoped) is matched household by
# household in list order instead of by the list of the ids found: building and looking up an array
# of 2 000 000 ids took 5–7 s for a province (docs/benchmarks.md, session 10).
SEARCH_MANY_HITS = 20_000


def households_in_scope(
    *,
    user: Any,
    search: str = "",
    village_code: str = "",
    region_code: str = "",  # any region (county, township, ...): narrows, never widens
    household_type: str = "",
) -> QuerySet[Household]:
    """The households a user may see, filtered as the household list and API filter them, in
    village order then 户编号 order (index ``household_village_no``).

    ``search`` matches 户编号 (prefix), 户主 or member name (exact or prefix), or any member's
    身份证号: its last 4 characters, or the whole valid number (see ``_household_ids_matching``).
    A whole-number search is written to the access log by the caller
    (``monitoring.services.personal_data.id_number_search_record``).
    """
    qs = (
        Household.objects.for_user(user)
        .select_related("village", "village__parent")
        .annotate(**county_name_annotation(user=user, village="village"))
    )
    if village_code:
        qs = qs.filter(village_id=village_code)
    if region_code:
        qs = qs.within(code_prefix(region_code))
    if household_type:
        qs = qs.filter(household_type=household_type)
    found = households_matching(qs, search=search)
    return found.annotate(head_name=_head_name_subquery()).order_by("village_id", "household_no")


def households_matching(qs: QuerySet[Household], *, search: str) -> QuerySet[Household]:
    """Narrow ``qs`` to the households ``search`` finds (see ``households_in_scope``): the page, the
    exports and the API's ``?search=`` use this one rule."""
    # full-width digits and letters as a Chinese input method types them (１２３４, Ｘ) read as ASCII;
    # the term as typed is kept too, for names and 户编号 stored with full-width characters
    as_typed = search.strip()
    search = plain(search)
    if not search:
        return qs
    if "\x00" in search or max(len(search), len(as_typed)) > SEARCH_MAX_LENGTH:
        # no 户编号, name or 身份证号 is longer or holds a NUL (PostgreSQL refuses one in a parameter)
        return qs.none()
    found = _household_ids_matching(search=search, as_typed=as_typed)
    if found[: SEARCH_MANY_HITS + 1].count() > SEARCH_MANY_HITS:  # index range scans, stops at the limit
        return qs.filter(_household_matches(search=search, as_typed=as_typed))
    return qs.filter(_InSubqueryArray(F("pk"), found))


def members_prefetch(*, path: str = "", departed: bool = False) -> list[Prefetch[Any, Any, str]]:
    """Prefetches of a household's members (``path``: the lookup to the household, e.g.
    ``"household__"``): its current ones as ``current_members``, and with ``departed`` those whose
    death or removal the county accepted as ``departed_members`` (decision record
    2026-12-04-member-departure.md)."""
    current_qs: QuerySet[Any] = Member.objects.current().order_by("id")
    found: list[Prefetch[Any, Any, str]] = [Prefetch(f"{path}members", queryset=current_qs, to_attr="current_members")]
    if departed:
        departed_qs: QuerySet[Any] = Member.objects.departed().order_by("departed_on", "id")
        found.append(Prefetch(f"{path}members", queryset=departed_qs, to_attr="departed_members"))
    return found


def household_detail(*, user: Any, pk: int) -> Household:
    """One household with members, incomes and expenditures; raises ``Household.DoesNotExist``
    when it is outside the user's scope."""
    return (
        Household.objects.for_user(user)
        .select_related("village", "village__parent", "village__parent__parent")
        .prefetch_related(  # type: ignore[type-var]
            *members_prefetch(departed=True),
            Prefetch("incomes", queryset=AnnualIncome.objects.order_by("-year")),
            Prefetch("expenditures", queryset=RigidExpenditure.objects.order_by("-occurred_on")),
        )
        .annotate(head_name=_head_name_subquery())
        .get(pk=pk)
    )


def household_income_rows(*, household: Household) -> list[dict[str, Any]]:
    """Incomes by year with the per-capita figure against that year's monitoring line."""
    province_code = province_code_of(household.village_id)
    incomes = list(household.incomes.all())
    lines = monitoring_lines_for_province(province_code=province_code, years=[i.year for i in incomes])
    rows = []
    for income in incomes:
        line: Decimal | None = lines.get(income.year)
        rows.append(
            {
                "income": income,
                "line": line,
                "below_line": line is not None and income.per_capita_below(line),
            }
        )
    return rows


def member_household_id(*, user: Any, member_id: int) -> int:
    """The household of a member in ``user``'s region (``ObjectOutOfScope`` outside)."""
    found = Member.objects.for_user(user).filter(pk=member_id).values_list("household_id", flat=True).first()
    if found is None:
        raise ObjectOutOfScope("家庭成员")
    return int(found)
