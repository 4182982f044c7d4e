"""Department alerts benchmark (issue 8): a batch of 1 000 alerts against 1 000 000 members.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fanpin_alerts_bench \\
        .venv/bin/python benchmarks/alerts.py [--households 500000] [--regenerate] [--runs 5]

Generates (once) the screening benchmark's province with ``--households`` households of two members
each (``INSERT … SELECT generate_series``, see benchmarks/screening.py), i.e. 1 000 000 members by
default.  Then, as a 医保 department user of the province, POSTs batches of 1 000 alerts to
``/api/v1/alerts/`` through the real view (serializer validation, matching, rigid expenditures,
leads, audit): 900 match members of 900 distinct households, 100 match nobody; half are 大额医疗支出
with an amount.  Measured per batch: wall time and number of SQL queries, for a fresh batch (leads
raised), the same batch resent (all duplicates) and a fresh batch for households that already
have an open lead (leads merged).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ALLOWED_HOSTS", "testserver")  # requests go through the Django test client
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanpin.settings")
os.environ["DEBUG"] = "0"  # DEBUG would keep every SQL text in memory
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from benchmarks.screening import generate  # noqa: E402
from fanpin.core.idcard import id_check_digit  # noqa: E402
from fanpin.core.models import User  # noqa: E402
from fanpin.core.roles import Department, Role  # noqa: E402

PROVINCE = "610000000000"
BATCH = 1000
SLOWEST: list[list[tuple[float, str]]] = []


def valid_id(n: int) -> str:
    """A distinct valid 身份证号 for every n < 10**7 × 20 000 (area, birth date, sequence from n)."""
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=(n // 10**7) % 20000)
    first17 = f"61{(n // 1000) % 10000:04d}{birth:%Y%m%d}{n % 1000:03d}"
    return first17 + id_check_digit(first17)


def prepare_batch(rng: random.Random, tag: str, households: list[int] | None = None) -> tuple[list[dict], list[int]]:
    """900 members (one per household) get valid, unique 身份证号; 100 alerts match nobody."""
    with connection.cursor() as c:
        if households is None:
            c.execute("SELECT max(id) FROM monitoring_household")
            top = c.fetchone()[0]
            households = rng.sample(range(1, top + 1), 900)
        c.execute(
            "SELECT DISTINCT ON (household_id) id, household_id FROM monitoring_member "
            "WHERE household_id = ANY(%s) ORDER BY household_id, id",
            [households],
        )
        members = c.fetchall()
        base = rng.randrange(10**5) * 10**4  # batches never overlap: 10 000 numbers each
        ids = {m: valid_id(base + i) for i, (m, _h) in enumerate(members)}
        # Unique 身份证号 for the chosen members (the generated ones have no check digit).
        c.execute(
            "UPDATE monitoring_member m SET id_number = v.idn FROM unnest(%s::bigint[], %s::text[]) AS v(id, idn) "
            "WHERE m.id = v.id",
            [list(ids), list(ids.values())],
        )
    alerts: list[dict[str, Any]] = []
    for i, idn in enumerate([*ids.values(), *(valid_id(base + 5000 + j) for j in range(BATCH - len(ids)))]):
        medical = i % 2 == 0
        alerts.append(
            {
                "idempotency_key": f"{tag}-{i}",
                "id_number": idn,
                "name": "张三",
                "alert_type": "MEDICAL" if medical else "UNEMPLOYMENT",
                "alert_date": (dt.date(2025, 1, 1) + dt.timedelta(days=i % 300)).isoformat(),
                "amount": f"{10000 + i}.00" if medical else None,
            }
        )
    return alerts, [h for _m, h in members]


def post(client: APIClient, alerts: list[dict]) -> tuple[float, int, dict]:
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        resp = client.post("/api/v1/alerts/", {"alerts": alerts}, format="json")
        elapsed = time.perf_counter() - started
    assert resp.status_code == 201, resp.content[:500]
    body = resp.json()
    slowest = sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))[:3]
    SLOWEST.append([(float(q["time"]), q["sql"][:90]) for q in slowest])
    return elapsed, len(ctx.captured_queries), {k: body[k] for k in ("matched", "unmatched", "duplicates")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=500_000)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("需要 PostgreSQL：请设置 DATABASE_URL=postgres://…/fanpin_alerts_bench")
    if args.regenerate:
        with connection.cursor() as c:
            c.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    call_command("migrate", verbosity=0)
    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM monitoring_household")
        if c.fetchone()[0] == 0:
            started = time.perf_counter()
            generate(args.households)
            print(f"generated {args.households:,} households in {time.perf_counter() - started:.1f} s")
        for table in ("monitoring_medicalsettlement", "monitoring_departmentalert", "monitoring_lead"):
            c.execute(f"DELETE FROM {table}")
        c.execute("DELETE FROM monitoring_rigidexpenditure WHERE note LIKE '部门预警%%'")
        c.execute("SELECT count(*) FROM monitoring_member")
        members = c.fetchone()[0]
    user = User.objects.filter(username="bench-dept").first() or User.objects.create(
        username="bench-dept", role=Role.DEPT, region_id=PROVINCE, department=Department.MEDICAL_INSURANCE
    )
    client = APIClient()
    client.force_authenticate(user)
    rng = random.Random(2020)
    fresh: list[tuple[float, int]] = []
    resend: list[tuple[float, int]] = []
    merge: list[tuple[float, int]] = []
    for run in range(args.runs):
        alerts, households = prepare_batch(rng, f"r{run}")
        t, q, counts = post(client, alerts)
        assert counts == {"matched": 900, "unmatched": 100, "duplicates": 0}, counts
        fresh.append((t, q))
        t, q, counts = post(client, alerts)
        assert counts["duplicates"] == BATCH, counts
        resend.append((t, q))
        again, _ = prepare_batch(rng, f"m{run}", households)
        t, q, counts = post(client, again)
        assert counts["matched"] == 900, counts
        merge.append((t, q))
    with connection.cursor() as c:
        c.execute("SELECT count(*), sum(jsonb_array_length(evidence->'DEPARTMENT_ALERT')) FROM monitoring_lead")
        leads, entries = c.fetchone()
    print(f"members {members:,}   batches of {BATCH}   runs {args.runs}")
    for name, rows in (("fresh (raise)", fresh), ("resend (duplicates)", resend), ("fresh, open leads (merge)", merge)):
        times = sorted(t for t, _ in rows)
        queries = sorted({q for _, q in rows})
        print(
            f"{name:28s} median {statistics.median(times) * 1000:7.0f} ms   max {times[-1] * 1000:7.0f} ms   "
            f"queries {queries}"
        )
    print(f"leads {leads:,}  evidence entries {entries:,}")
    for label, index in (("fresh", -3), ("merge", -1)):
        print(f"slowest queries of the last {label} batch:")
        for seconds, sql in SLOWEST[index]:
            print(f"  {seconds * 1000:6.0f} ms  {sql}")


if __name__ == "__main__":
    main()
