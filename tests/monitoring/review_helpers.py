"""Shared set-up for the review workflow tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from monitoring.models import Lead, LeadState
from monitoring.services.review import Decision, Verification
from tests.factories import LeadFactory

VILLAGE = "520101001001"  # inside village, township 520101001, county 520101
OUTSIDE = "530101001001"
RAISED_DAYS_AGO = 12


def today() -> dt.date:
    return timezone.localdate()


def verification(*, ended: bool = True, days: int = 5) -> Verification:
    """A complete village verification; ``ended`` puts the posting period in the past."""
    start = today() - dt.timedelta(days=days + 1) if ended else today()
    return Verification(
        home_checked_on=start - dt.timedelta(days=1),
        consent_signed=True,
        appraisal_on=start,
        appraisal_outcome="AGREED",
        publicity_start=start,
        publicity_end=start + dt.timedelta(days=days - 1),
    )


def decision(**kwargs: Any) -> Decision:
    return Decision(**{"category": "EDGE_AT_RISK", "risk_types": ["ILLNESS"], **kwargs})


def lead_in(household: Any, state: str = LeadState.NEW, **kwargs: Any) -> Lead:
    """A lead in ``state`` with the fields that state implies (verification done, posting ended)."""
    extra: dict[str, Any] = {}
    if state in (LeadState.VERIFIED, LeadState.REVIEWED):
        v = verification()
        extra = {
            "verified_at": timezone.now(),
            "home_checked_on": v.home_checked_on,
            "consent_signed": True,
            "appraisal_on": v.appraisal_on,
            "appraisal_outcome": "AGREED",
            "publicity_start": v.publicity_start,
            "publicity_end": v.publicity_end,
        }
    if state in (LeadState.CONFIRMED, LeadState.REJECTED):
        extra = {"decided_at": timezone.now()}
    if state == LeadState.REJECTED:
        extra["rejection_reason"] = "测试"
    defaults = {
        "suggested_category": "EDGE_AT_RISK",
        "suggested_risk_types": ["ILLNESS", "LACK_OF_LABOR"],
        # raised before ``verification()``'s dates (they may not precede the lead), not yet overdue
        "raised_at": timezone.now() - dt.timedelta(days=RAISED_DAYS_AGO),
    }
    return LeadFactory(household=household, state=state, **{**defaults, **extra, **kwargs})
