"""Regions a user may pick in a filter: the typeahead behind the 村 and 乡镇/村 fields.

A province has about 10 000 villages; a page listing them all as ``<option>``s took a second to
render.  Filters therefore take a typed code or name and suggest at most ``TYPEAHEAD_LIMIT`` regions
of the user's scope; the same lookup checks what a filter was given.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from fanpin.core.regions import RegionLevel
from monitoring.models import Region

TYPEAHEAD_LIMIT = 20
VILLAGES = (RegionLevel.VILLAGE,)
TOWNSHIPS_AND_VILLAGES = (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE)


def _candidates(*, user: Any, levels: tuple[str, ...]) -> QuerySet[Region]:
    return Region.objects.for_user(user).filter(level__in=levels).select_related("parent").order_by("code")


def regions_matching(
    *, user: Any, term: str, levels: tuple[str, ...] = VILLAGES, limit: int = TYPEAHEAD_LIMIT
) -> list[Region]:
    """Regions of ``levels`` in ``user``'s scope whose code starts with ``term`` (digits) or whose
    name or township's name contains it; the first ``limit`` by code.  An empty term: the first
    ``limit`` of the scope.  Never a region outside the scope (deny by default: ``for_user``)."""
    term = term.strip()[:40]
    qs = _candidates(user=user, levels=levels)
    if term.isdigit():
        qs = qs.filter(code__startswith=term)
    elif term:
        qs = qs.filter(Q(name__contains=term) | Q(parent__name__contains=term))
    return list(qs[:limit])


def region_pick(*, user: Any, value: str, levels: tuple[str, ...] = VILLAGES) -> tuple[Region | None, int]:
    """What a filter field was given: a 12-digit code, a name, or "乡镇 村" as the suggestions show it.

    Returns (the region, 1) when exactly one region of ``levels`` in the user's scope answers to
    ``value`` (a name that is some region's whole name wins over names that merely contain it),
    else (None, how many answered: 0, or 2 for "more than one")."""
    value = " ".join(value.split())
    qs = _candidates(user=user, levels=levels)
    if value.isdigit():
        region = qs.filter(code=value).first() if len(value) == 12 else None
        return region, int(region is not None)
    if " " in value:
        township, _, name = value.rpartition(" ")
        found = list(qs.filter(parent__name__contains=township, name__contains=name)[:2])
    else:
        found = list(qs.filter(name=value)[:2]) or list(qs.filter(name__contains=value)[:2])
    return (found[0], 1) if len(found) == 1 else (None, len(found))


def region_label(region: Region) -> str:
    """乡镇 村 for a village (names repeat across townships), the name for a township."""
    if region.level == RegionLevel.VILLAGE and region.parent is not None:
        return f"{region.parent.name} {region.name}"
    return region.name
