"""Roles (SPEC §1) and what each may do.  One place that answers "may this role do X"."""

from __future__ import annotations

from typing import Any

from django.db import models


class Role(models.TextChoices):
    ADMIN = "ADMIN", "系统管理员"
    PROVINCE = "PROVINCE", "省级"
    CITY = "CITY", "市级"
    COUNTY = "COUNTY", "县级乡村振兴部门"
    TOWNSHIP = "TOWNSHIP", "乡镇干部"
    VILLAGE = "VILLAGE", "村干部/驻村工作队"
    DEPT = "DEPT", "行业部门"


class Department(models.TextChoices):
    HEALTH = "HEALTH", "卫健"
    MEDICAL_INSURANCE = "MEDICAL_INSURANCE", "医保"
    CIVIL_AFFAIRS = "CIVIL_AFFAIRS", "民政"
    DISABLED = "DISABLED", "残联"
    EMERGENCY = "EMERGENCY", "应急管理"
    HR_SOCIAL = "HR_SOCIAL", "人社"
    EDUCATION = "EDUCATION", "教育"
    HOUSING = "HOUSING", "住建"
    OTHER = "OTHER", "其他"


# The region level each role's user must belong to (SPEC §1).
ROLE_REGION_LEVELS: dict[str, tuple[str, ...]] = {
    Role.PROVINCE: ("PROVINCE",),
    Role.CITY: ("CITY",),
    Role.COUNTY: ("COUNTY",),
    Role.TOWNSHIP: ("TOWNSHIP",),
    Role.VILLAGE: ("VILLAGE",),
    Role.DEPT: ("COUNTY", "PROVINCE"),
    Role.ADMIN: ("PROVINCE", "CITY", "COUNTY", "TOWNSHIP", "VILLAGE"),
}


class Permission:
    """Named capabilities; ``ROLE_PERMISSIONS`` says which role holds which."""

    VIEW_HOUSEHOLDS = "view_households"
    VIEW_FULL_ID = "view_full_id"
    IMPORT_DATA = "import_data"  # registry data (regions, households, members, incomes, expenditures) and alerts
    # The Excel import pages; which kinds a user may upload: monitoring.selectors.imports.import_kinds_for
    # (department users: their department's alerts, 医保 also settlement extracts; only their own jobs).
    UPLOAD_SHEETS = "upload_sheets"
    EXPORT_DATA = "export_data"
    RUN_SCREENING = "run_screening"
    MANAGE_PARAMETERS = "manage_parameters"
    VIEW_DASHBOARD = "view_dashboard"
    SUBMIT_ALERTS = "submit_alerts"
    VIEW_ALERTS = "view_alerts"  # the department alerts of one's region (county) or department
    MANAGE_TOKENS = "manage_tokens"  # API tokens for other systems
    ADMIN_SITE = "admin_site"
    PLAN_ASSISTANCE = "plan_assistance"  # add measures to a target's assistance plan
    RECORD_PROGRESS = "record_progress"  # set a measure's status and progress notes
    PROPOSE_ELIMINATION = "propose_elimination"  # village: propose 风险消除
    DECIDE_ELIMINATION = "decide_elimination"  # township review / county confirmation of 风险消除
    # accept or reject a pending household change (分户, 合户, a member moving, 户类型, death or removal)
    DECIDE_HOUSEHOLD_CHANGES = "decide_household_changes"
    RECORD_VISITS = "record_visits"  # 走访记录 and 农户申报 entered by a cadre
    # the scanned 承诺授权书 (identity data on paper): those who handle the lead, not city/province
    VIEW_CONSENT_SCANS = "view_consent_scans"
    # 帮扶明白卡 and the village QR posters: those who manage targets in their scope (village,
    # township, county); a batch of cards holds names and 帮扶责任人 phones and is access-logged
    PRINT_CARDS = "print_cards"
    # the log of notices sent to households and 帮扶责任人 (county staff)
    VIEW_NOTICES = "view_notices"


P = Permission
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(
        {
            P.VIEW_HOUSEHOLDS,
            P.VIEW_FULL_ID,
            P.IMPORT_DATA,
            P.UPLOAD_SHEETS,
            P.EXPORT_DATA,
            P.RUN_SCREENING,
            P.MANAGE_PARAMETERS,
            P.VIEW_DASHBOARD,
            P.ADMIN_SITE,
            P.PLAN_ASSISTANCE,
            P.RECORD_PROGRESS,
            P.PROPOSE_ELIMINATION,
            P.DECIDE_ELIMINATION,
            P.DECIDE_HOUSEHOLD_CHANGES,
            P.RECORD_VISITS,
            P.VIEW_ALERTS,
            P.MANAGE_TOKENS,
            P.VIEW_CONSENT_SCANS,
            P.PRINT_CARDS,
            P.VIEW_NOTICES,
        }
    ),
    Role.PROVINCE: frozenset({P.VIEW_HOUSEHOLDS, P.VIEW_DASHBOARD}),
    Role.CITY: frozenset({P.VIEW_HOUSEHOLDS, P.VIEW_DASHBOARD}),
    Role.COUNTY: frozenset(
        {
            P.VIEW_HOUSEHOLDS,
            P.VIEW_FULL_ID,
            P.IMPORT_DATA,
            P.UPLOAD_SHEETS,
            P.EXPORT_DATA,
            P.RUN_SCREENING,
            P.VIEW_DASHBOARD,
            P.ADMIN_SITE,
            P.PLAN_ASSISTANCE,
            P.RECORD_PROGRESS,
            P.DECIDE_ELIMINATION,
            P.DECIDE_HOUSEHOLD_CHANGES,
            P.RECORD_VISITS,
            P.VIEW_ALERTS,
            P.MANAGE_TOKENS,
            P.VIEW_CONSENT_SCANS,
            P.PRINT_CARDS,
            P.VIEW_NOTICES,
        }
    ),
    Role.TOWNSHIP: frozenset(
        {
            P.VIEW_HOUSEHOLDS,
            P.ADMIN_SITE,
            P.DECIDE_ELIMINATION,
            P.RECORD_VISITS,
            P.VIEW_CONSENT_SCANS,
            P.PRINT_CARDS,
        }
    ),
    Role.VILLAGE: frozenset(
        {
            P.VIEW_HOUSEHOLDS,
            P.RECORD_PROGRESS,
            P.PROPOSE_ELIMINATION,
            P.RECORD_VISITS,
            P.VIEW_CONSENT_SCANS,
            P.PRINT_CARDS,
        }
    ),
    Role.DEPT: frozenset({P.SUBMIT_ALERTS, P.VIEW_ALERTS, P.UPLOAD_SHEETS}),
}


def role_can(role: str | None, permission: str) -> bool:
    return bool(role) and permission in ROLE_PERMISSIONS.get(str(role), frozenset())


def effective_role(user: Any) -> str:
    """The role a user acts in: superusers act as administrators."""
    if getattr(user, "is_superuser", False):
        return "ADMIN"
    return str(getattr(user, "role", "") or "")


def department_label(user: Any) -> str:
    """The name of a department user's 行业部门 (empty for other users)."""
    code = getattr(user, "department", "")
    return Department(code).label if code else ""
