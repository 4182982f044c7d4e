"""Reads of import jobs, scoped to a user (a department user: only its own uploads)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from fanpin.core.roles import Department, Permission, Role, effective_role, role_can
from fanpin.core.scoping import sees_everything
from monitoring.models import AlertStatus, ImportJob, ImportJobAlert, ImportKind
from monitoring.selectors.alerts import alerts_visible


def import_kinds_for(*, user: Any) -> list[tuple[str, str]]:
    """The kinds ``user`` may upload, as (code, label): administrators everything; county staff all
    but regions; a department user its department's alerts, and a 医保 user also settlement extracts."""
    role = effective_role(user)
    if role_can(role, Permission.IMPORT_DATA):
        admin = sees_everything(user)
        return [(k, str(label)) for k, label in ImportKind.choices if admin or k != ImportKind.REGIONS]
    department = str(getattr(user, "department", "") or "")
    if role == Role.DEPT and role_can(role, Permission.UPLOAD_SHEETS) and department:
        kinds = [ImportKind.ALERTS]
        if department == Department.MEDICAL_INSURANCE:
            kinds.append(ImportKind.MEDICAL)
        if department == Department.CIVIL_AFFAIRS:
            kinds.append(ImportKind.ASSISTANCE_ROSTER)
        return [(k.value, str(k.label)) for k in kinds]
    return []


def import_jobs_for_user(*, user: Any, limit: int = 20) -> QuerySet[ImportJob]:
    return ImportJob.objects.for_user(user).select_related("created_by").order_by("-created_at", "-id")[:limit]


def import_job_get(*, user: Any, pk: int) -> ImportJob:
    """Raises ``ImportJob.DoesNotExist`` outside the user's scope."""
    return ImportJob.objects.for_user(user).select_related("created_by").get(pk=pk)


def import_job_alerts(*, user: Any, job: ImportJob) -> QuerySet[ImportJobAlert]:
    """The alerts a (visible) job submitted, by row, with their current match status — only those the
    user may see as alerts (a department user: its department's, inside its region)."""
    return (
        ImportJobAlert.objects.filter(job=job, alert__in=alerts_visible(user=user).values("pk"))
        .select_related("alert", "alert__member__household")
        .order_by("row", "pk")
    )


def import_job_alert_counts(*, user: Any, job: ImportJob) -> dict[str, int]:
    """已匹配 / 未匹配 counts of ``import_job_alerts`` (one query)."""
    return import_job_alerts(user=user, job=job).aggregate(
        matched=Count("pk", filter=Q(alert__status=AlertStatus.MATCHED)),
        unmatched=Count("pk", filter=Q(alert__status=AlertStatus.UNMATCHED)),
    )
