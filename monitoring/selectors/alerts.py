"""Reading department alerts: county staff see those of their region; a department user sees only
its own department's submissions (status, never household data)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from fanpin.core.roles import Permission, Role, department_label, effective_role, role_can
from fanpin.core.scoping import sees_everything, user_region_prefix
from monitoring.models import AlertOrigin, DepartmentAlert


def alerts_may_view(*, user: Any) -> bool:
    """The one rule for reading department alerts: the 部门预警 page and ``/api/v1/alerts/`` (list and
    detail) both answer 403 to a role without ``Permission.VIEW_ALERTS`` (village, township, city,
    province staff: alerts carry amounts about named persons)."""
    return role_can(effective_role(user), Permission.VIEW_ALERTS)


def alerts_may_submit(*, user: Any) -> bool:
    """Who may send alerts or 医保 settlement lines through the API (the services check the same)."""
    role = effective_role(user)
    return role_can(role, Permission.SUBMIT_ALERTS) or role_can(role, Permission.IMPORT_DATA)


def alerts_visible(*, user: Any) -> QuerySet[DepartmentAlert]:
    if getattr(user, "role", None) == Role.DEPT and not sees_everything(user):
        prefix = user_region_prefix(user)
        label = department_label(user)
        if prefix is None or not label:
            return DepartmentAlert.objects.none()
        # Its own submissions: those of its unit (来源部门 + the submitter's region, ``scope_code``,
        # as the alerts' keys), not every alert of its department inside its region (a county 医保
        # user would see the province 医保's alerts on its villagers: matched alerts carry the
        # member's village code).  Not the alerts the system made from settlement extracts: that a
        # 5 000–20 000 元 line became an alert tells that the person belongs to a 脱贫户 or a
        # monitoring target, which is household data.
        return (
            DepartmentAlert.objects.filter(department=label, scope_code=str(user.region_id))
            .within(prefix)
            .exclude(origin=AlertOrigin.MEDICAL_EXTRACT)
        )
    return DepartmentAlert.objects.for_user(user).select_related("member__household")


def shows_household_data(*, user: Any) -> bool:
    return sees_everything(user) or getattr(user, "role", None) != Role.DEPT
