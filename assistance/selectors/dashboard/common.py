"""What the dashboard's panels share: the figures' types, the region shown, percentages, and the
one definition of the leads of a year."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Q

from fanpin.core.scoping import LEVEL_PREFIX_LENGTH, ObjectOutOfScope, user_region_prefix
from monitoring.models import LeadState, Region

LEVELS = ["PROVINCE", "CITY", "COUNTY", "TOWNSHIP", "VILLAGE"]
LEVEL_LABELS = {"": "全国", "PROVINCE": "省", "CITY": "市", "COUNTY": "县", "TOWNSHIP": "乡镇", "VILLAGE": "村"}
OPEN_STATES = [LeadState.NEW, LeadState.VERIFIED, LeadState.REVIEWED]
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
CAPACITIES = [("FULL", "有劳动能力"), ("PARTIAL", "部分劳动能力"), ("NONE", "无劳动能力")]


class OutsideScope(ObjectOutOfScope):
    """The requested region is not in the user's scope (pages answer 404)."""

    def __init__(self) -> None:
        super().__init__("区划")


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)  # region code per row, when rows are regions
    note: str = ""

    @property
    def coded_rows(self) -> list[tuple[str, list[Any]]]:
        """(region code or "", row) pairs for templates."""
        return [(self.codes[i] if i < len(self.codes) else "", row) for i, row in enumerate(self.rows)]


@dataclass
class Dashboard:
    code: str  # "" = everything (administrators)
    name: str
    level: str
    year: int
    as_of: dt.date
    breadcrumb: list[tuple[str, str]]  # (code, name) from the user's own region down to this one
    child_level: str
    kpis: dict[str, Any]
    tables: dict[str, Table]
    computed_at: dt.datetime  # when the figures were read (the page shows 数据更新于 HH:MM)

    @property
    def is_village(self) -> bool:
        return self.level == "VILLAGE"


def percent(part: int, whole: int) -> Decimal | None:
    """``part ÷ whole`` in percent with two decimals (half up); ``None`` when ``whole`` is 0."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def leads_of_year(year: int) -> Q:
    """The leads *of year* ``year`` on the dashboard: raised (发现时间 ``raised_at``) in that calendar
    year, Asia/Shanghai.  A screening of assessment year 2025 run in 2026 raises leads of 2026: the
    county's workload of the year (docs/decisions/2026-12-03-leads-of-the-year.md).  Every lead figure of the
    dashboard uses it."""
    start = dt.datetime(year, 1, 1, tzinfo=SHANGHAI)
    end = dt.datetime(year + 1, 1, 1, tzinfo=SHANGHAI)
    return Q(raised_at__gte=start, raised_at__lt=end)


def level_of(code: str) -> str:
    if not code:
        return ""
    from fanpin.core.regions import region_level_of

    return str(region_level_of(code))


def prefix_of(code: str) -> str:
    return code[: LEVEL_PREFIX_LENGTH[level_of(code)]] if code else ""


def dashboard_region_resolve(*, user: Any, region_code: str) -> tuple[str, str]:
    """The region to show (``region_code`` or the user's own) and its name; raises OutsideScope."""
    scope = user_region_prefix(user)
    if scope is None:
        raise OutsideScope
    code = region_code or (user.region_id or "")
    if code and not (len(code) == 12 and code.isdigit()):
        raise OutsideScope
    if not prefix_of(code).startswith(scope):
        raise OutsideScope
    if not code:
        return "", "全国"
    region = Region.objects.filter(code=code).values_list("name", flat=True).first()
    if region is None:
        raise OutsideScope
    return code, str(region)


def dashboard_breadcrumb(*, user: Any, code: str) -> list[tuple[str, str]]:
    """(code, name) from the user's own region down to ``code`` (one query)."""
    top = user_region_prefix(user) or ""
    prefix = prefix_of(code)
    ancestors = [code[:k].ljust(12, "0") for k in (2, 4, 6, 9, 12) if len(top) <= k <= len(prefix)]
    names = dict(Region.objects.filter(code__in=ancestors).values_list("code", "name"))
    breadcrumb = [(c, names.get(c, c)) for c in ancestors if c in names]
    if not user.region_id:
        breadcrumb.insert(0, ("", "全国"))
    return breadcrumb
