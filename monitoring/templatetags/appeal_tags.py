"""Template helpers of appeals (申诉), 未纳入 reason categories and household notice preferences."""

from __future__ import annotations

from typing import Any

from django import template

from fanpin.core.roles import Permission, effective_role, role_can
from monitoring.models import NoticePreference, RejectionCategory
from monitoring.selectors.notices import notice_preference_for

register = template.Library()


@register.filter
def may_file_appeal(user: Any) -> bool:
    """Whether ``user``'s role files appeals for households (the cadres who enter applications)."""
    return role_can(effective_role(user), Permission.RECORD_VISITS)


@register.simple_tag
def rejection_categories() -> list[tuple[str, str]]:
    return list(RejectionCategory.choices)


@register.simple_tag
def notice_preference_of(household: Any) -> NoticePreference | None:
    return notice_preference_for(household_id=household.pk)
