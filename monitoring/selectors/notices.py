"""Reads of notices: the county's log of sends, and a household's notice preference."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from monitoring.models import Notice, NoticeKind, NoticePreference, NoticeStatus


def notices_in_scope(*, user: Any, kind: str = "", status: str = "") -> QuerySet[Notice]:
    """The notices of the user's region, newest first, optionally of one template / status."""
    qs = Notice.objects.for_user(user).select_related("village", "household").defer("address")
    if kind in NoticeKind.values:
        qs = qs.filter(kind=kind)
    if status in NoticeStatus.values:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def notice_preference_for(*, household_id: int) -> NoticePreference | None:
    return NoticePreference.objects.filter(household_id=household_id).first()
