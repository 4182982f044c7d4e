"""Celery tasks of the monitoring app (imports, screening): each takes ids, calls one service, is safe twice.

A run of a province or city fans out as a chord: one ``screening_counties_task`` per batch of
counties (``screening_county_batches``), then
``screening_gather_task`` sums their summaries into the parent run.  A county task never raises
for a failed county (the service records 失败 on the run), so the gather always happens.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import chord, shared_task
from django.conf import settings

from monitoring.models import ScreeningRun
from monitoring.services import screening as screening_services
from monitoring.services.notices import NoticeRetry, notice_send

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, max_retries=3, default_retry_delay=30)
def screening_county_task(run_id: int) -> int:
    """One county run (kept for messages queued before the batches)."""
    screening_services.screening_county_execute(run_id=run_id)
    return run_id


@shared_task(acks_late=True, max_retries=3, default_retry_delay=30)
def screening_counties_task(run_ids: list[int]) -> list[int]:
    """A batch of county runs of one parent, written in one transaction."""
    screening_services.screening_counties_execute(run_ids=run_ids)
    return run_ids


@shared_task(acks_late=True)
def screening_gather_task(_results: Any, run_id: int) -> dict[str, Any]:
    run = screening_services.screening_run_gather(run_id=run_id)
    return {"run": run.pk, "status": run.status, **run.summary}


@shared_task(acks_late=True)
def screening_dispatch_task(run_id: int) -> None:
    """A county run goes straight to its task; a larger run fans out one task per unfinished county."""
    run = ScreeningRun.objects.get(pk=run_id)
    if run.is_finished:
        return
    if not run.children.exists():
        screening_county_task.delay(run.pk)
        return
    batches = screening_services.screening_county_batches(run=run)
    if not batches:
        screening_gather_task.delay(None, run.pk)
        return
    chord(screening_counties_task.s(batch) for batch in batches)(screening_gather_task.s(run.pk))


@shared_task(acks_late=True)
def screening_scheduled_task(year: int | None = None) -> list[int]:
    """Celery beat (monthly by default): screen every province."""
    return screening_services.screening_scheduled(year=year)


@shared_task(acks_late=True)
def screening_after_import_task(county_codes: list[str], year: int) -> list[int]:
    """For the import code: ``screening_after_import_task.delay_on_commit(county_codes, year)``
    (or call ``monitoring.services.screening.screening_schedule_after_import`` directly)."""
    return screening_services.screening_schedule_after_import(county_codes=county_codes, year=year)


@shared_task(acks_late=True)
def import_job_preview_task(job_id: int) -> str:
    """The check (dry run) of an uploaded sheet, enqueued by ``import_job_create`` on commit."""
    from monitoring.services.imports.jobs import import_job_preview_run

    return str(import_job_preview_run(job_id=job_id).status)


@shared_task(name="monitoring.import_job")
def import_job_task(job_id: int) -> str:
    from monitoring.services.imports.jobs import import_job_run

    return str(import_job_run(job_id=job_id).status)


@shared_task(acks_late=True)
def import_files_purge_task() -> int:
    """Celery beat (daily by default): delete uploaded sheets past IMPORT_FILE_RETENTION_DAYS and
    export files past EXPORT_FILE_RETENTION_DAYS."""
    from monitoring.services.export_jobs import export_files_purge
    from monitoring.services.imports.jobs import import_files_purge

    deleted = 0
    for purge in (import_files_purge, export_files_purge):  # one failing does not stop the other
        try:
            deleted += purge()
        except Exception:
            logger.exception("%s failed", purge.__name__)
    return deleted


@shared_task(acks_late=True, max_retries=3, default_retry_delay=30)
def export_job_task(job_id: int) -> str:
    from monitoring.services.export_jobs import export_job_run

    return str(export_job_run(job_id=job_id).status)


@shared_task(acks_late=True, max_retries=3, default_retry_delay=30)
def self_report_match_task(application_id: int) -> str:
    """A public self-report, after its request: match it to a member of its village and raise the lead."""
    from monitoring.services.applications import self_report_match

    application = self_report_match(application_id=application_id)
    return application.status if application is not None else ""


# A failed send raises NoticeRetry and is tried again after 1, 2, 4 … × NOTICE_RETRY_BACKOFF seconds
# (at most 30 minutes apart); the service records 发送失败 at the last allowed attempt and stops raising,
# so max_retries here is only a ceiling.
@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(NoticeRetry,),
    retry_backoff=settings.NOTICE_RETRY_BACKOFF,
    retry_backoff_max=1800,
    retry_jitter=False,
    max_retries=50,
)
def notice_send_task(self: Any, notice_id: int) -> str:
    """Send one notice (enqueued on commit by the service that made it)."""
    while True:
        try:
            notice = notice_send(notice_id=notice_id)
        except NoticeRetry:
            if not self.request.is_eager:
                raise  # the worker retries later (autoretry_for, with backoff)
            # in-process (no broker, the demo): again at once until sent or finally failed, never
            # raising into the request whose commit enqueued it
            continue
        return notice.status if notice is not None else ""
