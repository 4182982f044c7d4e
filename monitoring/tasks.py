"""Celery tasks of the monitoring app: take ids, call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="monitoring.import_job")
def import_job_task(job_id: int) -> str:
    from monitoring.services.imports.jobs import import_job_run

    return str(import_job_run(job_id=job_id).status)
