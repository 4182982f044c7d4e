"""统计看板 (issue 9): figures for one region and year, per child region, counts only.

Every figure is a set-based ``GROUP BY`` over the leading digits of the village code
(``Substr(village_id, 1, n)``, n = the child level's prefix length), so the number of queries is
fixed whatever the size of the region (pinned in tests/assistance/test_dashboard.py).

Time semantics (docs/decisions.md, issue 9): registry figures, scale check, assistance coverage,
labor capacity and 帮扶未落实 are *current*; targets by category / risk type and risk elimination are
*as of the end of the year* (today for the current year); leads are the leads *of the year*
(``leads_of_year``: raised in the calendar year, Asia/Shanghai — the card, the source and state
charts, the monthly trend and their .xlsx count the same leads), 逾期 is current; the trend is month
by month within the year.

Snapshots (docs/decisions.md, "Dashboard snapshots follow every state change"): the cache key of a
region carries a version token of its county (townships, villages) or of itself (county and above,
the whole country).  ``assistance.services.dashboard_refresh`` replaces the tokens of a changed
village's county, city, province and the country when a lead, target or elimination changes state,
on commit, so every level shows the same figures at any moment.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import ExtractMonth, Substr
from django.utils import timezone

from assistance.models import DEVELOPMENTAL_CATEGORIES, MeasureCategory, MeasureStatus, TargetMeasure
from assistance.selectors.plans import UNASSISTED_AFTER_DAYS, targets_unassisted_count
from assistance.selectors.recommendation import FULL_LABOR
from fanpin.core.scoping import LEVEL_PREFIX_LENGTH, ObjectOutOfScope, user_region_prefix
from monitoring.models import (
    Household,
    Lead,
    LeadSource,
    LeadState,
    Member,
    MonitoringTarget,
    Region,
    RiskType,
    TargetCategory,
    TargetStatus,
)
from monitoring.models.households import Labor
from monitoring.selectors.exports import export_snapshot
from monitoring.selectors.leads import _json_list_has, overdue_cutoff
from monitoring.selectors.scale import scale_check

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
    county's workload of the year (docs/decisions.md).  Every lead figure of the dashboard uses it."""
    start = dt.datetime(year, 1, 1, tzinfo=SHANGHAI)
    end = dt.datetime(year + 1, 1, 1, tzinfo=SHANGHAI)
    return Q(raised_at__gte=start, raised_at__lt=end)


def _level_of(code: str) -> str:
    if not code:
        return ""
    from fanpin.core.regions import region_level_of

    return str(region_level_of(code))


def _prefix_of(code: str) -> str:
    return code[: LEVEL_PREFIX_LENGTH[_level_of(code)]] if code else ""


def _grouped(qs: Any, path: str, n: int, **aggregates: Any) -> dict[str, dict[str, int]]:
    rows = qs.annotate(child=Substr(path, 1, n)).values("child").order_by().annotate(**aggregates)
    return {row.pop("child"): row for row in rows}


def _within(qs: Any, prefix: str) -> Any:
    return qs.within(prefix) if prefix else qs


def dashboard_region_resolve(*, user: Any, region_code: str) -> tuple[str, str]:
    """The region to show (``region_code`` or the user's own) and its name; raises OutsideScope."""
    scope = user_region_prefix(user)
    if scope is None:
        raise OutsideScope
    code = region_code or (user.region_id or "")
    if code and not (len(code) == 12 and code.isdigit()):
        raise OutsideScope
    if not _prefix_of(code).startswith(scope):
        raise OutsideScope
    if not code:
        return "", "全国"
    region = Region.objects.filter(code=code).values_list("name", flat=True).first()
    if region is None:
        raise OutsideScope
    return code, str(region)


