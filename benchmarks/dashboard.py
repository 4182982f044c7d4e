"""Benchmark (issue 9): the provincial dashboard with 1 000 000 households.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fanpin_dash \
        .venv/bin/python benchmarks/dashboard.py [--households 1000000] [--runs 20] [--skip-fill] [--cached]

PostgreSQL only.  The database is migrated, then filled with set-based SQL: the province of
``benchmarks/lead_queue.py`` (19 counties, 2 100 villages, one 户主 per household, every third
household a 脱贫户, 50 000 leads), plus monitoring targets for every 15th household (one in ten
eliminated, categories and risk types spread, identified over the last 18 months) and one
assistance measure for two targets in three.  Then ``/dashboard/`` is requested in-process as a
provincial official ``--runs`` times (after two warm-up requests); prints p50/p95 server time and
the number of queries, also for the drill-down into a county.  Record the figures in
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanpin.settings_test")


def fill(households: int) -> None:
    from django.db import connection

    from benchmarks.lead_queue import fill as fill_registry

    with connection.cursor() as cur:
        cur.execute("DELETE FROM fanpin_user WHERE username = 'bench-province'")
    fill_registry(households, 50_000)
    targets_fill()


def targets_fill() -> None:
    """Monitoring targets for every 15th household (one in ten eliminated) and a measure for two
    targets in three, on whatever registry the database holds (also ``benchmarks/dashboard_floor.py``)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("DELETE FROM assistance_targetmeasure")
        cur.execute(
            """
            INSERT INTO monitoring_monitoringtarget (household_id, lead_id, category, risk_types, identified_on,
                                                     status, elimination_method, eliminated_on, sources,
                                                     confirmed_at, confirmed_by_id, direct)
            SELECT h.id, NULL,
                   CASE WHEN h.household_type = 'EXITED' THEN 'UNSTABLE_EXITED'
                        WHEN h.id % 2 = 0 THEN 'EDGE_AT_RISK' ELSE 'SUDDEN_HARDSHIP' END,
                   (ARRAY['["ILLNESS"]', '["DISABILITY", "ILLNESS"]', '["EDUCATION"]', '["DISASTER"]',
                          '["LACK_OF_LABOR"]'])[1 + h.id % 5]::jsonb,
                   current_date - (h.id % 540)::int,
                   CASE WHEN h.id % 10 = 0 THEN 'ELIMINATED' ELSE 'ACTIVE' END,
                   CASE WHEN h.id % 10 = 0 THEN 'ASSISTED' ELSE '' END,
                   CASE WHEN h.id % 10 = 0 THEN current_date - (h.id % 30)::int END,
                   '["SCREENING"]'::jsonb, NULL, NULL, false
            FROM monitoring_household h
            WHERE h.id % 15 = 0
              AND NOT EXISTS (SELECT 1 FROM monitoring_monitoringtarget t WHERE t.household_id = h.id)
            """
        )
        cur.execute(
            """
            WITH m AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k, count(*) OVER () AS n
                       FROM assistance_measure)
            INSERT INTO assistance_targetmeasure (target_id, measure_id, responsible_name, responsible_unit,
                                                  responsible_phone, start_on, end_on, amount, amount_kind,
                                                  status, progress_notes, created_at, updated_at, created_by_id)
            SELECT t.id, m.id, '帮扶人', '单位', '13900000000', t.identified_on, NULL, NULL, '',
                   'IN_PROGRESS', '', now(), now(), NULL
            FROM monitoring_monitoringtarget t JOIN m ON m.k = t.id % m.n
            WHERE t.id % 3 <> 0
            """
        )
    with connection.cursor() as cur:
        for table in ("monitoring_monitoringtarget", "assistance_targetmeasure"):
            cur.execute(f"VACUUM ANALYZE {table}")


def measure(runs: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from fanpin.core.models import User
    from fanpin.core.roles import Role
    from monitoring.models import Household, Lead, MonitoringTarget

    User.objects.filter(username="bench-province").delete()
    user = User(username="bench-province", role=Role.PROVINCE, region_id="520000000000")
    user.set_unusable_password()
    user.save()
    client = Client()
    client.force_login(user)
    print(
        f"households: {Household.objects.count():,}  targets: {MonitoringTarget.objects.count():,}  "
        f"leads: {Lead.objects.count():,}"
    )
    scenarios = {"province (cities)": {}, "drill-down: county 520101 (townships)": {"region": "520101000000"}}
    for name, params in scenarios.items():
        timings = []
        queries = 0
        for i in range(runs + 2):
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = client.get("/dashboard/", params)
                elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, response.status_code
            if i >= 2:  # warm-up
                timings.append(elapsed)
            queries = len(ctx.captured_queries)
        timings.sort()
        p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
        print(f"{name:40s} p50 {statistics.median(timings):7.1f} ms  p95 {p95:7.1f} ms  queries {queries}")
        slowest = sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))[:5]
        for q in slowest:
            print(f"    {float(q['time']) * 1000:7.1f} ms  {q['sql'][:110]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--skip-fill", action="store_true")
    parser.add_argument(
        "--cached", action="store_true", help="time the warm job, then read the cached snapshots (production)"
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    settings.ALLOWED_HOSTS = ["testserver"]
    if connection.vendor != "postgresql":
        sys.exit("需要 PostgreSQL：请设置 DATABASE_URL")
    call_command("migrate", verbosity=0)
    if not args.skip_fill:
        started = time.perf_counter()
        fill(args.households)
        print(f"fill: {time.perf_counter() - started:.1f} s")
    if args.cached:
        from assistance.services.dashboard_warm import dashboard_warm

        settings.DASHBOARD_CACHE_SECONDS = 3600
        started = time.perf_counter()
        regions = dashboard_warm()
        print(f"warm job: {regions} regions in {time.perf_counter() - started:.1f} s")
    measure(args.runs)


if __name__ == "__main__":
    main()
