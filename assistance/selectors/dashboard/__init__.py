"""统计看板: figures for one region and year, per child region, counts only.

The page is made of panels — the KPI cards and the tables (regions, categories, risks, lead
sources and states, scale, coverage, labor, trend) — each computed by its own selector in
``panels``, composed here by ``dashboard_figures`` in one read transaction.  The panels share the
grouped reads of ``reads.DashboardReads`` (each a set-based ``GROUP BY`` over the leading digits of
the village code, run once), so the number of queries is fixed whatever the size of the region
(pinned in tests/assistance/test_dashboard.py).

Time semantics (docs/decisions/2026-11-28-dashboards.md): registry figures, scale check, assistance coverage, labor
capacity and 帮扶未落实 are *current*; targets by category / risk type and risk elimination are
*as of the end of the year* (today for the current year); leads are the leads *of the year*
(``leads_of_year``: raised in the calendar year, Asia/Shanghai — the card, the source and state
charts, the monthly trend and their .xlsx count the same leads), 逾期 is current; the trend is month
by month within the year.

Snapshots (docs/decisions/2026-12-03-dashboard-snapshots-follow-changes.md): the cache key of a
region carries a version token of its county (townships, villages) or of itself (county and above,
the whole country).  ``assistance.services.dashboard_refresh`` replaces the tokens of a changed
village's county, city, province and the country when a lead, target or elimination changes state,
on commit, so every level shows the same figures at any moment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from assistance.selectors.dashboard.common import (
    CAPACITIES,
    LEVEL_LABELS,
    LEVELS,
    OPEN_STATES,
    SHANGHAI,
    Dashboard,
    OutsideScope,
    Table,
    dashboard_breadcrumb,
    dashboard_region_resolve,
    leads_of_year,
    percent,
)
from assistance.selectors.dashboard.deadlines import DEADLINE_PANELS
from assistance.selectors.dashboard.low_income import LOW_INCOME_PANELS
from assistance.selectors.dashboard.panels import TABLE_PANELS, dashboard_kpis
from assistance.selectors.dashboard.reads import DashboardReads, DashboardScope
from assistance.selectors.dashboard.snapshots import (
    dashboard_cache_key,
    dashboard_snapshot_version,
    dashboard_version_key,
    dashboard_version_scope,
)
from monitoring.selectors.exports import export_snapshot

__all__ = [
    "CAPACITIES",
    "LEVELS",
    "LEVEL_LABELS",
    "OPEN_STATES",
    "PANELS",
    "SHANGHAI",
    "Dashboard",
    "OutsideScope",
    "Table",
    "dashboard_cache_key",
    "dashboard_figures",
    "dashboard_json",
    "dashboard_region_resolve",
    "dashboard_snapshot_version",
    "dashboard_table",
    "dashboard_version_key",
    "dashboard_version_scope",
    "leads_of_year",
    "percent",
]


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
            return replace(cached, breadcrumb=dashboard_breadcrumb(user=user, code=code))
    with export_snapshot():
        data = _figures(user=user, code=code, name=name, year=year, today=today, now=now)
    if now is None:
        cache.set(key, replace(data, breadcrumb=[]), settings.DASHBOARD_CACHE_SECONDS)
    return data


# The table panels in page order, by table key: ``dashboard_<key>_table`` makes the table ``<key>``.
PANELS: dict[str, Callable[[DashboardReads], Table]] = {
    panel.__name__.removeprefix("dashboard_").removesuffix("_table"): panel
    for panel in (*TABLE_PANELS, *LOW_INCOME_PANELS, *DEADLINE_PANELS)
}


def dashboard_table(*, user: Any, region_code: str, key: str, year: int, today: dt.date) -> tuple[str, Table]:
    """The region's name and one table of its dashboard (the table's .xlsx): from the region's
    snapshot when one is cached, else computed alone — only the reads its panel needs, not the whole
    page.  Raises ``OutsideScope``, and ``KeyError`` for a key no panel makes."""
    panel = PANELS[key]
    code, name = dashboard_region_resolve(user=user, region_code=region_code)  # the scope check, always
    cached = cache.get(dashboard_cache_key(code=code, year=year, today=today))
    if isinstance(cached, Dashboard) and key in cached.tables:  # a snapshot older than the table has none
        return name, cached.tables[key]
    with export_snapshot():
        scope = DashboardScope(user=user, code=code, name=name, year=year, today=today, now=None)
        return name, panel(DashboardReads(scope))


def _figures(*, user: Any, code: str, name: str, year: int, today: dt.date, now: dt.datetime | None) -> Dashboard:
    """Every panel of one region and year (inside the caller's read transaction)."""
    computed_at = now or timezone.now()
    scope = DashboardScope(user=user, code=code, name=name, year=year, today=today, now=now)
    reads = DashboardReads(scope)
    tables = [panel(reads) for panel in PANELS.values()]
    return Dashboard(
        code=code,
        name=name,
        level=scope.level,
        year=year,
        as_of=scope.as_of,
        breadcrumb=dashboard_breadcrumb(user=user, code=code),
        child_level=scope.child_level,
        kpis=dashboard_kpis(reads),
        tables={table.key: table for table in tables},
        computed_at=computed_at,
    )


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
