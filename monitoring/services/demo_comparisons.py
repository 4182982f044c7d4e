"""信息比对 in the demo: the demo village's leads waiting for the township and the county
get comparison results — one 有异常 still awaiting the county's judgement (the township's 审核 is
held back), one judged, one complete without anomaly, one half done — and two new leads their
承诺授权 recorded before 入户核实 (one with its first results).  Called once from the demo workflow
(``assistance.services.demo.demo_workflow_play``), through the services, so it is audited as a
county's work is."""

from __future__ import annotations

import datetime as dt
from typing import Any

from monitoring.models import ComparisonResult, Lead, LeadState
from monitoring.selectors.comparisons import sources_active
from monitoring.services.comparisons import ComparisonInput, data_comparison_record, lead_consent_record

NOTES = {
    "PUBLIC_SECURITY_VEHICLE": "户主名下登记小型普通客车 1 辆（2016 年登记，二手，价值较低）。",
    "REAL_ESTATE": "户主配偶名下登记县城商品房 1 套（120 平方米，2019 年登记）。",
}
JUDGEMENT = "经入户核实，车辆为 2016 年购入的二手农用面包车，用于生产经营，价值不足 2 万元，不影响纳入。"


def _record(
    lead: Lead, county: Any, today: dt.date, code: str, result: str = ComparisonResult.NO_ISSUE, judged: bool = False
) -> None:
    data_comparison_record(
        lead_id=lead.pk,
        actor=county,
        today=today,
        data=ComparisonInput(
            source_code=code,
            compared_on=today,
            result=result,
            note=NOTES.get(code, "") if result == ComparisonResult.ISSUE else "",
            judgement=JUDGEMENT if judged else "",
        ),
    )


def demo_comparisons_record(*, village: Any, county: Any, today: dt.date) -> int:
    """Record the demo's comparisons (see the module); returns how many results were written."""
    codes = [s.code for s in sources_active()]
    if len(codes) < 2:
        return 0
    vehicle = "PUBLIC_SECURITY_VEHICLE" if "PUBLIC_SECURITY_VEHICLE" in codes else codes[0]
    estate = "REAL_ESTATE" if "REAL_ESTATE" in codes else codes[1]
    leads = Lead.objects.for_user(village).order_by("id")
    verified = list(leads.filter(state=LeadState.VERIFIED)[:2])
    reviewed = list(leads.filter(state=LeadState.REVIEWED)[:2])
    written = 0
    plans: list[tuple[Lead, dict[str, tuple[str, bool]]]] = []
    if verified:  # 不动产 有异常, not judged yet: the township waits for the county
        plans.append((verified[0], {estate: (ComparisonResult.ISSUE, False)}))
    if len(verified) > 1:  # 车辆 有异常, judged: complete
        plans.append((verified[1], {vehicle: (ComparisonResult.ISSUE, True)}))
    if reviewed:  # everything 无异常
        plans.append((reviewed[0], {}))
    for lead, anomalies in plans:
        for code in codes:
            result, judged = anomalies.get(code, (ComparisonResult.NO_ISSUE, False))
            _record(lead, county, today, code, result, judged)
            written += 1
    if len(reviewed) > 1:  # half done: the panel shows what is still owed
        for code in codes[:2]:
            _record(reviewed[1], county, today, code)
            written += 1
    for n, lead in enumerate(leads.filter(state=LeadState.NEW)[:2]):
        lead_consent_record(lead_id=lead.pk, actor=village)
        if n == 0:
            _record(lead, county, today, vehicle)
            written += 1
    return written
