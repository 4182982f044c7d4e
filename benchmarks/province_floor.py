"""Province-wide pages against their main SQL, in pairs A, B (issue 21, session 9).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench21_1m \\
        .venv/bin/python benchmarks/province_floor.py [--pairs 3] [--runs 10] [--explain] [CASE ...]

Uses the province of ``benchmarks/screening.py`` (any ``--households``; screened once so that leads
exist).  As a provincial user (created once), in-process (Django test client, whole request with
rendering, ``fanpin.settings_test``), each page is requested once with its queries captured; the
page's *main SQL* is the statements that read its rows and its count (those whose ``FROM`` is the
page's table: ``monitoring_lead`` for the lead queue, ``monitoring_household`` for the household
list).  Then ``--pairs`` pairs: A = median of ``--runs`` requests of the page (after two), B = median
of ``--runs`` executions of its main statements one after the other on the same connection, exactly
as captured (the floor: what the page's rows and count cost with nothing but the database).  Prints
every pair, the ratio and the load average; ``--explain`` prints ``EXPLAIN (ANALYZE, BUFFERS)`` of
each main statement.  CASEs restrict the cases (substrings of their labels).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanpin.settings_test")
os.environ["DEBUG"] = "0"

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from fanpin.core.models import User  # noqa: E402
from fanpin.core.roles import Role  # noqa: E402
from monitoring.models import Region  # noqa: E402

PROVINCE = "610000000000"
CASES = [
    # label, path, params, the table whose statements are the page's main SQL
    ("lead queue (default filter)", "/monitoring/leads/", {}, "monitoring_lead"),
    ("lead queue, all states", "/monitoring/leads/", {"state": "ALL"}, "monitoring_lead"),
    ("lead queue, unreadable filter", "/monitoring/leads/", {"state": "all"}, "monitoring_lead"),
    ("household list (no search)", "/monitoring/households/", {}, "monitoring_household"),
    ("household search 户编号 prefix", "/monitoring/households/", {"q": "B00012345"}, "monitoring_household"),
    ("household search 身份证号 exact", "/monitoring/households/", {"q": "000000000000246913"}, "monitoring_household"),
    ("household search 户主 name", "/monitoring/households/", {"q": "成员"}, "monitoring_household"),
    # 户编号 prefixes shared by 10 000 and 100 000 households (B000000001 …): below and above SEARCH_MANY_HITS
    ("household search 户编号 10 000 hits", "/monitoring/households/", {"q": "B00012"}, "monitoring_household"),
    ("household search 户编号 100 000 hits", "/monitoring/households/", {"q": "B0001"}, "monitoring_household"),
    # after `UPDATE monitoring_member SET name = '稀有名' WHERE id % 80 = 0`: 25 000 members spread
    # over the province — just above SEARCH_MANY_HITS, the sparsest term the walk is taken for
    ("household search name 25 000 spread", "/monitoring/households/", {"q": "稀有"}, "monitoring_household"),
]


def page_ms(client: Client, path: str, params: dict[str, str]) -> float:
    started = time.perf_counter()
    response = client.get(path, params, secure=True)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (path, response.status_code)
    return elapsed


def main_statements(client: Client, path: str, params: dict[str, str], table: str) -> tuple[list[str], list[dict]]:
    with CaptureQueriesContext(connection) as ctx:
        page_ms(client, path, params)
    pattern = re.compile(rf'^\s*SELECT .*? FROM "{table}"', re.S)
    main = [q["sql"] for q in ctx.captured_queries if pattern.match(q["sql"]) and "pg_" not in q["sql"][:40]]
    return main, ctx.captured_queries


def sql_ms(statements: list[str]) -> float:
    started = time.perf_counter()
    with connection.cursor() as c:
        raw = c.cursor  # psycopg2's own cursor: the captured text as it is, no %-interpolation
        for sql in statements:
            raw.execute(sql)
            raw.fetchall()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("cases", nargs="*")
    args = parser.parse_args()
    user = User.objects.filter(username="bench-province").first() or User.objects.create_user(
        "bench-province", password="x", role=Role.PROVINCE, region=Region.objects.get(code=PROVINCE)
    )
    client = Client()
    client.force_login(user)
    for label, path, params, table in CASES:
        if args.cases and not any(c in label for c in args.cases):
            continue
        main, captured = main_statements(client, path, params, table)
        total = sum(float(q["time"]) for q in captured) * 1000
        print(f"\n== {label}: {path} {params}; {len(captured)} queries, {total:.0f} ms of SQL in the page")
        for q in sorted(captured, key=lambda q: -float(q["time"]))[:6]:
            mark = "main" if q["sql"] in main else "    "
            print(f"   {mark} {float(q['time']) * 1000:7.1f} ms  {q['sql'][:150]}")
        if args.explain:
            with connection.cursor() as c:
                for sql in main:
                    c.cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    print("   --- EXPLAIN (ANALYZE, BUFFERS)", sql[:200])
                    print("\n".join("   " + r[0] for r in c.cursor.fetchall()))
        ratios = []
        for i in range(args.pairs):
            pages = [page_ms(client, path, params) for _ in range(args.runs + 2)][2:]
            floors = [sql_ms(main) for _ in range(args.runs + 2)][2:]
            a, b = statistics.median(pages), statistics.median(floors)
            ratios.append(a / b)
            print(
                f"   pair {i + 1}: page p50 {a:.0f} ms (min {min(pages):.0f}) | main SQL p50 {b:.0f} ms "
                f"(min {min(floors):.0f}) | {a / b:.2f}× | load {os.getloadavg()[0]:.2f}",
                flush=True,
            )
        print(f"   ratios {' · '.join(f'{r:.2f}' for r in ratios)}; median {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
