"""Benchmark: ``generate_demo --households N`` wall time and peak memory (run by hand).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fanpin_bench_demo \
        .venv/bin/python benchmarks/generate_demo.py --households 100000

The database is migrated and emptied of demo data first.  Prints wall time, households/s and the
peak RSS of the process; record the figures in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanpin.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2020)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from monitoring.models import Household, Member, RigidExpenditure
    from monitoring.services.demo import demo_generate

    call_command("migrate", verbosity=0)
    RigidExpenditure.objects.all().delete()
    Member.objects.all().delete()
    Household.objects.all().delete()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    summary = demo_generate(households=args.households, seed=args.seed, with_users=False)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"database: {connection.vendor}")
    print(
        f"households: {summary.households:,}  members: {summary.members:,}  incomes: {summary.incomes:,}  "
        f"expenditures: {summary.expenditures:,}"
    )
    print(f"wall time: {elapsed:.1f} s  ({summary.households / elapsed:,.0f} households/s)")
    print(f"peak RSS: {peak:.0f} MB (before generation: {rss_before:.0f} MB)")


if __name__ == "__main__":
    main()
