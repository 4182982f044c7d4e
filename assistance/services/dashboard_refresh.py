"""Dashboard snapshots follow every state change (docs/decisions/2026-12-03-dashboard-snapshots-follow-changes.md).

When a lead, target or elimination changes state, the snapshots of its village and of every region
above it are stale: ``dashboard_regions_changed`` (called inside the writing transaction, by
``fanpin.core.workflow.Workflow.apply`` and by the bulk writers that bypass it) replaces, *on commit*,
the version tokens of the changed villages' counties, cities, provinces and the country, so the next
reader of any of those levels computes fresh figures — one number per level at any moment — and
enqueues ``dashboard_refresh_task``, which recomputes those snapshots for the current year ahead of
the readers.

Many changes in one transaction (a bulk confirmation) are collected and handled once per commit.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from assistance.selectors.dashboard import (
    OutsideScope,
    dashboard_figures,
    dashboard_version_key,
    dashboard_version_scope,
)

_pending = threading.local()


def _region_codes(codes: Iterable[str]) -> set[str]:
    return {c for c in codes if c and len(c) == 12 and c.isdigit()}


def _ancestors(code: str) -> list[str]:
    """``code`` and the regions above it, up to the whole country (``""``), most local first."""
    out = [code]
    for k in (9, 6, 4, 2):
        parent = code[:k].ljust(12, "0")
        if parent not in out:
            out.append(parent)
    return [*out, ""]


def dashboard_snapshots_expire(*, region_codes: Iterable[str]) -> int:
    """Replace the version tokens of ``region_codes``' counties (their townships and villages go
    with them), cities, provinces and the country.  Idempotent in effect (old snapshots are never
    read again).  Returns the number of tokens replaced."""
    scopes = {dashboard_version_scope(a) for code in _region_codes(region_codes) for a in _ancestors(code)}
    if scopes:
        cache.set_many({dashboard_version_key(s): uuid.uuid4().hex for s in scopes}, None)
    return len(scopes)


# Object types whose state changes move dashboard figures: ``audit_record`` and the bulk writers tell
# ``dashboard_state_changed`` through ``fanpin.core.audit.state_changes_follow`` (registered in
# AssistanceConfig.ready).
# ``household_change``: an accepted 户类型 change or a death moves the 脱贫户 and member counts;
# ``member``: a departure, or a member put back in the registry (恢复在册), moves the member counts.
DASHBOARD_OBJECT_TYPES = frozenset(
    {"lead", "target", "elimination", "target_measure", "assistance_entry", "household_change", "member"}
)


def dashboard_state_changed(*, object_type: str, region_codes: list[str]) -> None:
    if object_type in DASHBOARD_OBJECT_TYPES:
        dashboard_regions_changed(region_codes=region_codes)


def dashboard_regions_changed(*, region_codes: Iterable[str]) -> None:
    """Leads, targets or eliminations of ``region_codes`` (village codes, or a county's code for a
    county-wide write) changed state in the current transaction: on commit, expire their snapshots
    and enqueue their refresh.  Nothing happens when the transaction rolls back."""
    codes = _region_codes(region_codes)
    if not codes:
        return
    pending: set[str] | None = getattr(_pending, "codes", None)
    if pending is None:
        pending = _pending.codes = set()
    pending |= codes
    transaction.on_commit(_flush, robust=True)


def _flush() -> None:
    codes: set[str] = getattr(_pending, "codes", None) or set()
    if not codes:
        return  # another callback of the same commit did it
    _pending.codes = set()
    dashboard_snapshots_expire(region_codes=codes)
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        # no worker (the one-machine demo): the next reader computes the figures; recomputing six
        # regions inside the request that changed a state would only make that click slow
        return
    from assistance.tasks import dashboard_refresh_task

    # a county-wide write passes the county; one-village changes their villages
    dashboard_refresh_task.delay(sorted(codes))


def dashboard_refresh(*, region_codes: Iterable[str], today: dt.date | None = None) -> int:
    """Compute (and cache) the current year's snapshot of ``region_codes`` and every region above
    them, where no fresh one exists.  Idempotent: a region whose snapshot is current is a cache hit.
    Returns the number of regions."""
    from assistance.services.dashboard_warm import system_user

    today = today or timezone.localdate()
    system = system_user()
    regions = {a for code in _region_codes(region_codes) for a in _ancestors(code)}
    done = 0
    for code in sorted(regions, key=lambda c: (-len(c.rstrip("0")), c)):
        try:
            dashboard_figures(user=system, region_code=code, year=today.year, today=today)
        except OutsideScope:  # a region that no longer exists
            continue
        done += 1
    return done
