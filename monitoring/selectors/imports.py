"""Reads of import jobs, scoped to a user."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from monitoring.models import ImportJob


def import_jobs_for_user(*, user: Any, limit: int = 20) -> QuerySet[ImportJob]:
    return ImportJob.objects.for_user(user).select_related("created_by").order_by("-created_at", "-id")[:limit]


def import_job_get(*, user: Any, pk: int) -> ImportJob:
    """Raises ``ImportJob.DoesNotExist`` outside the user's scope."""
    return ImportJob.objects.for_user(user).select_related("created_by").get(pk=pk)
