"""绿色通道补办 in the demo: the demo county's targets confirmed directly "months ago"
(``assistance.services.demo.demo_workflow_play`` confirms them today with a past 识别日期) had their
follow-up opened on that past day, so their owed steps are long overdue — what the county's 待办,
the follow-up list's 已超期 filter and the target pages show; the 20 confirmed today stay on time.
Demo data only (the caller checks ``demo_exists``); moving dates is data shaping, not a state change,
so it writes no audit row (as ``_give_a_past`` moves a lead's 发现时间)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import F
from django.utils import timezone

from monitoring.models import CHECKLIST_FIELDS, AppraisalOutcome, FollowUp, FollowUpState


def demo_follow_ups_age(*, today: dt.date) -> int:
    """Open follow-ups whose target was identified before today: opened on their 识别日期."""
    rows = list(
        FollowUp.objects.filter(state=FollowUpState.OPEN, target__identified_on__lt=today)
        .annotate(identified_on=F("target__identified_on"))
        .only("pk", "opened_on", "opened_at")
    )
    for row in rows:
        row.opened_on = row.identified_on  # type: ignore[attr-defined]
        row.opened_at = timezone.make_aware(dt.datetime.combine(row.opened_on, dt.time(10, 0)))
    FollowUp.objects.bulk_update(rows, ["opened_on", "opened_at"], batch_size=500)
    return len(rows)


def at(day: dt.date) -> dt.datetime:
    """The demo's hour of a village's record on ``day``."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(16, 0)))


# the fields a demo follow-up's 入户核实 and 民主评议 write, then its completion
STEP_FIELDS = [
    "home_checked_on",
    "home_checked_by",
    "home_checklist",
    "consent_signed",
    "home_check_recorded_at",
    "appraisal_on",
    "appraisal_outcome",
    "appraisal_recorded_at",
]
DONE_FIELDS = ["state", "completed_at"]


def _completed_audit(row: FollowUp, *, reason: str, data: dict[str, Any] | None = None) -> None:
    """The system's audit row of a demo follow-up completed by its village (no actor)."""
    from fanpin.core.audit import audit_record

    audit_record(
        actor=None,
        object_type="follow_up",
        object_id=row.pk,
        region_code=row.target.household.village_id,
        action="follow_up_complete",
        from_state=FollowUpState.OPEN,
        to_state=FollowUpState.DONE,
        reason=reason,
        data=data,
    )


def _home_checked(row: FollowUp, *, on: dt.date) -> None:
    """An owed 入户核实 done on ``on`` with everything secured and the consent signed (not saved)."""
    if row.owes_home_check:
        row.home_checked_on, row.home_checked_by = on, "村干部（演示）"
        row.home_checklist = {name: True for name, _label in CHECKLIST_FIELDS}
        row.consent_signed, row.home_check_recorded_at = True, at(on)


def demo_follow_ups_complete(*, today: dt.date) -> int:
    """Every second follow-up opened two months ago or more was completed by its village a few weeks
    after the county's decision (入户核实 +2 days, 评议 +4, 公示 +5…+11): so the demo has 已补办
    targets that may go on to 风险消除 beside the overdue ones.  The steps are recorded with their
    own dates as the village's paper says; one audit row per follow-up, by the system (no actor)."""

    rows = list(
        FollowUp.objects.filter(state=FollowUpState.OPEN, opened_on__lte=today - dt.timedelta(days=60))
        .select_related("target__household")
        .order_by("id")
    )[::2]

    for row in rows:
        start = row.opened_on
        _home_checked(row, on=start + dt.timedelta(days=2))
        if row.owes_appraisal:
            row.appraisal_on, row.appraisal_outcome = start + dt.timedelta(days=4), AppraisalOutcome.AGREED
            row.appraisal_recorded_at = at(row.appraisal_on)
        if row.owes_publicity:
            row.publicity_start, row.publicity_end = start + dt.timedelta(days=5), start + dt.timedelta(days=11)
            row.publicity_recorded_at = at(row.publicity_end + dt.timedelta(days=1))
        row.state = FollowUpState.DONE
        row.completed_at = at(start + dt.timedelta(days=12))
    publicity = ["publicity_start", "publicity_end", "publicity_recorded_at"]
    FollowUp.objects.bulk_update(rows, STEP_FIELDS + publicity + DONE_FIELDS, batch_size=500)
    for row in rows:
        _completed_audit(row, reason="演示：村级已补办入户核实、民主评议和公示")
    return len(rows)


def demo_follow_ups_disagree(*, county: Any, village: Any, today: dt.date) -> int:
    """Two of the follow-ups still open two months after the decision had their 民主评议 answer
    不同意纳入 (入户核实 +2 days, 评议 +4; recorded by the system with their own dates, as
    ``demo_follow_ups_complete``): both went back to the county, which answered the first through
    the real service (县级复核，维持认定); the second waits in its 待办. The demo village's own
    follow-ups stay as they are (its cadre's overdue work)."""
    from monitoring.services.followups import DISAGREED_REVIEW_REASON, follow_up_county_review

    rows = list(
        FollowUp.objects.filter(
            state=FollowUpState.OPEN, owes_appraisal=True, opened_on__lte=today - dt.timedelta(days=60)
        )
        .exclude(target__household__village_id=village.region_id)
        .select_related("target__household")
        .order_by("-id")[:2]
    )

    for row in rows:
        start = row.opened_on
        _home_checked(row, on=start + dt.timedelta(days=2))
        row.appraisal_on, row.appraisal_outcome = start + dt.timedelta(days=4), AppraisalOutcome.DISAGREED
        row.appraisal_recorded_at = at(row.appraisal_on)
        row.state, row.completed_at = FollowUpState.DONE, at(row.appraisal_on)
        row.county_review, row.county_review_reason = True, DISAGREED_REVIEW_REASON
        row.save(update_fields=STEP_FIELDS + DONE_FIELDS + ["county_review", "county_review_reason"])
        reason = "演示：" + DISAGREED_REVIEW_REASON
        _completed_audit(row, reason=reason, data={"target": row.target_id, "county_review": True})
    if rows:
        follow_up_county_review(
            follow_up_id=rows[0].pk, actor=county, note="演示：该户因病支出远超收入，县级研究后维持认定，继续监测。"
        )
    return len(rows)
