"""Template helpers of regions in lists."""

from __future__ import annotations

from typing import Any

from django import template

from monitoring.selectors.regions import labels_with_county

register = template.Library()


@register.filter
def spans_counties(user: Any) -> bool:
    """Whether lists shown to ``user`` need a 县 column: a city's or province's scope holds several
    counties whose townships and villages may share names (``labels_with_county``)."""
    return labels_with_county(user)
