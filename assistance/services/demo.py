"""Demo: walk some screening leads through the real workflow so every page has something to show.

Only for ``make demo`` (after ``generate_demo`` and ``screen``).  Every step goes through the same
services the pages call, as the demo users (village → township → county), so roles, scoping and
audit rows are the real ones.  Idempotent: it acts only on leads still 待核实, so running it again
moves a few more leads on instead of failing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from assistance.models import AmountKind, Measure, MeasureStatus
from assistance.services.measures import measure_add, measure_status_set
from fanpin.models import User
from monitoring.models import AppraisalOutcome, Household, Lead, LeadState, MonitoringTarget
from monitoring.services.demo import demo_exists
from monitoring.services.review import (
    Decision,
    Verification,
    lead_confirm,
    lead_confirm_direct,
    lead_reject,
    lead_review,
    lead_verify,
)
from monitoring.services.visits import VisitInput, visit_record


@dataclass
class DemoWorkflowSummary:
    verified: int = 0
    reviewed: int = 0
    confirmed: int = 0
    rejected: int = 0
    measures: int = 0
    visits: int = 0
    skipped: list[str] = field(default_factory=list)


def _decision(lead: Lead, today: dt.date) -> Decision:
    return Decision(
        category=lead.suggested_category or "EDGE_AT_RISK",
        risk_types=list(lead.suggested_risk_types or []) or ["LACK_OF_LABOR"],
        identified_on=today,
    )


@transaction.atomic
def demo_workflow_play(*, direct: int = 20, rejected: int = 5) -> DemoWorkflowSummary:
    """Move demo leads on: in the demo village every lead goes 村级核实 → 乡镇审核 → 县级确定; in the
    rest of the demo county ``direct`` leads are 县级直接确定 and ``rejected`` are 不予纳入; each new
    target gets two catalogue measures (one 实施中), and the village cadre records visits."""
    summary = DemoWorkflowSummary()
    if not demo_exists():  # never on real data: it would confirm and reject real leads
        summary.skipped.append("没有演示数据（演示市 5399），未做任何操作。本命令只用于 make demo。")
        return summary
    users = {u.username: u for u in User.objects.filter(username__in=("village", "township", "county"))}
    if len(users) < 3:
        summary.skipped.append("没有演示用户（请先运行 generate_demo）")
        return summary
    village, township, county = users["village"], users["township"], users["county"]
    today = timezone.localdate()
    new_leads = Lead.objects.filter(state=LeadState.NEW).select_related("household").order_by("id")

    for lead in new_leads.for_user(village)[:5]:
        # The demo plays two weeks of village work at once: its leads were raised before the home
        # check (dates of a verification may not precede the lead's raising, issue 15).
        Lead.objects.filter(pk=lead.pk).update(raised_at=timezone.now() - dt.timedelta(days=14))
        lead_verify(
            lead_id=lead.pk,
            actor=village,
            opinion="演示：已入户核实，情况属实",
            verification=Verification(
                home_checked_on=today - dt.timedelta(days=12),
                consent_signed=True,
                appraisal_on=today - dt.timedelta(days=10),
                appraisal_outcome=AppraisalOutcome.AGREED,
                publicity_start=today - dt.timedelta(days=9),
                publicity_end=today - dt.timedelta(days=5),
            ),
        )
        summary.verified += 1
        lead_review(lead_id=lead.pk, actor=township, opinion="演示：乡镇审核同意")
        summary.reviewed += 1
        lead_confirm(lead_id=lead.pk, actor=county, decision=_decision(lead, today))
        summary.confirmed += 1

    in_county = new_leads.for_user(county)
    for lead in in_county.exclude(household__village_id=village.region_id)[:direct]:
        lead_confirm_direct(
            lead_id=lead.pk, actor=county, decision=_decision(lead, today), reason="演示：情况紧急，先帮扶后补程序"
        )
        summary.confirmed += 1
    for lead in in_county.exclude(household__village_id=village.region_id)[:rejected]:
        lead_reject(lead_id=lead.pk, actor=county, reason="演示：经核实家庭收入已恢复，不予纳入")
        summary.rejected += 1

    measures = list(Measure.objects.filter(is_active=True).order_by("sort_order", "code")[:6])
    targets = MonitoringTarget.objects.for_user(county).filter(measures__isnull=True)
    for i, target in enumerate(targets.order_by("id")):
        for j, measure in enumerate(
            (measures[i % len(measures)], measures[(i + 3) % len(measures)]) if measures else ()
        ):
            item = measure_add(
                actor=county,
                target_id=target.pk,
                measure_id=measure.pk,
                responsible_name="帮扶责任人" + "甲乙丙丁戊"[i % 5],
                responsible_unit="县乡村振兴局",
                responsible_phone="0851-8888" + f"{i:04d}"[-4:],
                start_on=today - dt.timedelta(days=20),
                amount=Decimal("3000.00") if j == 0 else None,
                amount_kind=AmountKind.SUBSIDY if j == 0 else "",
            )
            summary.measures += 1
            if j == 0:
                measure_status_set(actor=county, pk=item.pk, status=MeasureStatus.IN_PROGRESS, note="演示：已落实")

    for household in Household.objects.for_user(village).order_by("id")[:5]:
        visit_record(
            actor=village,
            data=VisitInput(
                household_id=household.pk, visited_on=today - dt.timedelta(days=3), visitors="村干部", notes="演示走访"
            ),
        )
        summary.visits += 1
    return summary