def dashboard_figures(
    *,
    user: Any,
    region_code: str,
    year: int,
    today: dt.date,
    now: dt.datetime | None = None,
    use_cache: bool = True,
) -> Dashboard:
    """All figures of the dashboard for ``region_code`` (default: the user's region) and ``year``.

    A fixed number of queries (17; on PostgreSQL one more, ``SET LOCAL jit = off``) for any region
    size, in one read transaction, so the figures are one consistent snapshot.  Raises ``OutsideScope``.

    The figures of a region do not depend on who asks (only the breadcrumb does), so they are kept
    in the cache for ``DASHBOARD_CACHE_SECONDS``, keyed by region, version token, year and day; the
    Celery job ``dashboard_warm`` computes them for every province, city and county hourly, and
    ``dashboard_refresh_task`` for the regions above a change (a lead, target, elimination or measure
    changing state expires their tokens on commit), so officials read a snapshot instead of scanning
    millions of rows, and every level shows the figures of the same moment.
    """
    code, name = dashboard_region_resolve(user=user, region_code=region_code)  # the scope check, always
    # the key (with the region's version token) is read *before* the figures, so figures read before
    # a change committed are never stored under the token that change put in place
    key = dashboard_cache_key(code=code, year=year, today=today)
    if use_cache and now is None:
        cached = cache.get(key)
        if isinstance(cached, Dashboard):
            return replace(cached, breadcrumb=_breadcrumb(user=user, code=code))
    with export_snapshot():
        data = _figures(user=user, code=code, name=name, year=year, today=today, now=now)
    if now is None:
        cache.set(key, replace(data, breadcrumb=[]), settings.DASHBOARD_CACHE_SECONDS)
    return data


def dashboard_cache_key(*, code: str, year: int, today: dt.date) -> str:
    version = dashboard_snapshot_version(scope=dashboard_version_scope(code))
    return f"fanpin:dashboard:v2:{code or 'all'}:{version}:{year}:{today.isoformat()}"


def dashboard_version_scope(code: str) -> str:
    """Whose version token a region's snapshot carries: its own for the country, provinces, cities
    and counties; its county's for townships and villages (a change anywhere in the county makes
    them stale together)."""
    if not code:
        return "all"
    prefix = _prefix_of(code)
    return prefix[:6] if len(prefix) > 6 else prefix


def dashboard_version_key(scope: str) -> str:
    return f"fanpin:dashboard:version:{scope}"


def dashboard_snapshot_version(*, scope: str) -> str:
    """The current version token of ``scope`` (a random token, created when missing: a token that
    was evicted never comes back with an old value, so an old snapshot is never read again)."""
    key = dashboard_version_key(scope)
    token = cache.get(key)
    if token is None:
        cache.add(key, uuid.uuid4().hex, None)
        token = cache.get(key) or "0"
    return str(token)


def _breadcrumb(*, user: Any, code: str) -> list[tuple[str, str]]:
    """(code, name) from the user's own region down to ``code`` (one query)."""
    top = user_region_prefix(user) or ""
    prefix = _prefix_of(code)
    ancestors = [code[:k].ljust(12, "0") for k in (2, 4, 6, 9, 12) if len(top) <= k <= len(prefix)]
    names = dict(Region.objects.filter(code__in=ancestors).values_list("code", "name"))
    breadcrumb = [(c, names.get(c, c)) for c in ancestors if c in names]
    if not user.region_id:
        breadcrumb.insert(0, ("", "全国"))
    return breadcrumb


