"""Demo: walk some screening leads through the real workflow so every page has something to show.

Only for ``make demo`` (after ``generate_demo`` and ``screen``).  Every step goes through the same
services the pages call, as the demo users (village → township → county), so roles, scoping and
audit rows are the real ones.

Screening raises every lead today, so nothing could have been monitored for the six months that
风险消除 needs.  The demo therefore gives some leads a past: before they are decided, their 发现时间
(``raised_at``) is moved back 7–12 months (demo data only, ``demo_exists``), and they are then
identified, planned and visited with dates after it.  Some of them meet every elimination criterion,
so 风险消除 can be proposed (as ``village``), reviewed and confirmed in the demo.  Audit rows keep
the time they were written.

Runs once: a demo whose leads were already moved on is left as it is (``make demo`` again just
starts the server on the data it has).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from assistance.models import AmountKind, Measure, MeasureStatus
from assistance.services.announcements import announcements_demo_prepare
from assistance.services.demo_elimination import demo_eliminations_play
from assistance.services.measures import measure_add, measure_status_set
from fanpin.core.models import User
from fanpin.core.regions import province_code_of
from monitoring.models import (
    AnnualIncome,
    AppraisalOutcome,
    ExpenditureCategory,
    Household,
    Lead,
    LeadState,
    MonitoringTarget,
)
from monitoring.selectors.accounting import accounting_form_initial
from monitoring.selectors.lines import monitoring_lines_for_province
from monitoring.services.accounting import AccountingInput, income_accounting_record
from monitoring.services.demo import demo_exists
from monitoring.services.demo_campaigns import demo_campaign_start
from monitoring.services.demo_comparisons import demo_comparisons_record
from monitoring.services.demo_followups import (
    demo_follow_ups_age,
    demo_follow_ups_complete,
    demo_follow_ups_disagree,
)
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

HISTORY_IN_VILLAGE = 4  # leads of the demo village identified 7–12 months ago (the village can propose 风险消除)
HISTORY_IN_COUNTY = 8  # and elsewhere in the demo county
WAITING = 2  # demo village leads left waiting for the township's 审核, and as many for the county's 确定
VILLAGE_DIRECT = 1  # demo village leads the county confirmed directly a month ago (their 补办 overdue)


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


def _income_at_line(leads: list[Lead]) -> dict[int, bool]:
    """Lead id → whether its household's latest per-capita income is at or above that year's line."""
    household_ids = [lead.household_id for lead in leads]
    latest: dict[int, AnnualIncome] = {}
    for row in AnnualIncome.objects.filter(household_id__in=household_ids).order_by("household_id", "year"):
        latest[row.household_id] = row
    out: dict[int, bool] = {}
    for lead in leads:
        income = latest.get(lead.household_id)
        if income is None:
            out[lead.pk] = False
            continue
        lines = monitoring_lines_for_province(
            province_code=province_code_of(lead.household.village_id), years=[income.year]
        )
        line = lines.get(income.year)
        out[lead.pk] = line is not None and not income.per_capita_below(line)
    return out


def _history_picks(leads: Any, count: int) -> list[Lead]:
    """``count`` of ``leads``, those whose income is back at the line first (they can be eliminated)."""
    pool = list(leads[:200])
    at_line = _income_at_line(pool)
    return sorted(pool, key=lambda lead: (not at_line[lead.pk], lead.pk))[:count]


def _give_a_past(lead: Lead, *, months: int, today: dt.date) -> dt.date:
    """Move a demo lead's 发现时间 back ``months`` months (demo data only); returns the new date."""
    raised = today - dt.timedelta(days=30 * months + 5)
    when = timezone.make_aware(dt.datetime.combine(raised, dt.time(9, 0)))
    Lead.objects.filter(pk=lead.pk).update(raised_at=when)
    return raised


def _verification(start: dt.date) -> Verification:
    """入户核实, 民主评议 and a 5-day 公示 from ``start`` on."""
    return Verification(
        home_checked_on=start + dt.timedelta(days=1),
        consent_signed=True,
        appraisal_on=start + dt.timedelta(days=3),
        appraisal_outcome=AppraisalOutcome.AGREED,
        publicity_start=start + dt.timedelta(days=4),
        publicity_end=start + dt.timedelta(days=8),
    )


