"""Dashboard snapshots: compute the figures of every province, city and county ahead of the readers."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from assistance.selectors.dashboard import dashboard_figures
from fanpin.core.models import User
from fanpin.core.roles import Role
from fanpin.core.scoping import code_prefix
from monitoring.models import Household, Region


def system_user() -> User:
    """An unsaved administrator that sees everything: the snapshot jobs compute as this user (the
    figures of a region do not depend on who asks)."""
    return User(username="dashboard-warm", role=Role.ADMIN, is_superuser=True, is_active=True)


def dashboard_warm(*, year: int | None = None, today: dt.date | None = None) -> int:
    """Recompute (and cache) the dashboard of the whole country and of every province, city and
    county that has households, for ``year`` (default: this year).  Returns the number of regions.

    Idempotent: it only overwrites cached snapshots.  Runs as an unsaved administrator (sees all)."""
    today = today or timezone.localdate()
    year = year or today.year
    system = system_user()
    counties = {code[:6] for code in Household.objects.order_by().values_list("village_id", flat=True).distinct()}
    regions = Region.objects.filter(level__in=["PROVINCE", "CITY", "COUNTY"]).order_by("code")
    codes = [""] + [
        code
        for code in regions.values_list("code", flat=True)
        if any(county.startswith(code_prefix(code)) for county in counties)
    ]
    for code in codes:
        dashboard_figures(user=system, region_code=code, year=year, today=today, use_cache=False)
    return len(codes)
