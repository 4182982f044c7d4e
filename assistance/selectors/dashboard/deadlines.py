"""办理时限 on the dashboard: open leads per child region and how many have a step past
its time limit (``monitoring.selectors.deadlines``: the same rule as the queue's 「超期」 filter).
One query; the figures are of ``today`` (the dashboard's snapshot is per day)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import Substr

from assistance.models import EliminationProposal
from assistance.models.elimination import OPEN_PROPOSAL_STATES
from assistance.selectors.dashboard.common import Table, percent
from assistance.selectors.dashboard.reads import DashboardReads
from assistance.selectors.elimination_steps import proposals_overdue_condition
from monitoring.models import OPEN_LEAD_STATES, FollowUp, FollowUpState, Lead
from monitoring.selectors.deadlines import leads_overdue_condition
from monitoring.selectors.followups import overdue_condition as follow_up_overdue_condition


def dashboard_overdue_leads_table(reads: DashboardReads) -> Table:
    """分区划: open leads, of which overdue at some step (and the share)."""
    s = reads.scope
    calendar = reads.calendar
    late = leads_overdue_condition(today=s.today, calendar=calendar, limits=reads.step_limits)
    rows = (
        reads.scoped(Lead)
        .filter(state__in=OPEN_LEAD_STATES)
        .annotate(child=Substr("village_id", 1, s.n))
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


def dashboard_overdue_procedures_table(reads: DashboardReads) -> Table:
    """分区划: 风险消除 proposals in progress and the green channel's 补办 still open, each with how
    many are past a time limit (the rules of the proposal page and the follow-up list).  Two queries
    (and the calendar and the provinces' limits)."""
    s = reads.scope
    calendar = reads.calendar
    proposals = _by_child(
        reads.scoped(EliminationProposal).filter(state__in=OPEN_PROPOSAL_STATES),
        "target__household__village_id",
        s.n,
        late=proposals_overdue_condition(today=s.today, calendar=calendar, limits=reads.step_limits),
    )
    follow_ups = _by_child(
        reads.scoped(FollowUp).filter(state=FollowUpState.OPEN),
        "target__household__village_id",
        s.n,
        late=follow_up_overdue_condition(today=s.today, calendar=calendar, limits=reads.step_limits),
    )
    table = Table(
        "overdue_procedures",
        "风险消除与绿色通道补办超期",
        ["区划", "办理中的风险消除", "超期", "未办结的补办", "超期"],
        note="风险消除超期：评议公示、乡镇审核或县级审定中正在办理的环节超过本省办理时限；补办超期：县级直接确定后"
        "补办入户核实、民主评议和公示超过补办时限仍未办结。" + calendar.notice([s.today]),
    )
    sums = [0, 0, 0, 0]
    for code, label in reads.children:
        p = proposals.get(code[: s.n], {})
        f = follow_ups.get(code[: s.n], {})
        row = [p.get("open", 0), p.get("late", 0), f.get("open", 0), f.get("late", 0)]
        sums = [a + b for a, b in zip(sums, row, strict=True)]
        table.rows.append([label, *row])
        table.codes.append(code)
    table.rows.append(["合计", *sums])
    return table


def _by_child(qs: Any, path: str, n: int, *, late: Q) -> dict[str, dict[str, int]]:
    rows = (
        qs.annotate(child=Substr(path, 1, n))
        .values("child")
        .order_by()
        .annotate(open=Count("id"), late=Count("id", filter=late))
    )
    return {row["child"]: row for row in rows}


DEADLINE_PANELS: tuple[Any, ...] = (dashboard_overdue_leads_table, dashboard_overdue_procedures_table)