@transaction.atomic
def _accounting_record(lead: Lead, village: User) -> None:
    """At 入户核实 the village records the 12-month 家庭收支核算: the household's latest
    annual income figures and the window's ledger, as a cadre would start from them."""
    lead = Lead.objects.select_related("household").get(pk=lead.pk)  # its 发现时间 may have been moved back
    latest = lead.household.incomes.order_by("-year").first()
    if latest is None:
        return
    ledger = accounting_form_initial(lead=lead)
    income_accounting_record(
        lead_id=lead.pk,
        actor=village,
        data=AccountingInput(
            family_size=latest.family_size,
            wage_income=latest.wage_income,
            business_income=latest.business_income,
            property_income=latest.property_income,
            transfer_income=latest.transfer_income,
            out_of_pocket={code: ledger.get(f"oop_{code}", Decimal("0")) for code in ExpenditureCategory.values},
        ),
    )


def demo_deaths_accept(*, county: Any) -> int:
    """The county accepts the deaths the demo generator proposed (through the real service): an
    adult and a 户主 become departed members of their households (户主 then none until an import
    names one)."""
    from monitoring.models import ChangeKind, HouseholdChange
    from monitoring.services.household_changes import household_change_accept

    changes = list(
        HouseholdChange.objects.pending().filter(kind=ChangeKind.REMOVAL).order_by("id").values_list("pk", flat=True)
    )
    for pk in changes:
        household_change_accept(actor=county, change_id=pk)
    return len(changes)


