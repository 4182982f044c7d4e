"""The home page's 待办: each role's own to-do counts, each linking to the list it counts.

Every count is read from the selector its list page uses (the lead queue's filters, ``visits_due``,
``targets_unassisted``, the proposals, applications and alerts of the user's scope), so a figure and
the list it links to cannot disagree.  A fixed number of queries per role, whatever the data's size.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from assistance.models import EliminationProposal
from assistance.selectors.elimination import elimination_candidates
from assistance.selectors.elimination_steps import VILLAGE_STEPS, Step, elimination_step_condition
from assistance.selectors.plans import targets_unassisted_count
from fanpin.core.roles import effective_role
from monitoring.models import AlertStatus, ApplicationStatus, Lead, LeadState
from monitoring.selectors.alerts import alerts_visible
from monitoring.selectors.cadre import applications_in_scope, visits_due
from monitoring.selectors.followups import follow_ups_overdue_count, follow_ups_review_count
from monitoring.selectors.household_changes import household_changes_pending_count
from monitoring.selectors.leads import QueueFilters, queue_condition
from monitoring.selectors.rosters import rosters_may_view, rosters_visible


@dataclass(frozen=True)
class TodoItem:
    key: str  # data-testid="todo-<key>"
    label: str
    count: int
    url: str


def _url(name: str, anchor: str = "", **params: str) -> str:
    return reverse(name) + (f"?{urlencode(params)}" if params else "") + (f"#{anchor}" if anchor else "")


# The lead queue's filters behind each lead count, and the query string of its link.
LEAD_COUNTS: dict[str, dict[str, str]] = {
    "to_verify": {"state": LeadState.NEW},
    "to_review": {"state": LeadState.VERIFIED, "publicity": "ENDED"},
    "to_confirm": {"state": LeadState.REVIEWED},
    "overdue": {"state": "ALL", "overdue": "1"},
}


def _lead_counts(*, user: Any, keys: list[str]) -> dict[str, int]:
    """The lead queue's totals for each of ``keys`` (LEAD_COUNTS), in one query."""
    conditions = {}
    for key in keys:
        params = LEAD_COUNTS[key]
        filters = QueueFilters(
            state=params["state"], publicity=params.get("publicity", ""), overdue=params.get("overdue") == "1"
        )
        conditions[key] = Count("id", filter=queue_condition(user=user, filters=filters))
    return Lead.objects.for_user(user).aggregate(**conditions)


def _lead_item(key: str, label: str, counts: dict[str, int]) -> TodoItem:
    return TodoItem(key, label, counts[key], _url("monitoring:lead_queue", **LEAD_COUNTS[key]))


def _proposals_at(*, user: Any, steps: tuple[str, ...], today: dt.date) -> int:
    """Proposals the user sees at one of ``steps`` (the township's: only once the 公示 has ended)."""
    return (
        EliminationProposal.objects.for_user(user).filter(elimination_step_condition(steps=steps, today=today)).count()
    )


