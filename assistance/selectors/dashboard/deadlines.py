"""办理时限 on the dashboard (issue 18): open leads per child region and how many have a step past
its time limit (``monitoring.selectors.deadlines``: the same rule as the queue's 「超期」 filter).
One query; the figures are of ``today`` (the dashboard's snapshot is per day)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import Substr

from assistance.selectors.dashboard.common import Table, percent
from assistance.selectors.dashboard.reads import DashboardReads
from monitoring.models import OPEN_LEAD_STATES, Lead
from monitoring.selectors.calendar import WorkingCalendar
from monitoring.selectors.deadlines import leads_overdue_condition


def dashboard_overdue_leads_table(reads: DashboardReads) -> Table:
    """分区划: open leads, of which overdue at some step (and the share)."""
    s = reads.scope
    calendar = WorkingCalendar.load(around=s.today)
    late = leads_overdue_condition(today=s.today, calendar=calendar)
    rows = (
        reads.scoped(Lead)
        .filter(state__in=OPEN_LEAD_STATES)
        .annotate(child=Substr("household__village_id", 1, s.n))
        .values("child")
        .order_by()
        .annotate(open=Count("id"), late=Count("id", filter=Q(late)))
    )
    grouped = {row["child"]: row for row in rows}
    notice = calendar.notice([s.today])
    table = Table(
        "overdue_leads",
        "线索办理超期",
        ["区划", "办理中的线索", "超期线索", "超期占比（%）"],
        note="超期：受理、入户核实、信息比对、民主评议和公示、乡镇审核、县级审定或识别全流程中任一环节超过本省办理时限仍未办结。"
        + notice,
    )
    for code, label in reads.children:
        g = grouped.get(code[: s.n], {})
        table.rows.append([label, g.get("open", 0), g.get("late", 0), percent(g.get("late", 0), g.get("open", 0))])
        table.codes.append(code)
    opened = sum(v["open"] for v in grouped.values())
    lates = sum(v["late"] for v in grouped.values())
    table.rows.append(["合计", opened, lates, percent(lates, opened)])
    return table


DEADLINE_PANELS: tuple[Any, ...] = (dashboard_overdue_leads_table,)
