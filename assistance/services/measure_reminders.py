"""Reminders to 帮扶责任人: a measure that is due to start (计划中, its 开始日期) or to end (实施中,
its 结束日期) within ``NOTICE_MEASURE_DUE_DAYS`` days.

Run daily by Celery beat (``assistance.tasks.measures_due_notify_task``) or by hand
(``manage.py notify_measures_due``).  Idempotent: one notice per measure, due date and phone
(``Notice.dedupe_key``), so a second run the same day, or the next days before the date, sends
nothing again; a measure whose date is moved is reminded of the new date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from assistance.models import MeasureStatus, TargetMeasure
from monitoring.models import NoticeChannel, NoticeKind, NoticeRecipient
from monitoring.services.notices import notice_create
from monitoring.services.notices.senders import configured_channel


@dataclass(frozen=True)
class DueOutcome:
    due: int  # measures due within the window
    noticed: int  # notices made by this run (the others were made before)


@transaction.atomic
def measures_due_notify(*, today: dt.date | None = None, days: int | None = None) -> DueOutcome:
    """Notify the 帮扶责任人 of every measure due within ``days`` of ``today`` (once per due date)."""
    today = today or timezone.localdate()
    days = int(settings.NOTICE_MEASURE_DUE_DAYS if days is None else days)
    until = today + dt.timedelta(days=days)
    measures = (
        TargetMeasure.objects.filter(
            Q(status=MeasureStatus.PLANNED, start_on__gte=today, start_on__lte=until)
            | Q(status=MeasureStatus.IN_PROGRESS, end_on__gte=today, end_on__lte=until)
        )
        .select_related("measure", "target__household__village")
        .order_by("pk")
    )
    due = noticed = 0
    # a reminder goes to the work phone on the measure; WeChat has no openid for it
    by_phone = configured_channel() != NoticeChannel.WECHAT
    for tm in measures:
        due += 1
        if not by_phone:
            continue
        starting = tm.status == MeasureStatus.PLANNED
        due_on = tm.start_on if starting else tm.end_on
        assert due_on is not None
        household = tm.target.household
        notice = notice_create(
            kind=NoticeKind.MEASURE_DUE,
            village_id=household.village_id,
            household_id=household.pk,
            recipient=NoticeRecipient.RESPONSIBLE,
            address=tm.responsible_phone,
            subject_type="measure",
            subject_id=tm.pk,
            occasion=f"{'start' if starting else 'end'}:{due_on.isoformat()}",
            text_values={
                "village": household.village.name,
                "household_no": household.household_no,
                "measure": tm.measure.name,
                "due_on": f"{due_on.year}年{due_on.month}月{due_on.day}日",
                "what": "开始实施" if starting else "到期",
            },
        )
        noticed += notice is not None
    return DueOutcome(due=due, noticed=noticed)
