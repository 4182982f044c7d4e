"""The dashboard of a province computed live against its statements (issue 21, session 9).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench21_1m \\
        .venv/bin/python benchmarks/dashboard_floor.py [--pairs 3] [--runs 5] [--targets] [--explain 3]

On the province of ``benchmarks/screening.py`` (screened once, so leads exist).  ``--targets`` first
adds monitoring targets and measures as ``benchmarks/dashboard.py`` does (every 15th household a
target, one in ten eliminated; a measure for two targets in three), once.  ``fanpin.settings_test``
(``DASHBOARD_CACHE_SECONDS = 0``: every request computes the figures live, no snapshot).

A provincial user requests ``/dashboard/`` in-process once with its queries captured (django's
``CaptureQueriesContext``).  Then ``--pairs`` pairs: A = median of ``--runs`` requests of the page;
B = the same statements replayed exactly as captured (``jit`` off, as the page sets it), one after
the other on one connection (their *sum*) and spread over two connections in two threads, longest
first (the *parallel floor* on this 2-core machine; with N cores it tends to the longest statement).
Prints every pair, the ratios, the load average, the page's own per-statement times (sum, max) and,
with ``--explain N``, ``EXPLAIN (ANALYZE, BUFFERS)`` of the N slowest statements.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanpin.settings_test")
os.environ["DEBUG"] = "0"

import django

django.setup()

import psycopg2  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from fanpin.core.models import User  # noqa: E402
from fanpin.core.roles import Role  # noqa: E402
from monitoring.models import Region  # noqa: E402

PROVINCE = "610000000000"


def targets_add() -> None:
    """Targets and measures as ``benchmarks/dashboard.py`` adds them (``targets_fill``), if none yet."""
    with connection.cursor() as cur:
        cur.execute("SELECT EXISTS (SELECT 1 FROM monitoring_monitoringtarget)")
        if cur.fetchone()[0]:
            print("targets already there")
            return
    from benchmarks.dashboard import targets_fill

    started = time.perf_counter()
    targets_fill()
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM monitoring_monitoringtarget")
        n = cur.fetchone()[0]
        cur.execute("SELECT COUNT(*) FROM assistance_targetmeasure")
        m = cur.fetchone()[0]
    print(f"targets added: {n:,} targets, {m:,} measures in {time.perf_counter() - started:.1f} s")


def page(client: Client) -> float:
    started = time.perf_counter()
    response = client.get("/dashboard/", secure=True)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.status_code
    return elapsed


def raw_connection() -> psycopg2.extensions.connection:
    s = connection.settings_dict
    conn = psycopg2.connect(
        dbname=s["NAME"], user=s["USER"], host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432,
        password=s["PASSWORD"] or None,
    )  # fmt: skip
    conn.autocommit = True
    with conn.cursor() as c:
        c.execute("SET jit = off")
    return conn


def replay(conn: psycopg2.extensions.connection, statements: list[str]) -> float:
    started = time.perf_counter()
    with conn.cursor() as c:
        for sql in statements:
            c.execute(sql)
            if c.description:
                c.fetchall()
    return (time.perf_counter() - started) * 1000


def parallel(conns: list, statements: list[str], times: dict[str, float]) -> float:
    """The statements on len(conns) connections, longest first, each taking the next one free."""
    ordered = sorted(statements, key=lambda s: -times[s])
    queue = list(ordered)

    def worker(conn: psycopg2.extensions.connection) -> None:
        with conn.cursor() as c:
            while queue:
                try:
                    sql = queue.pop(0)
                except IndexError:
                    return
                c.execute(sql)
                if c.description:
                    c.fetchall()

    started = time.perf_counter()
    with ThreadPoolExecutor(len(conns)) as pool:
        list(pool.map(worker, conns))
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--targets", action="store_true")
    parser.add_argument("--explain", type=int, default=0)
    args = parser.parse_args()
    if args.targets:
        targets_add()
    user = User.objects.filter(username="bench-province").first() or User.objects.create_user(
        "bench-province", password="x", role=Role.PROVINCE, region=Region.objects.get(code=PROVINCE)
    )
    client = Client()
    client.force_login(user)
    page(client)  # warm
    with CaptureQueriesContext(connection) as ctx:
        page_once = page(client)
    captured = [(q["sql"], float(q["time"]) * 1000) for q in ctx.captured_queries]
    # statements that read (the page's transaction control and SET LOCAL are not part of the floor)
    reads = [(sql, ms) for sql, ms in captured if sql.lstrip().upper().startswith(("SELECT", "WITH"))]
    total = sum(ms for _s, ms in captured)
    print(
        f"page once {page_once:.0f} ms; {len(captured)} queries, {total:.0f} ms of SQL "
        f"(reads: {len(reads)}, sum {sum(ms for _s, ms in reads):.0f} ms, max {max(ms for _s, ms in reads):.0f} ms)"
    )
    for sql, ms in sorted(reads, key=lambda r: -r[1])[:8]:
        print(f"   {ms:7.1f} ms  {' '.join(sql.split())[:160]}")
    statements = [sql for sql, _ms in reads]
    times = dict(reads)
    conns = [raw_connection(), raw_connection()]
    if args.explain:
        with conns[0].cursor() as c:
            for sql, _ms in sorted(reads, key=lambda r: -r[1])[: args.explain]:
                c.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                print("--- EXPLAIN (ANALYZE, BUFFERS)", " ".join(sql.split())[:300])
                print("\n".join(r[0] for r in c.fetchall()))
    ratios_sum, ratios_par = [], []
    for i in range(args.pairs):
        pages = [page(client) for _ in range(args.runs)]
        sums = [replay(conns[0], statements) for _ in range(args.runs)]
        pars = [parallel(conns, statements, times) for _ in range(args.runs)]
        a, b, p = statistics.median(pages), statistics.median(sums), statistics.median(pars)
        ratios_sum.append(a / b)
        ratios_par.append(a / p)
        print(
            f"pair {i + 1}: page p50 {a:.0f} ms | statements one after another {b:.0f} ms ({a / b:.2f}×) | "
            f"on two connections {p:.0f} ms ({a / p:.2f}×) | load {os.getloadavg()[0]:.2f}",
            flush=True,
        )
    print(
        f"page ÷ sum: {' · '.join(f'{r:.2f}' for r in ratios_sum)}; "
        f"page ÷ two connections: {' · '.join(f'{r:.2f}' for r in ratios_par)}"
    )


if __name__ == "__main__":
    main()
