"""Celery tasks of the assistance app: take ids/values, call one service, safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def dashboard_warm_task(year: int | None = None) -> int:
    from assistance.services.dashboard_warm import dashboard_warm

    return dashboard_warm(year=year)


@shared_task(acks_late=True)
def dashboard_refresh_task(region_codes: list[str]) -> int:
    """Recompute the current year's snapshots of ``region_codes`` and the regions above them
    (enqueued on commit after a lead, target or elimination changed state; idempotent)."""
    from assistance.services.dashboard_refresh import dashboard_refresh

    return dashboard_refresh(region_codes=region_codes)


@shared_task(acks_late=True)
def measures_due_notify_task() -> int:
    """Celery beat (daily by default, MEASURE_DUE_CRON): remind the 帮扶责任人 of measures falling due
    (once per measure and due date)."""
    from assistance.services.measure_reminders import measures_due_notify

    return measures_due_notify().noticed
