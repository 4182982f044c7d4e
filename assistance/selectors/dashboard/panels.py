"""One selector per panel of the dashboard: the KPI cards and each table (which the page also
draws as a chart and the .xlsx writes as a sheet).  Each takes the dashboard's ``DashboardReads``
and runs only the queries no other panel needs (the trend's three, the 帮扶未落实 count)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count
from django.db.models.functions import ExtractMonth

from assistance.models import MeasureCategory
from assistance.selectors.dashboard.common import CAPACITIES, LEVEL_LABELS, SHANGHAI, Table, leads_of_year, percent
from assistance.selectors.dashboard.reads import DashboardReads, total
from assistance.selectors.plans import targets_unassisted_count
from fanpin.core.terms import term
from monitoring.models import Lead, LeadSource, LeadState, MonitoringTarget, RiskType, TargetCategory, TargetStatus


def dashboard_kpis(reads: DashboardReads) -> dict[str, Any]:
    """The cards at the top of the page (帮扶未落实: the plan pages' definition, one query)."""
    s = reads.scope
    households, targets, leads = reads.households, reads.targets, reads.leads
    identified, eliminated = total(targets, "identified"), total(targets, "eliminated")
    active, covered = total(reads.active, "active"), total(reads.measures, "any")
    return {
        "households": total(households, "households"),
        "exited": total(households, "exited"),
        "registered": total(reads.members, "registered"),
        "monitored": total(targets, "monitored"),
        "new": total(targets, "new"),
        "eliminated": eliminated,
        "eliminated_year": total(targets, "eliminated_year"),
        "elimination_rate": percent(eliminated, identified),
        "active": active,
        "covered": covered,
        "coverage_rate": percent(covered, active),
        "unassisted": targets_unassisted_count(user=s.user, today=s.today, region_code=s.code),
        "leads": total(leads, "leads"),
        "overdue": total(leads, "overdue"),
        "scale_flagged": sum(1 for row in reads.scale if row.above_cap or row.below_floor),
    }


def dashboard_regions_table(reads: DashboardReads) -> Table:
    """分省/市/县/乡镇/村概况: one row per child region, the drill-down links."""
    s = reads.scope
    table = Table(
        "regions",
        f"分{LEVEL_LABELS[s.child_level]}概况",
        [
            LEVEL_LABELS[s.child_level],
            "农户（户）",
            "脱贫户（户）",
            "建档立卡人口（人）",
            "监测中（户）",
            "风险消除（户）",
            "风险消除率（%）",
            "帮扶未落实（户）",
            f"{s.year}年线索（条）",
            "逾期线索（条）",
        ],
    )
    per_region = (reads.households, reads.members, reads.targets, reads.active, reads.leads)
    for code, label in reads.children:
        h, m, t, a, le = (d.get(code[: s.n], {}) for d in per_region)
        table.rows.append(
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
        table.codes.append(code)
    return table


def dashboard_categories_table(reads: DashboardReads) -> Table:
    target = term("target")  # the glossary's word (fanpin.core.terms)
    table = Table("categories", f"{target}类别", [f"{target}类别", "监测中（户）", "风险消除（户）", "合计（户）"])
    for cat, label in TargetCategory.choices:
        monitored, eliminated = total(reads.targets, f"cat_m_{cat}"), total(reads.targets, f"cat_e_{cat}")
        table.rows.append([label, monitored, eliminated, monitored + eliminated])
    return table


def dashboard_risks_table(reads: DashboardReads) -> Table:
    table = Table("risks", "风险类型（监测中）", ["风险类型", "监测中（户）"], note="一户可有多个风险类型")
    table.rows = [[label, total(reads.targets, f"risk_{risk}")] for risk, label in RiskType.choices]
    return table


def dashboard_lead_sources_table(reads: DashboardReads) -> Table:
    year = reads.scope.year
    table = Table("lead_sources", f"{year}年线索来源", ["线索来源", "线索（条）"], note="一条线索可有多个来源")
    table.rows = [[label, total(reads.leads, f"source_{s}")] for s, label in LeadSource.choices]
    return table


def dashboard_lead_states_table(reads: DashboardReads) -> Table:
    table = Table("lead_states", f"{reads.scope.year}年线索状态", ["状态", "线索（条）"])
    table.rows = [[label, total(reads.leads, f"state_{s}")] for s, label in LeadState.choices]
    return table


def dashboard_scale_table(reads: DashboardReads) -> Table:
    """监测规模 per county: 监测比例 against the province's floor and cap (for reference only)."""
    target = term("target")  # the glossary's word (fanpin.core.terms)
    table = Table(
        "scale",
        "监测规模（当前，按县）",
        [
            "县",
            "深度贫困地区",
            f"{target}（户）",
            f"{target}人数（人）",
            "建档立卡人口（人）",
            "监测比例（%）",
            "上限（%）",
            "下限（%）",
            "结果",
        ],
        note=f"监测比例 = {target}人数 ÷ 建档立卡人口（监测中对象户的家庭成员人数 ÷ 脱贫户家庭成员人数，均按人计）；"
        "仅供参考（应纳尽纳），不限制确定。",
    )
    for row in reads.scale:
        verdict = (
            "超过上限" if row.above_cap else "低于下限" if row.below_floor else "—" if row.ratio is None else "正常"
        )
        table.rows.append(
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
        table.codes.append(row.county_code)
    return table


def dashboard_coverage_table(reads: DashboardReads) -> Table:
    """帮扶覆盖: active targets with a measure (not 已终止) of each category."""
    target = term("target")  # the glossary's word (fanpin.core.terms)
    active = total(reads.active, "active")
    covered = total(reads.measures, "any")
    table = Table(
        "coverage",
        "帮扶覆盖（当前监测中）",
        ["帮扶类别", "有该类措施（户）", f"占{target}（%）"],
        note="措施不含已终止；一户可有多类措施。",
    )
    table.rows.append(["任一措施", covered, percent(covered, active)])
    for cat, label in MeasureCategory.choices:
        k = total(reads.measures, f"mc_{cat}")
        table.rows.append([label, k, percent(k, active)])
    return table


def dashboard_labor_table(reads: DashboardReads) -> Table:
    """开发式 and 保障性 measures by the household's labor capacity."""
    target = term("target")  # the glossary's word (fanpin.core.terms)
    table = Table(
        "labor",
        "开发式与保障性措施 × 劳动能力（当前监测中）",
        ["劳动能力", f"{target}（户）", "有开发式措施（户）", "有保障性措施（户）", "开发式占比（%）"],
    )
    for cap, label in CAPACITIES:
        k, d = total(reads.active, f"active_{cap}"), total(reads.measures, f"dev_{cap}")
        table.rows.append([label, k, d, total(reads.measures, f"prot_{cap}"), percent(d, k)])
    return table


def dashboard_trend_table(reads: DashboardReads) -> Table:
    """Month by month within the year: new targets, eliminations, new leads (three queries)."""
    target = term("target")  # the glossary's word (fanpin.core.terms)
    year = reads.scope.year
    targets = reads.scoped(MonitoringTarget)
    new = _monthly(targets.filter(identified_on__year=year), "identified_on")
    eliminated = _monthly(targets.filter(status=TargetStatus.ELIMINATED, eliminated_on__year=year), "eliminated_on")
    leads = _monthly(reads.scoped(Lead).filter(leads_of_year(year)), "raised_at")
    table = Table("trend", f"{year}年月度趋势", ["月份", f"新增{target}（户）", "风险消除（户）", "新增线索（条）"])
    table.rows = [
        [f"{month}月", new.get(month, 0), eliminated.get(month, 0), leads.get(month, 0)] for month in range(1, 13)
    ]
    return table


def _monthly(qs: Any, date_field: str) -> dict[int, int]:
    month = ExtractMonth(date_field, tzinfo=SHANGHAI) if date_field == "raised_at" else ExtractMonth(date_field)
    rows = qs.annotate(month=month).values("month").order_by().annotate(n=Count("pk"))
    return {row["month"]: row["n"] for row in rows}


# The tables in the order the page, the charts and the .xlsx show them.
TABLE_PANELS = (
    dashboard_regions_table,
    dashboard_categories_table,
    dashboard_risks_table,
    dashboard_lead_sources_table,
    dashboard_lead_states_table,
    dashboard_scale_table,
    dashboard_coverage_table,
    dashboard_labor_table,
    dashboard_trend_table,
)
