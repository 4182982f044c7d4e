"""Both populations on the dashboard: the households that are targets, the rural
low-income households of 民政 (a current 低保, 特困, 低保边缘 or 刚性支出困难 line), and their overlap,
per child region and per 救助类别.

One read, one query: households grouped by child region and by the flags (target? which
categories?), each flag an ``EXISTS`` computed once per household; the two panels add up.  "Target"
is the targets read's 监测中 as of the end of the year (identified by then, not eliminated by
then); a low-income household is one whose member has a matched line current on that day.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Substr

from assistance.selectors.dashboard.common import Table, percent
from assistance.selectors.dashboard.reads import DashboardReads, Grouped, total
from fanpin.core.terms import term
from monitoring.models import AssistanceCategory, Household, MonitoringTarget, TargetStatus
from monitoring.selectors.rosters import low_income_exists

CATEGORIES = list(AssistanceCategory.values)


def low_income_read(reads: DashboardReads) -> Grouped:
    """Per child region: ``targets``, ``low_income``, ``both``, and per category ``li_<C>`` and
    ``both_<C>`` (households).  Run once per dashboard (kept on ``reads``)."""
    cached: Grouped | None = getattr(reads, "_low_income", None)
    if cached is not None:
        return cached
    s = reads.scope
    monitored = (
        MonitoringTarget.objects.filter(household=OuterRef("pk"), identified_on__lte=s.as_of)
        .exclude(status=TargetStatus.ELIMINATED, eliminated_on__lte=s.as_of)
        .values("pk")
    )
    flags = {f"f_{c}": low_income_exists(on=s.as_of, categories=[c]) for c in CATEGORIES}
    qs = (
        reads.scoped(Household)
        .annotate(child=Substr("village_id", 1, s.n), is_target=Exists(monitored), **flags)
        .filter(Q(is_target=True) | Q(low_income_exists(on=s.as_of)))
    )
    out: Grouped = {}
    for row in qs.values("child", "is_target", *flags).order_by().annotate(n=Count("pk")):
        into = out.setdefault(row["child"], {})
        n, target = row["n"], bool(row["is_target"])
        low = [c for c in CATEGORIES if row[f"f_{c}"]]
        figures = ["targets"] if target else []
        if low:
            figures.append("low_income")
            figures += [f"li_{c}" for c in low]
            if target:
                figures.append("both")
                figures += [f"both_{c}" for c in low]
        for name in figures:
            into[name] = into.get(name, 0) + n
    reads._low_income = out  # type: ignore[attr-defined]
    return out


def dashboard_low_income_table(reads: DashboardReads) -> Table:
    """分区划: targets, low-income households, by category, and the overlap (counted once each)."""
    s = reads.scope
    grouped = low_income_read(reads)
    target = term("target")
    table = Table(
        "low_income",
        f"{target}与农村低收入人口",
        [
            "区划",
            f"{target}（户）",
            "农村低收入户（户）",
            *[f"{label}（户）" for label in AssistanceCategory.labels],
            "两者重叠（户）",
            f"重叠占{target}（%）",
        ],
        note=f"农村低收入户：当前享受民政低保、特困、低保边缘或刚性支出困难救助的农户（一户可有多类）；"
        f"重叠户既是{target}又是低收入户，是同一户，只走访一次。",
    )
    for code, label in reads.children:
        g = grouped.get(code[: s.n], {})
        targets, both = g.get("targets", 0), g.get("both", 0)
        table.rows.append(
            [
                label,
                targets,
                g.get("low_income", 0),
                *[g.get(f"li_{c}", 0) for c in CATEGORIES],
                both,
                percent(both, targets),
            ]
        )
        table.codes.append(code)
    return table


def dashboard_low_income_categories_table(reads: DashboardReads) -> Table:
    """按救助类别: low-income households of each category, and how many of them are targets."""
    grouped = low_income_read(reads)
    target = term("target")
    table = Table(
        "low_income_categories",
        f"农村低收入人口按救助类别（含{target}重叠）",
        ["救助类别", "农村低收入户（户）", f"其中{target}（户）", "占该类（%）"],
        note="一户可有多类救助，各类之和可大于低收入户数。",
    )
    for code, label in AssistanceCategory.choices:
        k, both = total(grouped, f"li_{code}"), total(grouped, f"both_{code}")
        table.rows.append([label, k, both, percent(both, k)])
    k, both = total(grouped, "low_income"), total(grouped, "both")
    table.rows.append(["合计（户）", k, both, percent(both, k)])
    return table


LOW_INCOME_PANELS: tuple[Any, ...] = (dashboard_low_income_table, dashboard_low_income_categories_table)
