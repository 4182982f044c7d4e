"""绿色通道补办 in the demo (issue 18): the demo county's targets confirmed directly "months ago"
(``assistance.services.demo.demo_workflow_play`` confirms them today with a past 识别日期) had their
follow-up opened on that past day, so their owed steps are long overdue — what the county's 待办,
the follow-up list's 已超期 filter and the target pages show; the 20 confirmed today stay on time.
Demo data only (the caller checks ``demo_exists``); moving dates is data shaping, not a state change,
so it writes no audit row (as ``_give_a_past`` moves a lead's 发现时间)."""

from __future__ import annotations

import datetime as dt

from django.db.models import F
from django.utils import timezone

from monitoring.models import FollowUp, FollowUpState


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
