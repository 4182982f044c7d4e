"""EXPLAIN (ANALYZE) of the household list page's queries with 1 000 000 households (issue 10).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fanpin_load \
        .venv/bin/python benchmarks/household_search.py [--plans FILE] [--timeout 30s] [LABEL ...]

Uses the data of benchmarks/lead_queue.py (fill it with that script or benchmarks/load_test.py).
For a county user (520101, the first county), a county user of the last county (520119) and a
provincial official, requests the household list (Django test client, in-process) without a search,
on page 150, and with search terms that hit or miss by 户编号, name and 身份证号, then runs
``EXPLAIN (ANALYZE)`` on each captured query that reads households.  Prints one line per case
(request time, households found); the plans go to ``--plans``.  Each statement is cancelled after
``--timeout`` so that a bad plan cannot run for minutes.  LABELs restrict the cases (substrings).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanpin.settings_test")

USERS = [
    ("county 520101", "COUNTY", "520101000000"),
    ("county 520119", "COUNTY", "520119000000"),
    ("province 52", "PROVINCE", "520000000000"),
]
CASES = [
    ("no search", {}),
    ("page 150", {"page": "150"}),
    ("户编号 prefix hit (a village)", {"q": "B520101002005"}),
    ("户编号 prefix zero-hit", {"q": "B529999"}),
    ("name prefix hit", {"q": "户主12345"}),
    ("name prefix zero-hit", {"q": "王"}),
    ("身份证号 exact hit", {"q": "520000000000012345"}),
    ("身份证号 exact zero-hit", {"q": "520000000009999999"}),
    ("身份证号 last 4 hit", {"q": "1234"}),
    ("身份证号 last 6 zero-hit", {"q": "99999X"}),
    ("name prefix matching every member", {"q": "户主"}),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("labels", nargs="*")
    parser.add_argument("--plans", default="/tmp/fanpin-household-search-plans.txt")
    parser.add_argument("--timeout", default="30s")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import OperationalError, connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from fanpin.core.models import User

    if connection.vendor != "postgresql":
        sys.exit("需要 PostgreSQL：请设置 DATABASE_URL")
    settings.ALLOWED_HOSTS = ["testserver"]

    def guard() -> None:
        with connection.cursor() as cur:
            cur.execute("SELECT set_config('statement_timeout', %s, false)", [args.timeout])

    plans = open(args.plans, "w")  # noqa: SIM115
    for label, role, region in USERS:
        username = "bench-search-" + region[:6]
        User.objects.filter(username=username).delete()
        user = User(username=username, role=role, region_id=region, is_staff=role == "COUNTY")
        user.set_unusable_password()
        user.save()
        client = Client()
        client.force_login(user)
        for case, params in CASES:
            if args.labels and not any(wanted in f"{label} {case}" for wanted in args.labels):
                continue
            guard()
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                try:
                    response = client.get("/monitoring/households/", params)
                except OperationalError:
                    print(f"{label:15} {case:36} cancelled after {args.timeout}")
                    continue
                elapsed = (time.perf_counter() - started) * 1000
            found = re.search(r"共 ([\d,]+) 户", response.content.decode())
            print(f"{label:15} {case:36} {elapsed:8.0f} ms  {found.group(1) if found else '?':>9} households")
            plans.write(f"\n===== {label} | {case} | {params} | {elapsed:.0f} ms\n")
            for query in ctx.captured_queries:
                sql = query["sql"]
                if "monitoring_household" not in sql or "monitoring_lead" in sql:
                    continue
                guard()
                with connection.cursor() as cur:
                    cur.execute("EXPLAIN (ANALYZE, COSTS OFF) " + sql)
                    plan = "\n".join(row[0] for row in cur.fetchall())
                kind = "count" if "COUNT(" in sql.upper() else "page"
                plans.write(f"--- {kind} ({query['time']} s)\n{plan}\n")
    plans.close()
    print(f"plans: {args.plans}")


if __name__ == "__main__":
    main()
