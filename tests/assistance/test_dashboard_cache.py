"""Dashboard snapshots: the warm job computes them, readers get them with few queries, scope holds."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from assistance.selectors.dashboard import dashboard_figures
from assistance.services.dashboard_warm import dashboard_warm
from tests.conftest import World

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 28)


@pytest.fixture
def cached(settings: Any) -> None:
    settings.DASHBOARD_CACHE_SECONDS = 3600
    cache.clear()


def test_warm_then_read_uses_the_snapshot(world: World, cached: None, django_assert_max_num_queries: Any) -> None:
    warmed = dashboard_warm(year=2026, today=TODAY)
    # the country, province 52, cities 5201 and 5202, counties 520101, 520102, 520201, province 53 with
    # its city and county
    assert warmed == 1 + 1 + 2 + 3 + 3
    live = dashboard_figures(user=world.users["city"], region_code="", year=2026, today=TODAY, use_cache=False)
    with django_assert_max_num_queries(3):  # scope check, breadcrumb (+ the session-less user)
        snap = dashboard_figures(user=world.users["city"], region_code="", year=2026, today=TODAY)
    assert snap.kpis == live.kpis
    assert {k: t.rows for k, t in snap.tables.items()} == {k: t.rows for k, t in live.tables.items()}
    assert snap.breadcrumb == live.breadcrumb  # the reader's own breadcrumb, not the warm job's


def test_snapshot_never_widens_scope(world: World, cached: None) -> None:
    from assistance.selectors.dashboard import OutsideScope

    dashboard_warm(year=2026, today=TODAY)
    with pytest.raises(OutsideScope):
        dashboard_figures(user=world.users["city"], region_code="520201000000", year=2026, today=TODAY)


def test_dashboard_page_reads_the_snapshot(world: World, cached: None) -> None:
    dashboard_warm()
    client = Client()
    client.force_login(world.users["province"])
    assert client.get(reverse("dashboard")).status_code == 200
