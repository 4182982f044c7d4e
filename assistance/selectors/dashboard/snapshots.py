"""Versioned snapshots of the figures: the cache key of a region carries a version token of its
county (townships, villages) or of itself (county and above, the whole country)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.cache import cache

from assistance.selectors.dashboard.common import prefix_of


def dashboard_cache_key(*, code: str, year: int, today: dt.date) -> str:
    version = dashboard_snapshot_version(scope=dashboard_version_scope(code))
    return f"fanpin:dashboard:v2:{code or 'all'}:{version}:{year}:{today.isoformat()}"


def dashboard_version_scope(code: str) -> str:
    """Whose version token a region's snapshot carries: its own for the country, provinces, cities
    and counties; its county's for townships and villages (a change anywhere in the county makes
    them stale together)."""
    if not code:
        return "all"
    prefix = prefix_of(code)
    return prefix[:6] if len(prefix) > 6 else prefix


def dashboard_version_key(scope: str) -> str:
    return f"fanpin:dashboard:version:{scope}"


def dashboard_snapshot_version(*, scope: str) -> str:
    """The current version token of ``scope`` (a random token, created when missing: a token that
    was evicted never comes back with an old value, so an old snapshot is never read again)."""
    key = dashboard_version_key(scope)
    token = cache.get(key)
    if token is None:
        cache.add(key, uuid.uuid4().hex, None)
        token = cache.get(key) or "0"
    return str(token)
