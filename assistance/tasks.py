"""Celery tasks of the assistance app: take ids/values, call one service, safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def dashboard_warm_task(year: int | None = None) -> int:
    from assistance.services.dashboard_warm import dashboard_warm

    return dashboard_warm(year=year)
