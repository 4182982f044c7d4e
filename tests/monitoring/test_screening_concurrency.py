"""Two runs of one county at the same time (a retry racing the original, a page and beat): the
county lock serialises them, so the second refreshes what the first raised — no duplicate, no
failure."""

from __future__ import annotations

import threading
import time
from unittest import mock

import pytest
from django.db import connection

from monitoring.models import Lead, RunStatus
from monitoring.selectors.screening_sql import screening_evaluate as evaluate
from monitoring.services.screening import screening_county_execute, screening_run_create
from tests.factories import income
from tests.monitoring.screening_helpers import COUNTY, YEAR, household, setup_lines


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_of_one_county_do_not_duplicate() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("需要 PostgreSQL（行锁）")
    setup_lines()
    for _ in range(20):
        income(household(), YEAR, "100.00")
    runs = [screening_run_create(region_code=COUNTY, year=YEAR, trigger="SCHEDULE") for _ in range(2)]
    barrier = threading.Barrier(2)

    def work(run_id: int) -> None:
        try:
            barrier.wait()
            screening_county_execute(run_id=run_id)
        finally:
            connection.close()

    def slow_evaluate(**kwargs):  # type: ignore[no-untyped-def]
        result = evaluate(**kwargs)
        time.sleep(0.5)  # both runs would now be between reading and writing leads
        return result

    threads = [threading.Thread(target=work, args=(run.pk,)) for run in runs]
    with mock.patch("monitoring.services.screening_counties.screening_evaluate", side_effect=slow_evaluate):
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    for run in runs:
        run.refresh_from_db()
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED, RunStatus.SUCCEEDED]
    assert sorted((r.leads_raised, r.leads_refreshed) for r in runs) == [(0, 20), (20, 0)]
    assert Lead.objects.count() == 20


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_run_delivered_twice_at_once_is_done_once() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("需要 PostgreSQL（行锁）")
    setup_lines()
    for _ in range(5):
        income(household(), YEAR, "100.00")
    run = screening_run_create(region_code=COUNTY, year=YEAR, trigger="SCHEDULE")
    barrier = threading.Barrier(2)

    def work() -> None:
        try:
            barrier.wait()
            screening_county_execute(run_id=run.pk)
        finally:
            connection.close()

    def slow_evaluate(**kwargs):  # type: ignore[no-untyped-def]
        result = evaluate(**kwargs)
        time.sleep(0.3)
        return result

    threads = [threading.Thread(target=work) for _ in range(2)]
    with mock.patch("monitoring.services.screening_counties.screening_evaluate", side_effect=slow_evaluate):
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert (run.leads_raised, run.leads_refreshed) == (5, 0)  # not overwritten by a second pass
    assert Lead.objects.count() == 5
