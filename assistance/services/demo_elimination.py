"""Demo: 风险消除 proposals of the demo village at every step, so that every elimination
page has something to show and the 公告 lists eliminations.

Called once at the end of the demo workflow (``assistance.services.demo``), after the visits.  The
targets of the demo village monitored for six months and more are proposed, each with an 入户核实
and its 12-month 收支核算 (income recovered: twice the line per person), through the same services
as the pages, with past dates where a step must lie in the past: one ``confirmed`` (公告), one
``reviewed`` (waiting for the county), one in 公示 and one with the 入户核实 only (waiting for the
民主评议).  Targets that do not meet every criterion are skipped.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from assistance.selectors.elimination import MIN_MONITORED_MONTHS, add_months
from assistance.services.elimination import (
    HomeCheck,
    elimination_act,
    elimination_appraisal_record,
    elimination_propose,
    elimination_publicity_record,
)
from monitoring.models import AnnualIncome, MonitoringTarget, TargetStatus
from monitoring.models.visits import CHECKLIST_FIELDS
from monitoring.selectors.lines import monitoring_line_for

STEPS = ("confirmed", "reviewed", "publicity", "home_check")


def _home_check(target: MonitoringTarget, day: dt.date) -> HomeCheck:
    size = (
        AnnualIncome.objects.filter(household_id=target.household_id)
        .order_by("-year")
        .values_list("family_size", flat=True)
        .first()
        or 3
    )
    line = monitoring_line_for(year=day.year, province_code=target.household.village_id[:2] + "0" * 10)
    line = line or monitoring_line_for(year=day.year - 1, province_code=target.household.village_id[:2] + "0" * 10)
    per_person = (line or Decimal("10000")) * 2
    return HomeCheck(
        checked_on=day,
        visitors="村干部、驻村工作队",
        checklist={name: True for name, _label in CHECKLIST_FIELDS},
        family_size=size,
        wage_income=(per_person * size).quantize(Decimal("0.01")),
        business_income=Decimal("0.00"),
        property_income=Decimal("0.00"),
        transfer_income=Decimal("0.00"),
    )


def demo_eliminations_play(*, village: Any, township: Any, county: Any, today: dt.date | None = None) -> list[str]:
    """Leave the demo village's eliminations at each step; the steps reached (``STEPS`` order)."""
    today = today or timezone.localdate()
    cutoff = add_months(today, -MIN_MONITORED_MONTHS) - dt.timedelta(days=10)
    targets = (
        MonitoringTarget.objects.for_user(village)
        .filter(status=TargetStatus.ACTIVE, identified_on__lte=cutoff)
        .select_related("household")
        .order_by("identified_on", "id")
    )
    reached: list[str] = []
    for target in targets:
        if len(reached) == len(STEPS):
            break
        step = STEPS[len(reached)]
        past = step in ("confirmed", "reviewed")
        checked_on = today - dt.timedelta(days=8) if past else today - dt.timedelta(days=1)
        try:
            proposal = elimination_propose(
                actor=village,
                target_id=target.pk,
                method="ASSISTED",
                opinion="演示：务工收入稳定，帮扶措施见效",
                home_check=_home_check(target, checked_on),
                today=today,
            )
        except ValidationError:
            continue  # not every criterion met: not proposed
        if step != "home_check":
            start = today - dt.timedelta(days=7) if past else today - dt.timedelta(days=1)
            elimination_appraisal_record(
                actor=village, pk=proposal.pk, appraisal_on=start, outcome="AGREED", today=today
            )
            elimination_publicity_record(
                actor=village, pk=proposal.pk, start=start, end=start + dt.timedelta(days=4), today=today
            )
        if past:
            elimination_act(
                actor=township, pk=proposal.pk, name="review", opinion="演示：公示无异议，审核同意", today=today
            )
        if step == "confirmed":
            elimination_act(actor=county, pk=proposal.pk, name="confirm", opinion="演示：审定风险消除", today=today)
        reached.append(step)
    return reached
