"""Regions a user may pick in a filter: the typeahead behind the 村 and 乡镇/村 fields.

A province has about 10 000 villages; a page listing them all as ``<option>``s took a second to
render.  Filters therefore take a typed code or name and suggest at most ``TYPEAHEAD_LIMIT`` regions
of the user's scope; the same lookup checks what a filter was given.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q, QuerySet

from fanpin.core.regions import RegionLevel, region_level_of
from fanpin.core.scoping import user_region_prefix
from fanpin.core.typed import plain
from monitoring.models import Region

TYPEAHEAD_LIMIT = 20
VILLAGES = (RegionLevel.VILLAGE,)
TOWNSHIPS_AND_VILLAGES = (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE)
COUNTIES_TOWNSHIPS_AND_VILLAGES = (RegionLevel.COUNTY, RegionLevel.TOWNSHIP, RegionLevel.VILLAGE)
LEVELS_DOWN: tuple[str, ...] = tuple(RegionLevel.values)  # 省, 市, 县, 乡镇, 村: from the top down
SHORT_CODE_LENGTHS = (2, 4, 6, 9)  # a 12-digit code without its trailing zeros: 53 · 5399 · 539901 · 539901001


def area_levels(user: Any) -> tuple[str, ...]:
    """The levels a list's 乡镇/村 filter takes from ``user``: with counties when the scope spans
    several (a city's officer filters by county too), else townships and villages."""
    return COUNTIES_TOWNSHIPS_AND_VILLAGES if labels_with_county(user) else TOWNSHIPS_AND_VILLAGES


def _candidates(*, user: Any, levels: tuple[str, ...]) -> QuerySet[Region]:
    return Region.objects.for_user(user).filter(level__in=levels).select_related("parent__parent").order_by("code")


def typed(text: str) -> str:
    """What a person typed, as the regions are stored: full-width digits and letters (５３９９, as
    Chinese input methods type them) as ASCII (NFKC), spaces collapsed."""
    return " ".join(plain(text).split())


def regions_matching(
    *, user: Any, term: str, levels: tuple[str, ...] = VILLAGES, limit: int = TYPEAHEAD_LIMIT
) -> list[Region]:
    """Regions of ``levels`` in ``user``'s scope whose code starts with ``term`` (digits) or whose
    name, township's name or county's name contains it; the first ``limit`` by code.  An empty
    term: the first ``limit`` of the scope.  Never a region outside the scope (deny by default:
    ``for_user``)."""
    term = typed(term)[:40]
    qs = _candidates(user=user, levels=levels)
    if term.isdigit():
        qs = qs.filter(code__startswith=term)
    elif term:
        qs = qs.filter(Q(name__contains=term) | Q(parent__name__contains=term) | Q(parent__parent__name__contains=term))
    return list(qs[:limit])


def digits_typed(value: str) -> str:
    """The digits of a value typed as a code (spaces dropped: 539 901 as written in some registers),
    or "" when it is not digits — a name."""
    value = typed(value).replace(" ", "")
    return value if value.isdigit() else ""


def code_typed(value: str) -> str:
    """The 12-digit code a typed code stands for: 12 digits as they are, or a short administrative
    code (2, 4, 6 or 9 digits: 539901 is the county 539901000000) padded with zeros; else ""."""
    value = digits_typed(value)
    if not value:
        return ""
    if len(value) == 12:
        return value
    return value.ljust(12, "0") if len(value) in SHORT_CODE_LENGTHS else ""


def filter_levels(*, user: Any, levels: tuple[str, ...]) -> tuple[str, ...]:
    """Every level a region filter of ``levels`` takes from ``user``: a region inside the scope at or
    above the field's finest level (a township in a 村 field, a province in an administrator's
    乡镇/村 field) narrows the list to its area.  Levels at or above the user's own region are not
    among them: the own region means the whole scope (``own_region_named``), and regions beside or
    above it are refused (deny by default)."""
    finest = max(LEVELS_DOWN.index(level) for level in levels)
    prefix = user_region_prefix(user)
    if prefix is None:
        return ()
    top = LEVELS_DOWN.index(region_level_of(prefix.ljust(12, "0"))) + 1 if prefix else 0
    return LEVELS_DOWN[top : finest + 1]


def levels_label(levels: tuple[str, ...]) -> str:
    """村 · 乡镇或村 · 县、乡镇或村: what a filter of ``levels`` takes, for its messages."""
    labels = [str(RegionLevel(level).label) for level in LEVELS_DOWN if level in levels]
    if len(labels) <= 1:
        return "".join(labels)
    return f"{'、'.join(labels[:-1])}或{labels[-1]}"


def region_pick(*, user: Any, value: str, levels: tuple[str, ...] = VILLAGES) -> tuple[Region | None, int]:
    """What a filter field was given: a 12-digit code or a short one (``code_typed``), a name, or a
    label as the suggestions show it ("乡镇 村", or "县 乡镇 村" for a scope wider than a county).

    Returns (the region, 1) when exactly one region of ``levels`` in the user's scope answers to
    ``value`` (a name that is some region's whole name wins over names that merely contain it),
    else (None, how many answered: 0, or 2 for "more than one")."""
    value = typed(value)
    qs = _candidates(user=user, levels=levels)
    if digits_typed(value):
        code = code_typed(value)
        region = qs.filter(code=code).first() if code else None
        return region, int(region is not None)
    parts = value.split(" ")
    if len(parts) > 1:
        *above, name = parts
        # the names above the region, nearest first: its parent, then the parent's parent
        cond = Q(name__contains=name)
        for path, part in zip(("parent__name", "parent__parent__name"), reversed(above), strict=False):
            cond &= Q(**{f"{path}__contains": part})
        found = list(qs.filter(cond)[:2]) if len(above) <= 2 else []
    else:
        found = list(qs.filter(name=value)[:2]) or list(qs.filter(name__contains=value)[:2])
    return (found[0], 1) if len(found) == 1 else (None, len(found))


def own_region_named(*, user: Any, value: str) -> Region | None:
    """The user's own region when ``value`` (typed into a filter) is its code (12 digits or short:
    539901) or its name: a county officer typing 青山县 into 乡镇/村 means the whole county, not a
    region outside it."""
    prefix = user_region_prefix(user)
    if not prefix:
        return None
    own = Region.objects.filter(code=prefix.ljust(12, "0")).first()
    value = typed(value)
    return own if own is not None and (value == own.name or code_typed(value) == own.code) else None


def labels_with_county(user: Any) -> bool:
    """Whether the user's scope spans several counties (a city, a province, everything): then a
    village's or township's name with its township's alone repeats across counties."""
    prefix = user_region_prefix(user)
    return prefix is None or len(prefix) < 6


def county_name_annotation(*, user: Any, village: str) -> dict[str, Any]:
    """``county_name`` for each row of a list shown to ``user``, when its lists name the county
    (``labels_with_county``): one column read through the village's path, not a third region object
    built for every row (that cost the province's household search ≈ 3 ms a page)."""
    return {"county_name": F(f"{village}__parent__parent__name")} if labels_with_county(user) else {}


def region_label(region: Region, *, with_county: bool = False) -> str:
    """乡镇 村 for a village (names repeat across townships), the name for a township; with
    ``with_county`` the county's name in front (县 乡镇 村, 县 乡镇)."""
    parent = region.parent
    if region.level == RegionLevel.VILLAGE and parent is not None:
        county = parent.parent if with_county else None
        return f"{county.name} {parent.name} {region.name}" if county else f"{parent.name} {region.name}"
    if region.level == RegionLevel.TOWNSHIP and with_county and parent is not None:
        return f"{parent.name} {region.name}"
    return region.name


def village_moves_described(*, moves: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(from village, to village) → the reason an audit row of the move gives, with both names
    (one query): “农户迁移：上营村（520101001001）→ 下营村（520102001001）”."""
    codes = {code for move in moves for code in move}
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    return {(old, new): f"农户迁移：{names.get(old, '')}（{old}）→ {names.get(new, '')}（{new}）" for old, new in moves}