def home_todo(*, user: Any, today: dt.date | None = None) -> list[TodoItem]:
    """The to-do counts of the user's role (empty for a role with none)."""
    today = today or timezone.localdate()
    role = effective_role(user)
    items: list[TodoItem] = []
    if role == "VILLAGE":
        leads = _lead_counts(user=user, keys=["to_verify"])
        proposable = [
            a for a in elimination_candidates(user=user, today=today) if a.eligible and a.open_proposal is None
        ]
        items += [
            _lead_item("to_verify", "待核实线索", leads),
            TodoItem(
                "visits_due",
                "待走访",
                visits_due(user=user, today=today).count(),
                _url("monitoring:cadre_home", "due-title"),
            ),
            TodoItem(
                "proposable", "可提出风险消除", len(proposable), _url("assistance:elimination_list", proposable="1")
            ),
            TodoItem(
                "proposals_village",
                "风险消除待评议、公示",
                _proposals_at(user=user, steps=VILLAGE_STEPS, today=today),
                _url("assistance:elimination_list", step="VILLAGE"),
            ),
        ]
    elif role == "TOWNSHIP":
        leads = _lead_counts(user=user, keys=["to_review"])
        items += [
            _lead_item("to_review", "待审核线索（公示已结束）", leads),
            TodoItem(
                "proposals",
                "待审核风险消除（公示已结束）",
                _proposals_at(user=user, steps=(Step.TOWNSHIP,), today=today),
                _url("assistance:elimination_list", step=Step.TOWNSHIP),
            ),
        ]
    elif role in ("COUNTY", "ADMIN"):
        leads = _lead_counts(user=user, keys=["to_confirm", "overdue"])
        items += [
            _lead_item("to_confirm", "待确定线索", leads),
            _lead_item("overdue", "逾期线索", leads),
            TodoItem(
                "followups_overdue",
                "超期的绿色通道补办",
                follow_ups_overdue_count(user=user, today=today),
                _url("monitoring:followups", state="OVERDUE"),
            ),
            TodoItem(
                "followups_review",
                "补办评议未通过待复核",
                follow_ups_review_count(user=user),
                _url("monitoring:followups", state="REVIEW"),
            ),
            TodoItem(
                "unassisted",
                "帮扶未落实",
                targets_unassisted_count(user=user, today=today),
                _url("assistance:unassisted"),
            ),
            TodoItem(
                "proposals",
                "待审定风险消除",
                _proposals_at(user=user, steps=(Step.COUNTY,), today=today),
                _url("assistance:elimination_list", step=Step.COUNTY),
            ),
            TodoItem(
                "applications",
                "未匹配的农户申报",
                applications_in_scope(user=user, status=ApplicationStatus.PENDING_MATCH).count(),
                _url("monitoring:application_list", status=ApplicationStatus.PENDING_MATCH),
            ),
            TodoItem(
                "alerts",
                "未匹配的部门预警",
                alerts_visible(user=user).filter(status=AlertStatus.UNMATCHED).count(),
                _url("monitoring:alert_list", status=AlertStatus.UNMATCHED),
            ),
            TodoItem(
                "rosters",
                "未匹配的民政名单",
                rosters_visible(user=user).filter(status=AlertStatus.UNMATCHED).count(),
                _url("monitoring:roster_list", status=AlertStatus.UNMATCHED),
            ),
            TodoItem(
                "household_changes",
                "待审核的农户变更",
                household_changes_pending_count(user=user),
                _url("monitoring:household_changes", state="PENDING"),
            ),
        ]
    elif role == "DEPT":
        alerts = alerts_visible(user=user).aggregate(
            total=Count("id"), unmatched=Count("id", filter=Q(status=AlertStatus.UNMATCHED))
        )
        items += [
            TodoItem("alerts_submitted", "本单位已报送的预警", alerts["total"], _url("monitoring:alert_list")),
            TodoItem(
                "alerts",
                "其中未匹配",
                alerts["unmatched"],
                _url("monitoring:alert_list", status=AlertStatus.UNMATCHED),
            ),
        ]
        if rosters_may_view(user=user):  # 民政: its roster lines, as the roster page lists them
            lines = rosters_visible(user=user).aggregate(
                total=Count("id"), unmatched=Count("id", filter=Q(status=AlertStatus.UNMATCHED))
            )
            items += [
                TodoItem("rosters_submitted", "本单位已报送的救助名单", lines["total"], _url("monitoring:roster_list")),
                TodoItem(
                    "rosters_unmatched",
                    "其中未匹配",
                    lines["unmatched"],
                    _url("monitoring:roster_list", status=AlertStatus.UNMATCHED),
                ),
            ]
    elif role in ("PROVINCE", "CITY"):
        leads = _lead_counts(user=user, keys=["overdue"])
        items += [
            _lead_item("overdue", "逾期线索", leads),
            TodoItem(
                "unassisted",
                "帮扶未落实",
                targets_unassisted_count(user=user, today=today),
                _url("assistance:unassisted"),
            ),
        ]
    return items
