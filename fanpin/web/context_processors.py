from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from fanpin.core.roles import Permission, role_can
from fanpin.core.terms import term, terms
from monitoring.selectors.leads import nav_counts
from monitoring.selectors.rosters import rosters_may_view


def glossary(request: HttpRequest) -> dict[str, Any]:
    """The deployment's terms (fanpin.core.terms) as ``{{ terms.target }}``, ``{{ terms.monitoring }}``,
    ``{{ terms.scope }}`` on every page."""
    return {"terms": terms()}


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The navigation bar: only what the user's role may do."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    role = "ADMIN" if user.is_superuser else user.role
    items: list[dict[str, Any]] = []
    if role != "VILLAGE":  # a village cadre's home is 村级工作台 (the brand links there too)
        items.append({"label": "首页", "url": reverse("home"), "key": "home"})
    if role_can(role, Permission.VIEW_DASHBOARD):
        items.append({"label": "统计看板", "url": reverse("dashboard"), "key": "dashboard"})
    if role_can(role, Permission.RECORD_VISITS):
        items.append({"label": "村级工作台", "url": reverse("monitoring:cadre_home"), "key": "cadre"})
    if role_can(role, Permission.VIEW_HOUSEHOLDS):
        items.append({"label": "农户信息", "url": reverse("monitoring:household_list"), "key": "households"})
        # htmx partial updates render no navigation bar: skip the count query for them
        counts = getattr(request, "lead_nav_counts", None)  # the queue page counted them already
        if counts is None:
            counts = {"waiting": 0, "overdue": 0} if request.headers.get("HX-Request") else nav_counts(user=user)
        items.append(
            {
                "label": "线索审核",
                "url": reverse("monitoring:lead_queue"),
                "key": "leads",
                "badge": counts["waiting"],
                "badge_overdue": counts["overdue"],
            }
        )
        items.append({"label": term("target"), "url": reverse("monitoring:target_list"), "key": "targets"})
        items.append({"label": "农户申报", "url": reverse("monitoring:application_list"), "key": "applications"})
        items.append({"label": "帮扶措施", "url": reverse("assistance:plan_list"), "key": "assistance"})
    if role_can(role, Permission.PROPOSE_ELIMINATION) or role_can(role, Permission.DECIDE_ELIMINATION):
        items.append({"label": "风险消除", "url": reverse("assistance:elimination_list"), "key": "elimination"})
    if role_can(role, Permission.UPLOAD_SHEETS):  # department users: upload their alerts
        items.append({"label": "数据导入", "url": reverse("monitoring:import_list"), "key": "imports"})
    if role_can(role, Permission.VIEW_HOUSEHOLDS):
        # 分户、合户、成员迁移、户类型、死亡或注销: the county decides, the others see their region's
        items.append({"label": "农户变更", "url": reverse("monitoring:household_changes"), "key": "household_changes"})
        # 回头看/信息采集: county staff here; leaders and townships from the home page (short bars stay
        # flat), a village cadre finds its tasks on 村级工作台
        if role_can(role, Permission.RUN_SCREENING):
            items.append({"label": "回头看/信息采集", "url": reverse("monitoring:campaigns"), "key": "campaigns"})
        # 绿色通道补办 (a village cadre finds its own on 村级工作台) and the township's 公告: the
        # roles that do them (leaders reach both from the home page and the dashboard)
        if role in ("ADMIN", "COUNTY", "TOWNSHIP"):
            items.append({"label": "绿色通道补办", "url": reverse("monitoring:followups"), "key": "followups"})
        if role in ("ADMIN", "COUNTY", "TOWNSHIP", "VILLAGE"):
            items.append({"label": "公告", "url": reverse("assistance:announcements"), "key": "announcements"})
    if role_can(role, Permission.EXPORT_DATA):  # large exports wait here for their owner
        items.append({"label": "我的导出", "url": reverse("monitoring:export_list"), "key": "exports"})
    if role_can(role, Permission.RUN_SCREENING):
        items.append({"label": "筛查", "url": reverse("monitoring:screening"), "key": "screening"})
    if role_can(role, Permission.MANAGE_PARAMETERS):
        items.append({"label": "参数设置", "url": reverse("monitoring:parameters"), "key": "parameters"})
    elif role == "PROVINCE":  # a provincial user sets the province's own rule parameters
        items.append({"label": "本省规则参数", "url": reverse("monitoring:province_parameters"), "key": "parameters"})
    if role_can(role, Permission.VIEW_ALERTS):
        items.append({"label": "部门预警", "url": reverse("monitoring:alert_list"), "key": "alerts"})
    if rosters_may_view(user=user):  # 民政 rosters: county staff, administrators, 民政 department users
        items.append({"label": "民政名单", "url": reverse("monitoring:roster_list"), "key": "rosters"})
    if role_can(role, Permission.VIEW_NOTICES):
        items.append({"label": "通知记录", "url": reverse("monitoring:notice_list"), "key": "notices"})
    if role_can(role, Permission.MANAGE_TOKENS):
        items.append({"label": "API 令牌", "url": reverse("token_list"), "key": "tokens"})
    if role in SYSTEM_LINK_ROLES:  # the others have no use for the admin site or the API's documentation
        if role_can(role, Permission.ADMIN_SITE) and user.is_staff:
            items.append({"label": "后台管理", "url": reverse("admin:index"), "key": "admin"})
        items.append({"label": "API 文档", "url": reverse("api-docs"), "key": "api"})
    return {"nav_items": _grouped(items), "user_role_label": user.get_role_display() if user.role else ""}


SYSTEM_LINK_ROLES = ("ADMIN", "COUNTY")

# County staff and administrators would get 14–16 items, which wrap on a 1 366 px screen: the less
# daily ones go into two menus.  Short bars (cadres, departments, leaders) stay flat.
NAV_GROUPS = (
    (
        "数据与程序",
        "data",
        (
            "followups",
            "announcements",
            "imports",
            "household_changes",
            "campaigns",
            "exports",
            "screening",
            "parameters",
            "alerts",
            "rosters",
            "notices",
        ),
    ),
    ("系统", "system", ("tokens", "admin", "api")),
)
MAX_FLAT_ITEMS = 9


def _grouped(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(items) <= MAX_FLAT_ITEMS:
        return items
    result = [item for item in items if not any(item["key"] in keys for _, _, keys in NAV_GROUPS)]
    for label, key, keys in NAV_GROUPS:
        children = [item for item in items if item["key"] in keys]
        if len(children) == 1:
            result.append(children[0])
        elif children:
            child_keys = [c["key"] for c in children]
            result.append({"label": label, "key": key, "children": children, "child_keys": child_keys})
    return result
