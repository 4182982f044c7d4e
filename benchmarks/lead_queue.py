"""Benchmark: the county lead queue with 1 000 000 households in the province and 50 000 leads.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fanpin_review_bench \
        .venv/bin/python benchmarks/lead_queue.py [--households 1000000] [--leads 50000] [--runs 30]

PostgreSQL only.  The database is migrated, then filled with set-based SQL (generate_series):
province 52 with 19 counties; county 520101 (the one measured) has 200 villages, the 18 others
100 villages each, the same number of households per village (1 000 000 in all, one 户主 each);
``--leads`` leads in county 520101, spread over the states and over 60 days.  Then the queue is
requested in-process (Django test client, logged in as county staff) ``--runs`` times per
scenario; prints p50/p95 server time and the number of queries.  Record the figures in
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

COUNTIES = 19
BIG_COUNTY_VILLAGES = 200
OTHER_COUNTY_VILLAGES = 100


def fill(households: int, leads: int) -> None:
    from django.db import connection

    villages = BIG_COUNTY_VILLAGES + (COUNTIES - 1) * OTHER_COUNTY_VILLAGES
    per_village = households // villages
    with connection.cursor() as cur:
        cur.execute("TRUNCATE monitoring_lead, monitoring_monitoringtarget, monitoring_member CASCADE")
        cur.execute("DELETE FROM monitoring_rigidexpenditure; DELETE FROM monitoring_annualincome")
        cur.execute("DELETE FROM monitoring_household")
        cur.execute("DELETE FROM fanpin_user WHERE username = 'bench-county'")
        cur.execute("DELETE FROM monitoring_region WHERE code LIKE '52%%'")
        # regions: province, one city, 19 counties, 10 villages per township
        cur.execute(
            """
            INSERT INTO monitoring_region (code, name, level, parent_id, is_deep_poverty)
            VALUES ('520000000000', '贵州省', 'PROVINCE', NULL, false),
                   ('520100000000', '测试市', 'CITY', '520000000000', false);
            INSERT INTO monitoring_region (code, name, level, parent_id, is_deep_poverty)
            SELECT '5201' || lpad(c::text, 2, '0') || '000000', '县' || c, 'COUNTY', '520100000000', false
            FROM generate_series(1, %(counties)s) c;
            INSERT INTO monitoring_region (code, name, level, parent_id, is_deep_poverty)
            SELECT '5201' || lpad(c::text, 2, '0') || lpad(t::text, 3, '0') || '000', '乡镇' || c || '-' || t,
                   'TOWNSHIP', '5201' || lpad(c::text, 2, '0') || '000000', false
            FROM generate_series(1, %(counties)s) c,
                 generate_series(1, CASE WHEN c = 1 THEN %(big)s / 10 ELSE %(other)s / 10 END) t;
            INSERT INTO monitoring_region (code, name, level, parent_id, is_deep_poverty)
            SELECT left(r.code, 9) || lpad(v::text, 3, '0'), '村' || right(r.code, 6) || '-' || v, 'VILLAGE',
                   r.code, false
            FROM monitoring_region r, generate_series(1, 10) v
            WHERE r.level = 'TOWNSHIP' AND r.code LIKE '5201%%';
            """,
            {"counties": COUNTIES, "big": BIG_COUNTY_VILLAGES, "other": OTHER_COUNTY_VILLAGES},
        )
        cur.execute(
            """
            INSERT INTO monitoring_household (household_no, village_id, household_type, exit_year, phone, address,
                                              created_at, updated_at)
            SELECT 'B' || r.code || lpad(n::text, 5, '0'), r.code,
                   CASE WHEN n %% 3 = 0 THEN 'EXITED' ELSE 'GENERAL' END,
                   CASE WHEN n %% 3 = 0 THEN 2018 ELSE NULL END, '', '', now(), now()
            FROM monitoring_region r, generate_series(1, %(per)s) n
            WHERE r.level = 'VILLAGE' AND r.code LIKE '5201%%'
            """,
            {"per": per_village},
        )
        cur.execute(
            """
            INSERT INTO monitoring_member (household_id, name, id_number, relation, health, disability_grade, labor,
                                           schooling, employment, has_medical_insurance)
            SELECT h.id, '户主' || h.id, '52' || lpad(h.id::text, 16, '0'), 'HEAD', 'HEALTHY', '', 'NORMAL', '', '',
                   true
            FROM monitoring_household h
            """
        )
        # leads: every other household of county 520101 until --leads, states spread, raised over 60 days
        cur.execute(
            """
            WITH picked AS (
                SELECT h.id, h.village_id, row_number() OVER (ORDER BY h.id) AS n
                FROM monitoring_household h
                WHERE h.village_id LIKE '520101%%' AND h.id %% 2 = 0
                LIMIT %(leads)s
            )
            INSERT INTO monitoring_lead (household_id, village_id, state, sources, rules_fired, evidence,
                                         suggested_category, suggested_risk_types, year, raised_at, refreshed_at,
                                         last_run_id, decided_at, decided_by_id, rejection_reason, verified_at,
                                         home_checked_on,
                                         consent_signed, consent_scan, appraisal_on, appraisal_outcome,
                                         publicity_start, publicity_end)
            SELECT id, village_id,
                   (ARRAY['NEW','NEW','NEW','NEW','VERIFIED','VERIFIED','REVIEWED','REVIEWED','CONFIRMED','REJECTED'])
                       [1 + n %% 10],
                   CASE WHEN n %% 7 = 0 THEN '["SCREENING", "VISIT"]'::jsonb ELSE '["SCREENING"]'::jsonb END,
                   CASE WHEN n %% 5 = 0 THEN '["EXPENDITURE_SPIKE"]'::jsonb ELSE '["LOW_INCOME"]'::jsonb END,
                   '{}'::jsonb, 'EDGE_AT_RISK', '["ILLNESS"]'::jsonb, 2024,
                   now() - (n %% 60) * interval '1 day', NULL, NULL,
                   CASE WHEN n %% 10 IN (8, 9) THEN now() END, NULL,
                   CASE WHEN n %% 10 = 9 THEN '不符合' ELSE '' END,
                   CASE WHEN n %% 10 BETWEEN 4 AND 7 THEN now() END, NULL, NULL, '', NULL, '', NULL, NULL
            FROM picked
            """,
            {"leads": leads},
        )
    # a database in use has its visibility map and statistics up to date
    with connection.cursor() as cur:
        for table in ("monitoring_region", "monitoring_household", "monitoring_member", "monitoring_lead"):
            cur.execute(f"VACUUM ANALYZE {table}")


def measure(runs: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from fanpin.core.models import User
    from fanpin.core.roles import Role
    from monitoring.models import Household, Lead

    User.objects.filter(username="bench-county").delete()
    user = User(username="bench-county", role=Role.COUNTY, region_id="520101000000", is_staff=True)
    user.set_unusable_password()
    user.save()
    client = Client()
    client.force_login(user)
    print(f"households: {Household.objects.count():,}  leads: {Lead.objects.count():,}")
    scenarios = {
        "my step (REVIEWED), page 1": {},
        "all states, page 1": {"state": "ALL"},
        "all states, page 100": {"state": "ALL", "page": "100"},
        "overdue, source VISIT": {"state": "ALL", "overdue": "on", "source": "VISIT"},
        "one township, sorted by village": {"state": "ALL", "region": "520101001000", "sort": "village"},
    }
    for name, params in scenarios.items():
        timings = []
        queries = 0
        for i in range(runs + 2):
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = client.get("/monitoring/leads/", params)
                elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, response.status_code
            if i >= 2:  # warm-up
                timings.append(elapsed)
            queries = len(ctx.captured_queries)
        timings.sort()
        p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
        print(f"{name:36s} p50 {statistics.median(timings):7.1f} ms  p95 {p95:7.1f} ms  queries {queries}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--skip-fill", action="store_true")
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
        fill(args.households, args.leads)
        print(f"fill: {time.perf_counter() - started:.1f} s")
    measure(args.runs)


if __name__ == "__main__":
    main()