def _figures(*, user: Any, code: str, name: str, year: int, today: dt.date, now: dt.datetime | None) -> Dashboard:
    level = _level_of(code)
    prefix = _prefix_of(code)
    if not level:
        child_level = "PROVINCE"
    elif level == "VILLAGE":
        child_level = level  # a village has no children: its own row
    else:
        child_level = LEVELS[LEVELS.index(level) + 1]
    n = LEVEL_PREFIX_LENGTH[child_level]
    as_of = min(dt.date(year, 12, 31), today)
    computed_at = now or timezone.now()

    # 1: the region (dashboard_region_resolve); 2-3: child regions and the breadcrumb
    if level == "VILLAGE":
        children = [(code, name)]
    elif not level:
        children = list(Region.objects.filter(level="PROVINCE").order_by("code").values_list("code", "name"))
    else:
        children = list(Region.objects.filter(parent_id=code).order_by("code").values_list("code", "name"))
    breadcrumb = _breadcrumb(user=user, code=code)

    # 4: households
    households = _grouped(
        _within(Household.objects.for_user(user), prefix),
        "village_id",
        n,
        households=Count("pk"),
        exited=Count("pk", filter=Q(household_type=Household.Type.EXITED)),
    )
    # 5: 建档立卡人口 (members of 脱贫户 households)
    members = _grouped(
        _within(Member.objects.for_user(user), prefix).filter(household__household_type=Household.Type.EXITED),
        "household__village_id",
        n,
        registered=Count("pk"),
    )
    # 6: targets identified by the end of the year; monitored then vs eliminated by then
    eliminated_by = Q(status=TargetStatus.ELIMINATED, eliminated_on__lte=as_of)
    monitored = ~eliminated_by
    target_aggs: dict[str, Any] = {
        "identified": Count("pk"),
        "monitored": Count("pk", filter=monitored),
        "eliminated": Count("pk", filter=eliminated_by),
        "new": Count("pk", filter=Q(identified_on__year=year)),
        "eliminated_year": Count("pk", filter=eliminated_by & Q(eliminated_on__year=year)),
    }
    for cat in TargetCategory.values:
        target_aggs[f"cat_m_{cat}"] = Count("pk", filter=monitored & Q(category=cat))
        target_aggs[f"cat_e_{cat}"] = Count("pk", filter=eliminated_by & Q(category=cat))
    for risk in RiskType.values:
        target_aggs[f"risk_{risk}"] = Count("pk", filter=monitored & _json_list_has("risk_types", risk))
    targets = _grouped(
        _within(MonitoringTarget.objects.for_user(user), prefix).filter(identified_on__lte=as_of),
        "household__village_id",
        n,
        **target_aggs,
    )
    # 7: current active targets: labor capacity, 帮扶未落实 (grouped by the two labor flags, so each
    # correlated subquery runs once per row rather than once per aggregate)
    household_members = Member.objects.filter(household=OuterRef("household"))
    open_measures = TargetMeasure.objects.filter(target=OuterRef("pk")).exclude(status=MeasureStatus.TERMINATED)
    active = _by_capacity(
        _within(MonitoringTarget.objects.for_user(user), prefix)
        .filter(status=TargetStatus.ACTIVE)
        .annotate(
            child=Substr("household__village_id", 1, n),
            full=Exists(household_members.filter(labor__in=FULL_LABOR)),
            weak=Exists(household_members.filter(labor=Labor.WEAK)),
        ),
        active=Count("pk"),
        unassisted=Count(
            "pk",
            filter=Q(identified_on__lte=today - dt.timedelta(days=UNASSISTED_AFTER_DAYS)) & ~Exists(open_measures),  # type: ignore[operator,arg-type]
        ),
    )
    # 8: measures of active targets (not 已终止): distinct targets per category / kind, by capacity
    # (a target has one capacity, so distinct counts add up across the capacity groups)
    m_members = Member.objects.filter(household=OuterRef("target__household"))
    dev = Q(measure__category__in=DEVELOPMENTAL_CATEGORIES)
    measure_aggs: dict[str, Any] = {
        "any": Count("target", distinct=True),
        "dev": Count("target", distinct=True, filter=dev),
        "prot": Count("target", distinct=True, filter=~dev),
    }
    for cat in MeasureCategory.values:
        measure_aggs[f"mc_{cat}"] = Count("target", distinct=True, filter=Q(measure__category=cat))
    measures = _by_capacity(
        _within(TargetMeasure.objects.for_user(user), prefix)
        .filter(target__status=TargetStatus.ACTIVE)
        .exclude(status=MeasureStatus.TERMINATED)
        .annotate(
            child=Substr("target__household__village_id", 1, n),
            full=Exists(m_members.filter(labor__in=FULL_LABOR)),
            weak=Exists(m_members.filter(labor=Labor.WEAK)),
        ),
        **measure_aggs,
    )
    # 9: leads of the year (and open leads of any year, for 逾期)
    cutoff = overdue_cutoff(now)
    in_year = leads_of_year(year)
    lead_aggs: dict[str, Any] = {
        "leads": Count("pk", filter=in_year),
        "overdue": Count("pk", filter=Q(state__in=OPEN_STATES, raised_at__lt=cutoff)),
    }
    for state in LeadState.values:
        lead_aggs[f"state_{state}"] = Count("pk", filter=in_year & Q(state=state))
    for source in LeadSource.values:
        lead_aggs[f"source_{source}"] = Count("pk", filter=in_year & _json_list_has("sources", source))
    leads = _grouped(
        _within(Lead.objects.for_user(user), prefix).filter(in_year | Q(state__in=OPEN_STATES)),
        "household__village_id",
        n,
        **lead_aggs,
    )
    # 10-12: the monthly trend
    trend_new = _monthly(
        _within(MonitoringTarget.objects.for_user(user), prefix).filter(identified_on__year=year), "identified_on"
    )
    trend_elim = _monthly(
        _within(MonitoringTarget.objects.for_user(user), prefix).filter(
            status=TargetStatus.ELIMINATED, eliminated_on__year=year
        ),
        "eliminated_on",
    )
    trend_leads = _monthly(_within(Lead.objects.for_user(user), prefix).filter(in_year), "raised_at")
    # 13-15: scale check (SPEC 4.4), per county
    # below a county (township, village): the county's own row
    scale = scale_check(user=user, prefix=prefix[:6])
    # 16: 帮扶未落实 (the assistance issue's definition)
    unassisted_total = targets_unassisted_count(user=user, today=today, region_code=code)

    def total(source: dict[str, dict[str, int]], key: str) -> int:
        return sum(row.get(key, 0) for row in source.values())

    tables: dict[str, Table] = {}
    regions = Table(
        "regions",
        f"分{LEVEL_LABELS[child_level]}概况",
        [
            LEVEL_LABELS[child_level],
            "农户（户）",
            "脱贫户（户）",
            "建档立卡人口（人）",
            "监测中（户）",
            "风险消除（户）",
            "风险消除率（%）",
            "帮扶未落实（户）",
            f"{year}年线索（条）",
            "逾期线索（条）",
        ],
    )
    for c, label in children:
        key = c[:n]
        h, m, t, a, le = (d.get(key, {}) for d in (households, members, targets, active, leads))
        regions.rows.append(
            [
                label,
                h.get("households", 0),
                h.get("exited", 0),
                m.get("registered", 0),
                t.get("monitored", 0),
                t.get("eliminated", 0),
                percent(t.get("eliminated", 0), t.get("identified", 0)),
                a.get("unassisted", 0),
                le.get("leads", 0),
                le.get("overdue", 0),
            ]
        )
        regions.codes.append(c)
    tables["regions"] = regions

    cats = Table("categories", "监测对象类别", ["监测对象类别", "监测中（户）", "风险消除（户）", "合计（户）"])
    for cat, label in TargetCategory.choices:
        mon, eli = total(targets, f"cat_m_{cat}"), total(targets, f"cat_e_{cat}")
        cats.rows.append([label, mon, eli, mon + eli])
    tables["categories"] = cats

    risks = Table("risks", "风险类型（监测中）", ["风险类型", "监测中（户）"], note="一户可有多个风险类型")
    risks.rows = [[label, total(targets, f"risk_{risk}")] for risk, label in RiskType.choices]
    tables["risks"] = risks

    sources = Table("lead_sources", f"{year}年线索来源", ["线索来源", "线索（条）"], note="一条线索可有多个来源")
    sources.rows = [[label, total(leads, f"source_{s}")] for s, label in LeadSource.choices]
    tables["lead_sources"] = sources
    states = Table("lead_states", f"{year}年线索状态", ["状态", "线索（条）"])
    states.rows = [[label, total(leads, f"state_{s}")] for s, label in LeadState.choices]
    tables["lead_states"] = states

    scale_table = Table(
        "scale",
        "监测规模（当前，按县）",
        [
            "县",
            "深度贫困地区",
            "监测对象（户）",
            "监测对象人数（人）",
            "建档立卡人口（人）",
            "监测比例（%）",
            "上限（%）",
            "下限（%）",
            "结果",
        ],
        note="监测比例 = 监测对象人数 ÷ 建档立卡人口（监测中对象户的家庭成员人数 ÷ 脱贫户家庭成员人数，均按人计）；"
        "仅供参考（应纳尽纳），不限制确定。",
    )
    for row in scale:
        verdict = (
            "超过上限" if row.above_cap else "低于下限" if row.below_floor else "—" if row.ratio is None else "正常"
        )
        scale_table.rows.append(
            [
                row.county_name,
                "是" if row.is_deep_poverty else "否",
                row.active_targets,
                row.target_population,
                row.registered_population,
                percent(row.target_population, row.registered_population),
                (row.cap * 100).quantize(Decimal("0.01")),
                (row.floor * 100).quantize(Decimal("0.01")),
                verdict,
            ]
        )
        scale_table.codes.append(row.county_code)
    tables["scale"] = scale_table

    active_total = total(active, "active")
    any_measure = total(measures, "any")
    coverage = Table(
        "coverage",
        "帮扶覆盖（当前监测中）",
        ["帮扶类别", "有该类措施（户）", "占监测对象（%）"],
        note="措施不含已终止；一户可有多类措施。",
    )
    coverage.rows.append(["任一措施", any_measure, percent(any_measure, active_total)])
    for cat, label in MeasureCategory.choices:
        k = total(measures, f"mc_{cat}")
        coverage.rows.append([label, k, percent(k, active_total)])
    tables["coverage"] = coverage

    labor = Table(
        "labor",
        "开发式与保障性措施 × 劳动能力（当前监测中）",
        ["劳动能力", "监测对象（户）", "有开发式措施（户）", "有保障性措施（户）", "开发式占比（%）"],
    )
    for cap, label in CAPACITIES:
        k, d = total(active, f"active_{cap}"), total(measures, f"dev_{cap}")
        labor.rows.append([label, k, d, total(measures, f"prot_{cap}"), percent(d, k)])
    tables["labor"] = labor

    trend = Table("trend", f"{year}年月度趋势", ["月份", "新增监测对象（户）", "风险消除（户）", "新增线索（条）"])
    trend.rows = [
        [f"{month}月", trend_new.get(month, 0), trend_elim.get(month, 0), trend_leads.get(month, 0)]
        for month in range(1, 13)
    ]
    tables["trend"] = trend

    identified, eliminated = total(targets, "identified"), total(targets, "eliminated")
    registered = total(members, "registered")
    kpis = {
        "households": total(households, "households"),
        "exited": total(households, "exited"),
        "registered": registered,
        "monitored": total(targets, "monitored"),
        "new": total(targets, "new"),
        "eliminated": eliminated,
        "eliminated_year": total(targets, "eliminated_year"),
        "elimination_rate": percent(eliminated, identified),
        "active": active_total,
        "covered": any_measure,
        "coverage_rate": percent(any_measure, active_total),
        "unassisted": unassisted_total,
        "leads": total(leads, "leads"),
        "overdue": total(leads, "overdue"),
        "scale_flagged": sum(1 for row in scale if row.above_cap or row.below_floor),
    }
    return Dashboard(
        code=code,
        name=name,
        level=level,
        year=year,
        as_of=as_of,
        breadcrumb=breadcrumb,
        child_level=child_level,
        kpis=kpis,
        tables=tables,
        computed_at=computed_at,
    )


