"""Template helpers of regions in lists."""

from __future__ import annotations

from typing import Any

from django import template

from monitoring.models import Region
from monitoring.selectors.regions import labels_with_county, region_label

register = template.Library()


@register.filter
def spans_counties(user: Any) -> bool:
    """Whether lists shown to ``user`` need a 县 column: a city's or province's scope holds several
    counties whose townships and villages may share names (``labels_with_county``)."""
    return labels_with_county(user)


@register.filter
def place(village: Region, user: Any) -> str:
    """Where a household lives, in one cell: 乡镇 村, with the county in front for a user whose lists
    span counties (``region_label``; the village's township and county selected with it)."""
    return region_label(village, with_county=labels_with_county(user))
