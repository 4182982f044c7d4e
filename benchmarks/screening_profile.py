"""Where a first screening run of the province spends its time (issue 21, session 9).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db of benchmarks/screening.py> \\
        .venv/bin/python benchmarks/screening_profile.py [--plans 20ms] [--top 15]

The leads of the province are deleted first (as ``screening.py --pairs`` does before a first run),
then one run raises them with ``--workers 1`` semantics (every county in turn, in this process, as
``manage.py screen``) under ``cProfile`` and with every statement captured (Django's
``CaptureQueriesContext``).  With ``--plans D`` PostgreSQL's ``auto_explain`` (loaded into this
session; a superuser, as on the development machine) sends ``EXPLAIN (ANALYZE, BUFFERS)`` of every
statement slower than D as a notice; the plans of the writes are printed, the slowest first.  All
three add overhead: the run's time here is not the benchmark's, the shares are what counts.
Prints the run's time, the statements by kind (count, total ms), the costliest statement shapes, the
functions with the most own time, and the plans.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from django.db import connection
from django.test.utils import CaptureQueriesContext

from benchmarks.screening import PROVINCE, YEAR, leads_reset
from monitoring.models import RunTrigger, ScreeningRun
from monitoring.services.screening import screening_run_create, screening_run_execute


def shape(sql: str) -> str:
    """A statement without its literals and run-specific names, to group the counties' statements."""
    sql = re.sub(r"'[^']*'", "?", " ".join(sql.split()))
    sql = re.sub(r"\b\d+\b", "N", sql)
    return sql[:140]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plans", default="", help="auto_explain's log_min_duration, e.g. 20ms (default: off)")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--dump", default="", help="also write cProfile's stats to this file (pstats)")
    args = parser.parse_args()
    leads_reset(fresh_statistics=False)
    connection.ensure_connection()
    notices: list[str] = []
    if args.plans:
        connection.connection.notices = notices  # psycopg2 keeps every notice in this list
        with connection.cursor() as c:
            c.execute("LOAD 'auto_explain'")
            for name, value in (
                ("log_min_duration", args.plans),
                ("log_analyze", "on"),
                ("log_buffers", "on"),
                ("log_nested_statements", "on"),
                ("log_level", "notice"),
            ):
                c.execute(f"SET auto_explain.{name} = '{value}'")
    profile = cProfile.Profile()
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as ctx:
        profile.enable()
        run = screening_run_create(region_code=PROVINCE, year=YEAR, trigger=RunTrigger.COMMAND)
        screening_run_execute(run_id=run.pk)
        profile.disable()
    wall = time.perf_counter() - started
    run = ScreeningRun.objects.get(pk=run.pk)
    own = (run.finished_at - run.created_at).total_seconds()
    queries = [(q["sql"], float(q["time"]) * 1000) for q in ctx.captured_queries]
    sql_ms = sum(ms for _s, ms in queries)
    print(f"run {own:.2f} s (wall {wall:.2f} s, {run.status}, {run.summary.get('leads')}); {len(queries)} statements")
    print(f"SQL {sql_ms / 1000:.2f} s of it (client-side: statement sent → result read); the rest Python")
    kinds: dict[str, list[float]] = defaultdict(list)
    shapes: dict[str, list[float]] = defaultdict(list)
    for sql, ms in queries:
        kinds[sql.lstrip().split(None, 1)[0].upper()].append(ms)
        shapes[shape(sql)].append(ms)
    for kind, times in sorted(kinds.items(), key=lambda k: -sum(k[1])):
        print(f"  {kind:10s} {len(times):6d} statements {sum(times):9.0f} ms")
    print("costliest statement shapes (count, total ms):")
    for text, times in sorted(shapes.items(), key=lambda s: -sum(s[1]))[: args.top]:
        print(f"  {len(times):5d} {sum(times):8.0f} ms  {text}")
    if args.dump:
        profile.dump_stats(args.dump)
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(args.top)
    print("functions by own time (cProfile):")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip()))
    if notices:
        write = re.compile(r"Query Text: \s*(INSERT|UPDATE|DELETE|CREATE|WITH \w+ AS \(\s*(INSERT|UPDATE|DELETE))")
        writes = [n for n in notices if write.search(n)]
        durations = [(float(m.group(1)) if (m := re.search(r"duration: ([0-9.]+) ms", n)) else 0.0, n) for n in writes]
        print(f"auto_explain: {len(notices)} plans, {len(writes)} of writes; the slowest writes:")
        for _ms, notice in sorted(durations, key=lambda d: -d[0])[:4]:
            text, plan = notice.split("\n", 1)[0], notice.split("\n", 1)[-1]
            print(text, re.sub(r"\s+", " ", plan)[:200])  # the duration, the start of the statement
            keep = ("actual time", "Buffers:", "Trigger", "WAL:", "Planning", "Execution")
            print("\n".join(line for line in plan.splitlines() if any(k in line for k in keep)))
            print("-" * 40)


if __name__ == "__main__":
    main()