def _by_capacity(qs: Any, **aggregates: Any) -> dict[str, dict[str, int]]:
    """Aggregates per child region, also split by labor capacity (``{name}_{FULL|PARTIAL|NONE}``)."""
    out: dict[str, dict[str, int]] = {}
    for row in qs.values("child", "full", "weak").order_by().annotate(**aggregates):
        capacity = "FULL" if row.pop("full") else "PARTIAL" if row.pop("weak") else "NONE"
        row.pop("weak", None)
        into = out.setdefault(row.pop("child"), {})
        for name, value in row.items():
            into[name] = into.get(name, 0) + value
            into[f"{name}_{capacity}"] = into.get(f"{name}_{capacity}", 0) + value
    return out


def _monthly(qs: Any, date_field: str) -> dict[int, int]:
    month = ExtractMonth(date_field, tzinfo=SHANGHAI) if date_field == "raised_at" else ExtractMonth(date_field)
    rows = qs.annotate(month=month).values("month").order_by().annotate(n=Count("pk"))
    return {row["month"]: row["n"] for row in rows}


def dashboard_json(dashboard: Dashboard) -> dict[str, Any]:
    """The tables as plain JSON for the charts (decimals become floats, ``None`` stays null)."""

    def plain(value: Any) -> Any:
        return float(value) if isinstance(value, Decimal) else value

    return {
        "child_level": LEVEL_LABELS[dashboard.child_level],
        "drill": not dashboard.is_village,
        "year": dashboard.year,
        "tables": {
            key: {
                "title": t.title,
                "columns": t.columns,
                "rows": [[plain(v) for v in row] for row in t.rows],
                "codes": t.codes,
            }
            for key, t in dashboard.tables.items()
        },
    }
