"""Reading department alerts: county staff see those of their region; a department user sees only
its own department's submissions (status, never household data)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from fanpin.roles import Role
from fanpin.scoping import sees_everything, user_region_prefix
from monitoring.models import AlertOrigin, DepartmentAlert
from monitoring.services.alerts import department_label


def alerts_visible(*, user: Any) -> QuerySet[DepartmentAlert]:
    if getattr(user, "role", None) == Role.DEPT and not sees_everything(user):
        prefix = user_region_prefix(user)
        label = department_label(user)
        if prefix is None or not label:
            return DepartmentAlert.objects.none()
        # Its own submissions: by its department, inside its region (matched alerts carry the
        # member's village code, unmatched ones the submitter's region).  Not the alerts the
        # system made from settlement extracts: that a 5 000–20 000 元 line became an alert tells
        # that the person belongs to a 脱贫户 or a monitoring target, which is household data.
        return (
            DepartmentAlert.objects.filter(department=label).within(prefix).exclude(origin=AlertOrigin.MEDICAL_EXTRACT)
        )
    return DepartmentAlert.objects.for_user(user).select_related("member__household")


def shows_household_data(*, user: Any) -> bool:
    return sees_everything(user) or getattr(user, "role", None) != Role.DEPT
