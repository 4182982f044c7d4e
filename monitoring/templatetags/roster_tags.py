"""The 民政 status of a household beside its type (household page, lead page): one query each."""

from __future__ import annotations

from typing import Any

from django import template

from monitoring.selectors.rosters import household_assistance_entries, household_assistance_labels

register = template.Library()


@register.simple_tag
def assistance_status(household: Any) -> str:
    """The household's current 社会救助 statuses (``低保、特困``), or ``""``."""
    if household is None or not getattr(household, "pk", None):
        return ""
    return household_assistance_labels(household_ids=[household.pk]).get(household.pk, "")


@register.inclusion_tag("monitoring/rosters/_household_panel.html")
def household_assistance_panel(household: Any) -> dict[str, Any]:
    """The household's matched 民政 roster lines, current and past."""
    return {"entries": list(household_assistance_entries(household=household))}
