"""The plan of the province-wide screening statement, with and without planner statistics (issue 21).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db of benchmarks/screening.py> \\
        .venv/bin/python benchmarks/screening_plans.py --statistics none|analyzed [--analyze]

Does what ``screening_stage_create`` does for the province of ``benchmarks/screening.py`` (the
expenditure sums into a scratch table, analyzed, then the evaluation of every household), in one
transaction that is rolled back, with ``EXPLAIN`` (``--analyze``: ``EXPLAIN (ANALYZE, BUFFERS)``) of
the evaluation instead of its ``CREATE TABLE … AS`` (``--no-nestloop``: with nested loops off, a
remedy for the never-analyzed plan).  ``--statistics`` as in ``screening.py``:
``none`` removes the registry tables' statistics first (as right after a bulk load), ``analyzed``
analyzes what has none.  Prints the time of the sums statement and the plan.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from django.db import connection, transaction

from benchmarks.screening import PROVINCE, YEAR, statistics_set
from monitoring.selectors.screening import rule_settings_for
from monitoring.selectors.screening_sql import _base_sql, _params, _stage_sql, stage_digest_params


class Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--statistics", choices=["analyzed", "none"], required=True)
    parser.add_argument("--analyze", action="store_true", help="EXPLAIN (ANALYZE, BUFFERS): runs the statement")
    parser.add_argument(
        "--no-nestloop", action="store_true", help="SET LOCAL enable_nestloop = off for the evaluation (a remedy tried)"
    )
    args = parser.parse_args()
    print(f"planner statistics: {statistics_set(args.statistics == 'analyzed')}")
    rules = rule_settings_for(county_code=PROVINCE, year=YEAR)
    prefix = PROVINCE[:2]
    params = {**_params(prefix=prefix, year=YEAR, rules=rules), **stage_digest_params(year=YEAR, rules=rules)}
    try:
        with transaction.atomic(), connection.cursor() as c:
            c.execute("SET LOCAL work_mem = '64MB'")
            c.execute(
                "SELECT MIN(id + 0), MAX(id + 0) FROM monitoring_household WHERE village_id >= %(lo)s"
                " AND village_id <= %(hi)s",
                params,
            )
            lo_id, hi_id = c.fetchone()
            params.update(lo_id=lo_id or 0, hi_id=hi_id if hi_id is not None else -1)
            started = time.perf_counter()
            c.execute("SET LOCAL enable_hashagg = off")
            c.execute(
                f"CREATE TEMPORARY TABLE bench_plan_x AS {_base_sql(narrow_to_ids=False, expenditure_sums='')}", params
            )
            c.execute("SET LOCAL enable_hashagg = on")
            c.execute("ANALYZE bench_plan_x")
            print(f"expenditure sums: {time.perf_counter() - started:.2f} s")
            if args.no_nestloop:
                c.execute("SET LOCAL enable_nestloop = off")
            explain = "EXPLAIN (ANALYZE, BUFFERS) " if args.analyze else "EXPLAIN "
            started = time.perf_counter()
            c.execute(explain + _stage_sql(narrow_to_ids=False, expenditure_sums="bench_plan_x"), params)
            print("\n".join(r[0] for r in c.fetchall()))
            print(f"({time.perf_counter() - started:.2f} s)")
            raise Rollback
    except Rollback:
        pass


if __name__ == "__main__":
    main()