def demo_workflow_play(*, direct: int = 20, rejected: int = 5) -> DemoWorkflowSummary:
    """Move demo leads on: in the demo village ``HISTORY_IN_VILLAGE`` leads raised 7–12 months ago and
    5 raised three weeks ago (but ``VILLAGE_DIRECT`` of them, 县级直接确定 a month ago) go 村级核实 →
    乡镇审核 → 县级确定 (and ``WAITING`` more wait for the township's 审核, as many for the county's
    确定); in the rest of the demo county
    ``HISTORY_IN_COUNTY`` leads of 7–12 months ago and ``direct`` of today are 县级直接确定 and
    ``rejected`` are 不予纳入; each new target gets two catalogue measures (one 实施中), and the
    targets with a past and five more households of the village are visited."""
    summary = DemoWorkflowSummary()
    if not demo_exists():  # never on real data: it would confirm and reject real leads
        summary.skipped.append("没有演示数据（演示市 5399），未做任何操作。本命令只用于 make demo。")
        return summary
    users = {u.username: u for u in User.objects.filter(username__in=("village", "township", "county"))}
    if len(users) < 3:
        summary.skipped.append("没有演示用户（请先运行 generate_demo）")
        return summary
    if Lead.objects.exclude(state=LeadState.NEW).exists():
        summary.skipped.append("演示流程已运行过：数据保持不变。")
        return summary
    village, township, county = users["village"], users["township"], users["county"]
    today = timezone.localdate()
    new_leads = Lead.objects.filter(state=LeadState.NEW).select_related("household").order_by("id")
    identified: dict[int, dt.date] = {}  # target household → identified on (targets with a past)

    def full_path(lead: Lead, raised: dt.date) -> None:
        _accounting_record(lead, village)
        lead_verify(
            lead_id=lead.pk, actor=village, opinion="演示：已入户核实，情况属实", verification=_verification(raised)
        )
        lead_review(lead_id=lead.pk, actor=township, opinion="演示：乡镇审核同意")
        on = min(raised + dt.timedelta(days=14), today)
        lead_confirm(lead_id=lead.pk, actor=county, decision=_decision(lead, on))
        summary.verified += 1
        summary.reviewed += 1
        summary.confirmed += 1

    in_village = new_leads.for_user(village)
    for n, lead in enumerate(_history_picks(in_village, HISTORY_IN_VILLAGE)):
        raised = _give_a_past(lead, months=7 + n % 6, today=today)
        full_path(lead, raised)
        identified[lead.household_id] = raised + dt.timedelta(days=14)
    for lead in in_village.filter(state=LeadState.NEW)[: 5 - VILLAGE_DIRECT]:
        full_path(lead, _give_a_past(lead, months=0, today=today - dt.timedelta(days=15)))
    # 绿色通道 in the village's own list: confirmed directly a month ago, its 补办 owed and overdue
    for lead in in_village.filter(state=LeadState.NEW)[:VILLAGE_DIRECT]:
        raised = _give_a_past(lead, months=1, today=today)
        lead_confirm_direct(
            lead_id=lead.pk,
            actor=county,
            decision=_decision(lead, raised + dt.timedelta(days=3)),
            reason="演示：突发重大疾病，先帮扶后补程序",
        )
        summary.confirmed += 1

    # Work waiting on the township and the county: verified after a 公示 that has ended, and reviewed.
    for n, lead in enumerate(in_village.filter(state=LeadState.NEW)[: WAITING * 2]):
        raised = _give_a_past(lead, months=0, today=today - dt.timedelta(days=5))  # raised 10 days ago
        _accounting_record(lead, village)
        lead_verify(lead_id=lead.pk, actor=village, opinion="演示：已入户核实", verification=_verification(raised))
        summary.verified += 1
        if n >= WAITING:
            lead_review(lead_id=lead.pk, actor=township, opinion="演示：乡镇审核同意")
            summary.reviewed += 1

    others = new_leads.for_user(county).exclude(household__village_id=village.region_id)
    for n, lead in enumerate(_history_picks(others, HISTORY_IN_COUNTY)):
        raised = _give_a_past(lead, months=7 + n % 6, today=today)
        on = raised + dt.timedelta(days=3)
        lead_confirm_direct(
            lead_id=lead.pk, actor=county, decision=_decision(lead, on), reason="演示：情况紧急，先帮扶后补程序"
        )
        identified[lead.household_id] = on
        summary.confirmed += 1
    for lead in others.filter(state=LeadState.NEW)[:direct]:
        lead_confirm_direct(
            lead_id=lead.pk, actor=county, decision=_decision(lead, today), reason="演示：情况紧急，先帮扶后补程序"
        )
        summary.confirmed += 1
    for lead in others.filter(state=LeadState.NEW)[:rejected]:
        lead_reject(lead_id=lead.pk, actor=county, reason="演示：经核实家庭收入已恢复，不予纳入")
        summary.rejected += 1

    measures = list(Measure.objects.filter(is_active=True).order_by("sort_order", "code")[:6])
    targets = MonitoringTarget.objects.for_user(county).filter(measures__isnull=True)
    for i, target in enumerate(targets.order_by("id")):
        since = identified.get(target.household_id)
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
                start_on=since + dt.timedelta(days=10) if since else today - dt.timedelta(days=20),
                amount=Decimal("3000.00") if j == 0 else None,
                amount_kind=AmountKind.SUBSIDY if j == 0 else "",
            )
            summary.measures += 1
            if j == 0:
                measure_status_set(actor=county, pk=item.pk, status=MeasureStatus.IN_PROGRESS, note="演示：已落实")

    demo_comparisons_record(village=village, county=county, today=today)  # 信息比对
    demo_follow_ups_age(today=today)  # 绿色通道补办: the past direct confirmations overdue
    demo_follow_ups_complete(today=today)  # … half of them since completed by their village
    demo_follow_ups_disagree(county=county, village=village, today=today)  # … two 不同意, one answered by the county
    announcements_demo_prepare()  # 公告: the demo province also announces its 不予纳入
    demo_campaign_start(village=village, county=county, today=today)  # 回头看, partly visited
    demo_deaths_accept(county=county)  # the generator's two proposed deaths: departed members
    # Visits: each target with a past (within the last 90 days, every item secured), then five more
    # households of the demo village.
    visited = list(identified)
    visited += [
        pk
        for pk in Household.objects.for_user(village).order_by("id").values_list("pk", flat=True)[:10]
        if pk not in identified
    ][:5]
    for n, household_id in enumerate(visited):
        actor = village if Household.objects.for_user(village).filter(pk=household_id).exists() else county
        visit_record(
            actor=actor,
            data=VisitInput(
                household_id=household_id,
                visited_on=today - dt.timedelta(days=3 + 7 * (n % 5)),
                visitors="村干部" if actor == village else "驻村工作队",
                notes="演示走访",
            ),
        )
        summary.visits += 1
    demo_eliminations_play(village=village, township=township, county=county, today=today)  # 风险消除 steps
    return summary
