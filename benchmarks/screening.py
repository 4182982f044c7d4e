"""Screening benchmark (issue 4): 1 000 000 households on PostgreSQL, screen the whole province.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fanpin_screening_bench \\
        .venv/bin/python benchmarks/screening.py [--households 1000000] [--regenerate] \\
        [--workers N] [--lower-bound] [--preview-only] [--statistics analyzed|none]

Generates (once; ``--regenerate`` to start over) one province of 100 counties × 10 townships ×
10 villages with ``--households`` households, two members each, incomes for 2024 and 2025 and
rigid expenditures for ~10 % of them, all with ``INSERT … SELECT generate_series`` (no ORM rows).
Then screens the province for 2025 twice (the first run raises the leads, the second refreshes
them): with ``--workers 1`` every county in turn, one transaction each, as ``manage.py screen`` does;
with more, the county runs on that many worker processes, as Celery's prefork workers run them.
``--celery`` (with ``CELERY_BROKER_URL``) takes the production path instead: a real prefork Celery
worker with ``--workers`` processes, the dispatch task's chord of one task per county and its gather.
``--lower-bound`` then times only the writes of the first run (its final lead rows inserted in the
run's batches of counties, one statement per county, with and without their audit rows written from
the insert's ``RETURNING``, into a copy of the lead table with its indexes, checks and foreign keys,
the leads' audit rows emptied first): what any run that raises those leads must spend.
Prints wall time, households/s, peak RSS of this process, and the ratio to the floor: one bare
aggregate query that reads the same household, income and expenditure rows.
``--statistics none`` starts from data as a bulk load leaves it, never analyzed (generated without the
final ``ANALYZE``, or an existing database's planner statistics of the registry tables removed);
the default ``analyzed`` runs ``ANALYZE`` first wherever those statistics are missing.

``--pairs N`` measures against the floors of ``/work/shared/bench`` (``--floors DIR``) instead:
``screening_floor_build.sql`` first if the ``floor`` schema is missing (or ``--build-floor``), then
N pairs A, B of the first run (leads, evidence and audit rows written; the leads of the province
deleted before each) against the write floor (``--first-floor read``: the read floor), and N pairs
of a run with nothing changed against the read floor (after one run that brings the leads up to
date). Fanpin's side is the run's own time, from the creation of its row to its ``finished_at``; the
floors' is psql's ``\\timing`` of their statement. Prints every pair, the ratios and their median,
whether the run rewrote a lead (``xmin``) or wrote audit rows, and fanpin's leads against the write
floor's rows, household by household and rule by rule. ``--province`` and ``--year`` choose another
region (e.g. the demo's 530000000000); ``--only first|again`` one half; ``--fresh-lead-statistics``
resets the lead, run and audit tables to never analyzed before each first run (as right after a
load).  ``--bound`` adds to every first-run pair what no run can do without: its writes alone (as
``--lower-bound``), the read floor, the run's region stage and its SPEC 4.3 decisions timed alone
(the lead table empty, as a first run finds it), and the writes done while another process builds
the stage and evaluates the decisions (the best overlap this machine allows, on three processes);
then the same leads raised with their texts rendered by the run's own expressions (the members'
flags, the decision, the rules, evidence, category, risk types and digest, one statement per batch
of counties with the audit rows, checked text for text against the run's, then the lead table's
``ANALYZE`` as the run does it), on the two workers: once
after the region's stage, once with each batch building a stage of its own first (one worker
evaluating while the other writes); each against the floor of that pair.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import socket
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanpin.settings")
os.environ["DEBUG"] = "0"  # DEBUG would keep every SQL text in memory

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from monitoring.models import Lead, RunTrigger, ScreeningRun  # noqa: E402
from monitoring.selectors.screening import screening_preview  # noqa: E402
from monitoring.services.screening import (  # noqa: E402
    screening_counties_execute,
    screening_county_batches,
    screening_run_create,
    screening_run_execute,
    screening_run_gather,
    screening_run_start,
)

PROVINCE = "610000000000"  # 陕西 code space, synthetic names
YEAR = 2025


# What a registry load fills: the tables whose statistics ``--statistics`` is about.
DATA_TABLES = (
    "monitoring_region",
    "monitoring_household",
    "monitoring_member",
    "monitoring_annualincome",
    "monitoring_rigidexpenditure",
    "monitoring_monitoringline",
)


def statistics_set(analyzed: bool) -> str:
    """Make the registry tables' planner statistics what ``--statistics`` asks for; says what it did.

    ``analyzed``: ``ANALYZE`` the tables that have none (a table never analyzed has ``reltuples`` -1).
    Not ``analyzed``: remove them, as a fresh bulk load leaves a table (no rows in ``pg_statistic``,
    ``reltuples`` -1 and no pages known to be all-visible, so the planner guesses from the size on
    disk); needs a superuser, as on the development machine.  Autovacuum must be off (or slow) for that
    state to last through the run.
    """
    with connection.cursor() as c:
        c.execute(
            "SELECT relname FROM pg_class WHERE relname = ANY(%s) AND relkind = 'r' AND reltuples < 0",
            [list(DATA_TABLES)],
        )
        missing = sorted(r[0] for r in c.fetchall())
        if analyzed:
            if missing:
                c.execute(f"ANALYZE {', '.join(missing)}")
                return f"analyzed {', '.join(missing)}"
            return "already analyzed"
        c.execute(
            "DELETE FROM pg_statistic WHERE starelid IN (SELECT oid FROM pg_class WHERE relname = ANY(%s))",
            [list(DATA_TABLES)],
        )
        c.execute(
            "UPDATE pg_class SET reltuples = -1, relpages = 0, relallvisible = 0 WHERE relname = ANY(%s)"
            " AND relkind = 'r'",
            [list(DATA_TABLES)],
        )
        c.execute("SELECT current_setting('autovacuum')")
        autovacuum = c.fetchone()[0]
    return f"statistics removed (never analyzed; autovacuum {autovacuum})"


def generate(households: int, *, analyze: bool = True) -> None:
    villages = 100 * 10 * 10
    per_village = -(-households // villages)
    with connection.cursor() as c:
        c.execute("SELECT setseed(0.2020)")
        c.execute(
            """
            INSERT INTO monitoring_region (code, name, level, parent_id, is_deep_poverty)
            VALUES ('610000000000', '基准省', 'PROVINCE', NULL, false)
            """
        )
        c.execute(
            """
            INSERT INTO monitoring_region (code, name, level, parent_id, is_deep_poverty)
            SELECT '61' || lpad(ci::text, 2, '0') || '00000000', '基准市' || ci, 'CITY', '610000000000', false
            FROM generate_series(1, 10) ci
            """
        )
        c.execute(
            """
            INSERT INTO monitoring_region (code, name, level, parent_id, is_deep_poverty)
            SELECT '61' || lpad(ci::text, 2, '0') || lpad(co::text, 2, '0') || '000000', '基准县' || ci || '-' || co,
                   'COUNTY', '61' || lpad(ci::text, 2, '0') || '00000000', co = 1
            FROM generate_series(1, 10) ci, generate_series(1, 10) co
            """
        )
        c.execute(
            """
            INSERT INTO monitoring_region (code, name, level, parent_id, is_deep_poverty)
            SELECT substr(r.code, 1, 6) || lpad(t::text, 3, '0') || '000', '乡镇' || t, 'TOWNSHIP', r.code, false
            FROM monitoring_region r, generate_series(1, 10) t WHERE r.level = 'COUNTY'
            """
        )
        c.execute(
            """
            INSERT INTO monitoring_region (code, name, level, parent_id, is_deep_poverty)
            SELECT substr(r.code, 1, 9) || lpad(v::text, 3, '0'), '村' || v, 'VILLAGE', r.code, false
            FROM monitoring_region r, generate_series(1, 10) v WHERE r.level = 'TOWNSHIP'
            """
        )
        c.execute(
            """
            CREATE TEMP TABLE bench_village AS
            SELECT row_number() OVER (ORDER BY code) - 1 AS n, code FROM monitoring_region WHERE level = 'VILLAGE'
            """
        )
        c.execute(
            """
            INSERT INTO monitoring_household
                (household_no, village_id, household_type, exit_year, phone, address, created_at, updated_at)
            SELECT 'B' || lpad(g::text, 9, '0'), v.code,
                   CASE WHEN g %% 10 < 3 THEN 'EXITED' WHEN g %% 10 = 3 THEN 'EDGE' ELSE 'GENERAL' END,
                   CASE WHEN g %% 10 < 3 THEN 2016 + g %% 5 END, '', '', now(), now()
            FROM generate_series(1, %s) g JOIN bench_village v ON v.n = (g - 1) / %s
            """,
            [households, per_village],
        )
        c.execute(
            """
            INSERT INTO monitoring_member
                (household_id, name, id_number, relation, health, disability_grade, labor, schooling, employment,
                 has_medical_insurance)
            SELECT h.id, '成员', lpad((h.id * 2 + k)::text, 18, '0'),
                   CASE WHEN k = 0 THEN 'HEAD' ELSE 'SPOUSE' END,
                   CASE WHEN random() < 0.08 THEN 'CHRONIC' WHEN random() < 0.03 THEN 'DISABLED' ELSE 'HEALTHY' END,
                   '', CASE WHEN random() < 0.8 THEN 'NORMAL' ELSE 'WEAK' END, '', '', true
            FROM monitoring_household h, generate_series(0, 1) k
            """
        )
        c.execute(
            """
            CREATE TEMP TABLE bench_income AS
            SELECT h.id AS household_id, 1 + (h.id % 5)::int AS size,
                   (5000 + random() * 25000)::numeric(14, 2) AS pc_prev,
                   CASE WHEN random() < 0.05 THEN 0.5 + random() * 0.2 ELSE 0.95 + random() * 0.15 END AS change
            FROM monitoring_household h
            """
        )
        c.execute(
            """
            INSERT INTO monitoring_annualincome
                (household_id, year, family_size, wage_income, business_income, property_income, transfer_income)
            SELECT household_id, y, size,
                   round(pc * size * 0.7, 2), round(pc * size * 0.2, 2), round(pc * size * 0.02, 2),
                   round(pc * size, 2) - round(pc * size * 0.7, 2) - round(pc * size * 0.2, 2)
                       - round(pc * size * 0.02, 2)
            FROM (
                SELECT household_id, size, 2024 AS y, pc_prev AS pc FROM bench_income
                UNION ALL
                SELECT household_id, size, 2025, round(pc_prev * change::numeric, 2) FROM bench_income
            ) s
            """
        )
        c.execute(
            """
            INSERT INTO monitoring_rigidexpenditure
                (household_id, member_id, category, occurred_on, amount, reimbursed, note, created_at,
                 source_import, source_alert, source_extract)
            SELECT h.id, NULL,
                   (ARRAY['MEDICAL','MEDICAL','MEDICAL','DISASTER','ACCIDENT','EDUCATION'])[1 + (h.id % 6)::int],
                   DATE '2025-01-01' + (h.id % 365)::int,
                   round((1000 + random() * 60000)::numeric, 2), round((random() * 1000)::numeric, 2), '', now(),
                   true, false, false
            FROM monitoring_household h WHERE random() < 0.10
            """
        )
        c.execute(
            """
            INSERT INTO monitoring_monitoringline
                (year, province_id, poverty_line, multiplier, line, source, updated_at)
            VALUES (2024, NULL, NULL, NULL, 7000.00, '基准', now()), (2025, NULL, NULL, NULL, 7200.00, '基准', now())
            ON CONFLICT DO NOTHING
            """
        )
        if analyze:
            c.execute("ANALYZE")


def floor_query() -> float:
    lo, hi = PROVINCE[:2].ljust(12, "0"), PROVINCE[:2].ljust(12, "9")
    started = time.perf_counter()
    with connection.cursor() as c:
        c.execute(
            """
            SELECT count(*), sum(c.wage_income + c.business_income + c.property_income + c.transfer_income),
                   sum(p.wage_income + p.business_income + p.property_income + p.transfer_income), sum(e.oop)
            FROM monitoring_household h
            LEFT JOIN monitoring_annualincome c ON c.household_id = h.id AND c.year = %s
            LEFT JOIN monitoring_annualincome p ON p.household_id = h.id AND p.year = %s
            LEFT JOIN (
                SELECT household_id, sum(amount - reimbursed) AS oop FROM monitoring_rigidexpenditure
                WHERE occurred_on BETWEEN %s AND %s GROUP BY household_id
            ) e ON e.household_id = h.id
            WHERE h.village_id BETWEEN %s AND %s
            """,
            [YEAR, YEAR - 1, f"{YEAR}-01-01", f"{YEAR}-12-31", lo, hi],
        )
        c.fetchall()
    return time.perf_counter() - started


def _counties(run_ids: list[int]) -> None:
    # as a Celery worker process: its connection is kept from one task to the next (CONN_MAX_AGE)
    screening_counties_execute(run_ids=run_ids)


def _run_all(run: ScreeningRun, workers: int) -> ScreeningRun:
    """``workers`` = 1: as ``manage.py screen`` (every batch of counties in turn).  More: the batches
    the dispatch task enqueues, in parallel on that many database connections, as Celery workers
    with that concurrency would run them."""
    if workers == 1:
        return screening_run_execute(run_id=run.pk)
    batches = screening_county_batches(run=run)
    connection.close()  # the worker processes (forked) open their own connections
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_counties, batches))
    return screening_run_gather(run_id=run.pk)


def screen_once(workers: int) -> tuple[float, dict]:
    """``workers`` = 1: as ``manage.py screen`` (every county in turn).  More: counties in parallel
    on that many database connections, as Celery workers with that concurrency would run them."""
    started = time.perf_counter()
    run = _run_all(screening_run_create(region_code=PROVINCE, year=YEAR, trigger=RunTrigger.COMMAND), workers)
    return time.perf_counter() - started, {"status": run.status, **run.summary}


def celery_worker_start(workers: int) -> subprocess.Popen[bytes]:
    """A real Celery worker (prefork pool, ``workers`` processes) on this database and broker, as
    docker-compose runs it; returns once it answers a ping."""
    from fanpin.celery import app

    env = {**os.environ, "FANPIN_PROCESS_ROLE": "worker"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "fanpin", "worker", "--pool", "prefork",
         "--concurrency", str(workers), "--loglevel", "WARNING", "--hostname", f"bench-{os.getpid()}@%h"],
        cwd=Path(__file__).resolve().parent.parent, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if app.control.ping(destination=[f"bench-{os.getpid()}@{socket.gethostname()}"], timeout=1):
            return worker
    worker.terminate()
    sys.exit("Celery 工作进程 60 秒内没有启动。")


def screen_celery() -> tuple[float, dict]:
    """The production path: ``screening_run_start`` enqueues the dispatch task on commit, which fans
    out one task per county to the worker; the chord's gather finishes the parent run."""
    started = time.perf_counter()
    run = screening_run_start(region_code=PROVINCE, year=YEAR, trigger=RunTrigger.COMMAND)
    while not run.is_finished:
        time.sleep(0.05)
        run.refresh_from_db(fields=["finished_at", "status", "summary"])
    return time.perf_counter() - started, {"status": run.status, **run.summary}


LEAD_COLUMNS = (
    "household_id, village_id, state, sources, rules_fired, evidence, suggested_category, suggested_risk_types, "
    "year, raised_at, last_run_id, rejection_reason, screening_digest"
)


def _write_only(job: tuple[list[tuple[int, int]], bool]) -> None:
    """Insert the final lead rows of a batch of counties from ``bench_lead_stage`` into
    ``bench_lead`` (and, with ``audit``, one audit row each, written from what the insert returns,
    as the run writes them) in one transaction, one statement per county, as the run's batches do:
    the writes of a run with nothing evaluated or decided.  The worker process keeps its connection
    (as a Celery worker)."""
    counties, audit = job
    insert = (
        f"INSERT INTO bench_lead ({LEAD_COLUMNS}) SELECT {LEAD_COLUMNS} FROM bench_lead_stage"
        " WHERE household_id BETWEEN %s AND %s"
    )
    if audit:
        insert = f"""
        WITH raised AS ({insert} RETURNING id, village_id, last_run_id, rules_fired)
        INSERT INTO fanpin_auditentry (actor_id, at, object_type, object_id, region_code, action,
                                       from_state, to_state, reason, data)
        SELECT NULL, now(), 'lead', CAST(raised.id AS VARCHAR(64)), raised.village_id, 'raise', '', 'NEW', '',
               jsonb_build_object('source', 'SCREENING', 'run', raised.last_run_id, 'rules', raised.rules_fired)
        FROM raised
        """
    with transaction.atomic(), connection.cursor() as c:
        for lo, hi in counties:
            c.execute(insert, [lo, hi])


def _stage_build(decide: bool) -> tuple[float, float]:
    """The region's evaluation as a run builds it (its stage, see ``screening_stage_create``) and,
    with ``decide``, the decisions of SPEC 4.3 for every fired household (the members' flags and the
    run's look-ups of targets, open leads and rejections, the expressions the run's county step
    evaluates, read only), each timed, then dropped: what any run must also spend besides its writes.
    Timed while the lead table is empty, as a first run finds it (``bound_begin``)."""
    from monitoring.selectors.screening import rule_settings_for
    from monitoring.selectors.screening_sql import _member_flags_sql, screening_stage_create, screening_stage_drop
    from monitoring.services.screening_staged import _decide_sql

    rules = rule_settings_for(county_code=PROVINCE, year=YEAR)
    screening_stage_drop("bench_stage")  # left by an interrupted measurement
    started = time.perf_counter()
    with transaction.atomic():
        screening_stage_create(table="bench_stage", prefix=PROVINCE[:2], year=YEAR, rules=rules, shared=True)
    staged = time.perf_counter()
    if decide:
        with connection.cursor() as c:
            c.execute(
                f"SELECT COUNT(*), SUM(x.mflags), COUNT(DISTINCT x.act) FROM (SELECT s.hid, "
                f"{_member_flags_sql('s.hid')} AS mflags, {_decide_sql('s')} AS act FROM bench_stage s "
                "WHERE s.action <> '' OFFSET 0) x",
                {"year": YEAR},
            )
    decided = time.perf_counter()
    screening_stage_drop("bench_stage")
    return staged - started, decided - staged


def _raise_sql(stage: str) -> str:
    """One statement raising the leads of the stage's counties between ``%(lo)s`` and ``%(hi)s``
    (6-digit codes) into ``bench_lead`` as the run writes them, and their audit rows: the members'
    flags, the decision of SPEC 4.3, the texts (rules, evidence, category, risk types) and the digest
    computed by the run's own expressions, in one pass (where the run first writes the flags, the
    digest and the decision into its stage county by county)."""
    from monitoring.selectors.screening_sql import _digest_sql, _member_flags_sql, stage_texts
    from monitoring.services.screening_leads import json_cast as _json_cast
    from monitoring.services.screening_staged import _decide_sql

    texts = stage_texts(lambda name: "s.flags" if name == "mflags" else f"s.{name}")
    j = _json_cast()
    evidence = f"%(evidence_head)s || {texts['rules_evidence']} || '}}}}'"
    return f"""
    WITH raised AS (
        INSERT INTO bench_lead ({LEAD_COLUMNS})
        SELECT s.hid, h.village_id, %(state)s, {j.format("%(sources)s")}, {j.format(texts["rules_fired"])},
               {j.format(evidence)}, {texts["category"]}, {j.format(texts["risk_types"])},
               %(year)s, %(now)s, %(run)s, '', {_digest_sql("s.inputs", "s.flags")}
        FROM (SELECT st.*, {_member_flags_sql("st.hid")} AS flags, {_decide_sql("st")} AS act FROM {stage} st
              WHERE st.county BETWEEN %(lo)s AND %(hi)s AND st.action <> '' OFFSET 0) s
        JOIN monitoring_household h ON h.id = s.hid
        WHERE s.act = 'C'
        RETURNING id, village_id, last_run_id, rules_fired)
    INSERT INTO fanpin_auditentry (actor_id, at, object_type, object_id, region_code, action,
                                   from_state, to_state, reason, data)
    SELECT NULL, %(now)s, 'lead', CAST(raised.id AS VARCHAR(64)), raised.village_id, 'raise', '', %(state)s, '',
           jsonb_build_object('source', %(source)s, 'run', raised.last_run_id, 'rules', raised.rules_fired)
    FROM raised
    """  # nosec B608


def _batch_raised(job: tuple[str, str | None]) -> None:
    """The leads of one batch of counties (those below the city code ``prefix``) raised with their
    texts by ``_raise_sql``, in one transaction: from the region's ``stage``, or (``None``) from a
    stage of the batch's own, built first (``_stage_build``'s statement, timed with it)."""
    import json

    from django.utils import timezone

    from monitoring.models import LeadSource, LeadState
    from monitoring.selectors.screening import rule_settings_for
    from monitoring.selectors.screening_sql import screening_stage_create, screening_stage_drop, stage_digest_params

    prefix, stage = job
    rules = rule_settings_for(county_code=PROVINCE, year=YEAR)
    run = ScreeningRun.objects.order_by("-pk").values_list("pk", flat=True).first()
    own = stage is None
    table: str = f"bench_stage_{prefix}" if stage is None else stage
    with transaction.atomic(), connection.cursor() as c:
        if own:
            screening_stage_drop(table)
            screening_stage_create(table=table, prefix=prefix, year=YEAR, rules=rules, shared=True)
        c.execute(
            _raise_sql(table),
            {
                **stage_digest_params(year=YEAR, rules=rules),
                "lo": prefix.ljust(6, "0"),
                "hi": prefix.ljust(6, "9"),
                "year": YEAR,
                "now": timezone.now(),
                "run": run,
                "state": LeadState.NEW.value,
                "source": LeadSource.SCREENING.value,
                "sources": json.dumps([LeadSource.SCREENING.value]),
                "evidence_head": json.dumps({LeadSource.SCREENING.value: {"year": YEAR, "run": run}})[:-2]
                + ',"rules":',
            },
        )
        if own:
            screening_stage_drop(table)


def _audit_rows_delete(c: Any, *object_types: str) -> None:
    """The audit rows of these object types (the audit table's append-only trigger off for this
    delete only — a benchmark database)."""
    c.execute("ALTER TABLE fanpin_auditentry DISABLE TRIGGER fanpin_audit_append_only")
    c.execute("DELETE FROM fanpin_auditentry WHERE object_type = ANY(%s)", [list(object_types)])
    c.execute("ALTER TABLE fanpin_auditentry ENABLE TRIGGER fanpin_audit_append_only")


def _lead_audit_rows_delete(c: Any) -> None:
    """The leads' audit rows, the table vacuumed: as a first run finds it after ``leads_reset``."""
    _audit_rows_delete(c, "lead")
    c.execute("VACUUM ANALYZE fanpin_auditentry")


def bound_begin() -> list[tuple[int, int]]:
    """Before the lower bound's measurements: the first run's leads copied aside
    (``bench_lead_stage``), the lead table and the leads' audit rows emptied, as the run found them.
    Returns each county's household id range."""
    with connection.cursor() as c:
        c.execute("DROP TABLE IF EXISTS bench_lead_stage")
        c.execute("DROP TABLE IF EXISTS bench_lead")
        c.execute(f"CREATE TABLE bench_lead_stage AS SELECT {LEAD_COLUMNS} FROM monitoring_lead")
        c.execute("CREATE INDEX ON bench_lead_stage (household_id)")
        c.execute("ANALYZE bench_lead_stage")
        c.execute("DELETE FROM monitoring_lead")
        c.execute("VACUUM ANALYZE monitoring_lead")
        _lead_audit_rows_delete(c)
        c.execute(
            "SELECT MIN(id), MAX(id) FROM monitoring_household WHERE village_id BETWEEN %s AND %s"
            " GROUP BY SUBSTR(village_id, 1, 6) ORDER BY 1",
            [PROVINCE[:2].ljust(12, "0"), PROVINCE[:2].ljust(12, "9")],
        )
        return list(c.fetchall())


def _bound_table_fresh(c: Any) -> None:
    """``bench_lead``: an empty copy of the lead table with its columns, checks, indexes and foreign
    keys (deferred, as Django makes them), where the lower bound writes — so the lead table itself
    stays as a first run finds it (empty) for the evaluation timed beside the writes; and the audit
    rows of an earlier measurement deleted."""
    c.execute("DROP TABLE IF EXISTS bench_lead")
    c.execute("CREATE TABLE bench_lead (LIKE monitoring_lead INCLUDING ALL)")
    c.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = 'monitoring_lead'::regclass AND contype = 'f'"
    )
    for name, definition in c.fetchall():
        definition = definition.replace("REFERENCES monitoring_lead(", "REFERENCES bench_lead(")
        c.execute(f"ALTER TABLE bench_lead ADD CONSTRAINT bench_{name} {definition}")
    _lead_audit_rows_delete(c)


def bound_end() -> None:
    """After the lower bound's measurements: the first run's leads back in the lead table."""
    with connection.cursor() as c:
        _lead_audit_rows_delete(c)
        c.execute(f"INSERT INTO monitoring_lead ({LEAD_COLUMNS}) SELECT {LEAD_COLUMNS} FROM bench_lead_stage")
        c.execute("DROP TABLE bench_lead_stage")
        c.execute("DROP TABLE IF EXISTS bench_lead")
        c.execute("ANALYZE monitoring_lead")


def write_only(workers: int, counties: list[tuple[int, int]], *, audit: bool, with_stage: bool = False) -> float:
    """The lower bound of a raising run: only the writes (see ``_write_only``), in the run's batches
    of counties (``SCREENING_COUNTIES_PER_TASK``) on ``workers`` processes, between ``bound_begin``
    and ``bound_end``; ``with_stage``: while another process builds the region's stage and evaluates
    its decisions (``_stage_build``)."""
    from django.conf import settings

    with connection.cursor() as c:
        _bound_table_fresh(c)
    size = max(1, int(getattr(settings, "SCREENING_COUNTIES_PER_TASK", 10)))
    jobs = [(counties[start : start + size], audit) for start in range(0, len(counties), size)]
    connection.close()
    with ProcessPoolExecutor(max_workers=workers + with_stage) as pool:
        list(pool.map(int, range(workers + with_stage)))  # the processes started before the clock does
        started = time.perf_counter()
        stage = pool.submit(_stage_build, True) if with_stage else None
        list(pool.map(_write_only, jobs))
        if stage is not None:
            stage.result()
        elapsed = time.perf_counter() - started
    return elapsed


def batch_prefixes() -> list[str]:
    """The code prefix each batch of the run's counties shares (``batches_evaluated_written``): the
    generated province's ten cities of ten counties each; any other region is refused."""
    from django.conf import settings

    size = max(1, int(getattr(settings, "SCREENING_COUNTIES_PER_TASK", 10)))
    with connection.cursor() as c:
        c.execute(
            "SELECT SUBSTR(village_id, 1, 6) FROM monitoring_household WHERE village_id BETWEEN %s AND %s"
            " GROUP BY 1 ORDER BY MIN(id)",
            [PROVINCE[:2].ljust(12, "0"), PROVINCE[:2].ljust(12, "9")],
        )
        counties = [code for (code,) in c.fetchall()]
    batches = [counties[start : start + size] for start in range(0, len(counties), size)]
    if any(batch[0][:4] != batch[-1][:4] for batch in batches):
        sys.exit("--bound: the batches of counties do not each share a city code (the generated province does).")
    return [batch[0][:4] for batch in batches]


def _lead_analyzed_columns(table: str) -> str:
    """``table (column, …)``: the lead table's columns the run analyzes (``screening_gather``: all
    but the evidence)."""
    from fanpin.core.db import _analyzed

    evidence = Lead._meta.get_field("evidence")
    statement = _analyzed(connection, [Lead], Lead._meta.db_table, [evidence])
    return statement.replace(connection.ops.quote_name(Lead._meta.db_table), table, 1)


def leads_raised_bound(workers: int, prefixes: list[str], *, region_stage: bool) -> tuple[float, float]:
    """The lower bound of a first run that renders its leads' texts: per batch of counties (a city,
    ``batch_prefixes``) one statement deciding, rendering and writing its leads with their audit
    rows (``_batch_raised``), the batches on ``workers`` processes.  ``region_stage``: after the
    region's stage (its parallel statement, timed first, as the run does it); else each batch builds
    its own stage first — one worker evaluating while the other writes, the overlap two workers can
    have.  Returns (the region's stage, the rest)."""
    from monitoring.selectors.screening import rule_settings_for
    from monitoring.selectors.screening_sql import screening_stage_create, screening_stage_drop

    with connection.cursor() as c:
        _bound_table_fresh(c)
    staged = 0.0
    if region_stage:
        screening_stage_drop("bench_stage")
        started = time.perf_counter()
        with transaction.atomic():
            screening_stage_create(
                table="bench_stage",
                prefix=PROVINCE[:2],
                year=YEAR,
                rules=rule_settings_for(county_code=PROVINCE, year=YEAR),
                shared=True,
            )
        staged = time.perf_counter() - started
    connection.close()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(int, range(workers)))  # the processes started before the clock does
        started = time.perf_counter()
        list(pool.map(_batch_raised, [(prefix, "bench_stage" if region_stage else None) for prefix in prefixes]))
        # the statistics a first run leaves for the pages that read its leads (issue 21: bulk writers
        # analyze what they wrote before anything reads it): the run's own statement, evidence skipped
        with connection.cursor() as c:
            c.execute(f"ANALYZE {_lead_analyzed_columns('bench_lead')}")
        connection.close()
        elapsed = time.perf_counter() - started
    if region_stage:
        screening_stage_drop("bench_stage")
    with connection.cursor() as c:
        c.execute(  # the run's leads, text for text (but the run's id in the evidence)
            "SELECT COUNT(*), (SELECT COUNT(*) FROM bench_lead_stage) FROM bench_lead b JOIN bench_lead_stage r"
            " USING (household_id) WHERE b.screening_digest = r.screening_digest AND b.rules_fired = r.rules_fired"
            " AND b.suggested_category = r.suggested_category AND b.suggested_risk_types = r.suggested_risk_types"
            " AND b.evidence -> 'SCREENING' -> 'rules' = r.evidence -> 'SCREENING' -> 'rules'"
        )
        same, run = c.fetchone()
        if same != run:
            sys.exit(f"--bound: {same} of the run's {run} leads raised as the run raised them")
    return staged, elapsed


FLOORS = Path("/work/shared/bench")


def psql_seconds(file: Path) -> float:
    """The time psql reports for the longest statement of ``file`` (its ``\\timing``)."""
    settings = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    command = ["psql", "-X", "-q", "-h", settings.get("HOST") or "127.0.0.1", "-p", str(settings.get("PORT") or 5432)]
    command += ["-U", settings.get("USER") or "postgres", "-d", settings["NAME"], "-c", "\\timing on", "-f", str(file)]
    out = subprocess.run([*command, "-o", "/dev/null"], capture_output=True, text=True, check=True, env=env).stdout
    return max(float(ms) for ms in re.findall(r"Time: ([0-9.]+) ms", out)) / 1000


def leads_reset(*, fresh_statistics: bool) -> None:
    """Before a first run: no leads, no runs, no audit rows of either (the audit table's append-only
    trigger is switched off for that delete only — a benchmark database)."""
    tables = ["monitoring_lead", "fanpin_auditentry", "monitoring_screeningrun"]
    with connection.cursor() as c:
        c.execute("DELETE FROM monitoring_lead")
        _audit_rows_delete(c, "lead", "screening_run")
        c.execute("DELETE FROM monitoring_screeningrun")
        for table in tables:
            c.execute(f"VACUUM {'' if fresh_statistics else 'ANALYZE '}{table}")
        if fresh_statistics:  # as right after a load: never analyzed
            c.execute(
                "DELETE FROM pg_statistic WHERE starelid IN (SELECT oid FROM pg_class WHERE relname = ANY(%s))",
                [tables],
            )
            c.execute(
                "UPDATE pg_class SET reltuples = -1, relpages = 0, relallvisible = 0 WHERE relname = ANY(%s)", [tables]
            )
    connection.close()


def run_recorded(province: str, year: int, workers: int) -> tuple[float, dict]:
    """One run as ``screen_once`` does it; the time is the run's own (creation to ``finished_at``)."""
    started = time.perf_counter()
    run = _run_all(screening_run_create(region_code=province, year=year, trigger=RunTrigger.COMMAND), workers)
    wall = time.perf_counter() - started
    run = ScreeningRun.objects.get(pk=run.pk)
    return (run.finished_at - run.created_at).total_seconds(), {"wall": wall, "status": run.status, **run.summary}


def leads_state() -> tuple[int, str, int]:
    with connection.cursor() as c:
        c.execute("SELECT COUNT(*), COALESCE(MAX(CAST(CAST(xmin AS TEXT) AS BIGINT)), 0) FROM monitoring_lead")
        n, xmin = c.fetchone()
        c.execute("SELECT COUNT(*) FROM fanpin_auditentry WHERE object_type = 'lead'")
        return n, str(xmin), c.fetchone()[0]


def compare_with_floor() -> str:
    """Fanpin's open leads against the write floor's rows (``floor.hits_logged``), id by id."""
    codes = {"LOW_INCOME": "low_income", "EXPENDITURE_SPIKE": "spike", "INCOME_DROP": "drop_"}
    with connection.cursor() as c:
        c.execute("SELECT household_id FROM monitoring_lead WHERE state = 'NEW' ORDER BY 1")
        mine = [r[0] for r in c.fetchall()]
        c.execute("SELECT id FROM floor.hits_logged ORDER BY 1")
        floor = [r[0] for r in c.fetchall()]
        differ = " OR ".join(
            f"(l.rules_fired ? '{code}') IS DISTINCT FROM COALESCE(f.{column}, false)" for code, column in codes.items()
        )
        c.execute(
            f"SELECT COUNT(*) FROM floor.hits_logged f JOIN monitoring_lead l ON l.household_id = f.id WHERE {differ}"
        )
        rules_differ = c.fetchone()[0]
    only_mine, only_floor = sorted(set(mine) - set(floor)), sorted(set(floor) - set(mine))
    return (
        f"households: fanpin {len(mine):,}, floor {len(floor):,}; only in fanpin {len(only_mine)} {only_mine[:5]}, "
        f"only in the floor {len(only_floor)} {only_floor[:5]}; the same ids: {mine == floor}; "
        f"households whose rules differ: {rules_differ}"
    )


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def floors_pairs(args: argparse.Namespace) -> None:
    floors = Path(args.floors)
    with connection.cursor() as c:
        c.execute("SELECT to_regclass('floor.household') IS NOT NULL")
        built = c.fetchone()[0]
    if args.build_floor or not built:
        print(f"floor tables built in {psql_seconds(floors / 'screening_floor_build.sql'):.1f} s (longest statement)")
    load = lambda: f"load average {os.getloadavg()[0]:.1f}"  # noqa: E731
    if args.only in (None, "first"):
        ratios: list[float] = []
        bounds: list[float] = []
        batched_bounds: list[float] = []
        for i in range(args.pairs):
            leads_reset(fresh_statistics=args.fresh_lead_statistics)
            mine, summary = run_recorded(args.province, args.year, args.workers)
            floor = psql_seconds(floors / f"screening_floor_{'write' if args.first_floor == 'write' else 'select'}.sql")
            ratios.append(mine / floor)
            print(
                f"first run {i + 1}: fanpin {mine:.2f} s (wall {summary['wall']:.2f} s, {summary['status']}, "
                f"{summary['leads']['raised']:,} leads raised) | {args.first_floor} floor {floor:.2f} s | "
                f"{mine / floor:.2f}× | {load()}",
                flush=True,
            )
            if args.bound:
                counties = bound_begin()
                writes = write_only(args.workers, counties, audit=True)
                read = psql_seconds(floors / "screening_floor_select.sql")
                stage, decisions = _stage_build(True)
                both = write_only(args.workers, counties, audit=True, with_stage=True)
                prefixes = batch_prefixes()
                region_stage, after_stage = leads_raised_bound(args.workers, prefixes, region_stage=True)
                _, batched = leads_raised_bound(args.workers, prefixes, region_stage=False)
                bound_end()
                batched_bounds.append(batched / floor)
                bounds.append(both / floor)
                print(
                    f"  bound {i + 1}: the run's writes alone ({args.workers} workers) {writes:.2f} s "
                    f"{writes / floor:.2f}× | read floor {read:.2f} s | writes + read floor "
                    f"{(writes + read) / floor:.2f}× | the run's stage alone {stage:.2f} s, then its decisions "
                    f"{decisions:.2f} s | the writes with the stage and the decisions at the same time {both:.2f} s "
                    f"{both / floor:.2f}× the {args.first_floor} floor | with the texts rendered: the region's "
                    f"stage {region_stage:.2f} s then the batches {after_stage:.2f} s "
                    f"{(region_stage + after_stage) / floor:.2f}×, each worker evaluating its own batches "
                    f"{batched:.2f} s {batched / floor:.2f}× | {load()}",
                    flush=True,
                )
        print(
            f"first run ÷ {args.first_floor} floor: {' · '.join(f'{r:.2f}' for r in ratios)}; "
            f"median {median(ratios):.2f}"
        )
        if bounds:
            print(
                f"(the writes with the stage and the decisions at the same time) ÷ {args.first_floor} floor: "
                f"{' · '.join(f'{r:.2f}' for r in bounds)}; median {median(bounds):.2f}"
            )
            print(
                f"(the texts rendered, each worker evaluating its own batches) ÷ {args.first_floor} floor: "
                f"{' · '.join(f'{r:.2f}' for r in batched_bounds)}; median {median(batched_bounds):.2f}"
            )
        if args.first_floor == "read":
            psql_seconds(floors / "screening_floor_write.sql")  # its rows, for the comparison
        print(compare_with_floor())
    if args.only in (None, "again"):
        mine, summary = run_recorded(args.province, args.year, args.workers)
        print(f"(run bringing the leads up to date: {mine:.2f} s, {summary['leads']})")
        ratios = []
        for i in range(args.pairs):
            before = leads_state()
            mine, summary = run_recorded(args.province, args.year, args.workers)
            after = leads_state()
            floor = psql_seconds(floors / "screening_floor_select.sql")
            ratios.append(mine / floor)
            print(
                f"again {i + 1}: fanpin {mine:.2f} s (wall {summary['wall']:.2f} s, {summary['leads']}; "
                f"leads {before[0]:,}→{after[0]:,}, a lead row rewritten: {after[1] != before[1]}, "
                f"lead audit rows +{after[2] - before[2]}) | read floor {floor:.2f} s | {mine / floor:.2f}× | {load()}",
                flush=True,
            )
        print(f"again ÷ read floor: {' · '.join(f'{r:.2f}' for r in ratios)}; median {median(ratios):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="counties screened in parallel (default 1)")
    parser.add_argument("--preview-only", action="store_true", help="only the floor and the what-if preview")
    parser.add_argument(
        "--celery",
        action="store_true",
        help="run through a real Celery worker (--workers processes); needs CELERY_BROKER_URL=redis://…",
    )
    parser.add_argument(
        "--lower-bound",
        action="store_true",
        help="after the runs, time only writing the leads raised (with and without their audit rows)",
    )
    parser.add_argument(
        "--statistics",
        choices=["analyzed", "none"],
        default="analyzed",
        help="planner statistics of the registry tables: analyzed (default) or none, as right after a bulk load",
    )
    parser.add_argument("--pairs", type=int, default=0, help="pairs A, B against the floors (see the module doc)")
    parser.add_argument("--floors", default=str(FLOORS), help="the directory of the floors' SQL files")
    parser.add_argument("--build-floor", action="store_true", help="build the floor tables again")
    parser.add_argument("--only", choices=["first", "again"], help="with --pairs: only one half")
    parser.add_argument(
        "--bound",
        action="store_true",
        help="with --pairs: after each first run, its writes alone (see --lower-bound), the read floor, the run's"
        " stage and decisions alone, and the writes while another process builds the stage and decides",
    )
    parser.add_argument(
        "--first-floor", choices=["write", "read"], default="write", help="with --pairs: the floor of the first run"
    )
    parser.add_argument("--province", default=PROVINCE, help="12-digit code of the region screened")
    parser.add_argument("--year", type=int, default=YEAR)
    parser.add_argument(
        "--fresh-lead-statistics",
        action="store_true",
        help="with --pairs: lead, run and audit tables never analyzed before each first run",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("需要 PostgreSQL：请设置 DATABASE_URL=postgres://…/fanpin_screening_bench")
    if args.bound and args.only != "first":
        # the bound leaves the first run's leads without their audit rows: a run with nothing changed
        # measured after it would write into a smaller audit table than it finds in use
        sys.exit("--bound 只与 --pairs N --only first 一起用。")
    if args.regenerate:
        with connection.cursor() as c:
            c.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    call_command("migrate", verbosity=0)
    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM monitoring_household")
        existing = c.fetchone()[0]
    if existing == 0:
        started = time.perf_counter()
        generate(args.households, analyze=args.statistics == "analyzed")
        print(f"generated {args.households:,} households in {time.perf_counter() - started:.1f} s")
    print(f"planner statistics     {statistics_set(args.statistics == 'analyzed')}")
    if args.pairs:
        floors_pairs(args)
        return
    with connection.cursor() as c:
        c.execute("DELETE FROM monitoring_lead")
        c.execute("DELETE FROM monitoring_screeningrun")
        c.execute("VACUUM ANALYZE monitoring_lead")  # start every time from the same, unbloated table
        c.execute("SELECT count(*) FROM monitoring_household")
        households = c.fetchone()[0]

    floor_query()  # warm the cache the same way for both
    floor = min(floor_query() for _ in range(3))
    started = time.perf_counter()
    preview = screening_preview(year=YEAR, prefix=PROVINCE[:2], line=Decimal("7500.00"))
    preview_s = time.perf_counter() - started
    print(f"floor (bare aggregate) {floor:.2f} s   load average {os.getloadavg()[0]:.1f}")
    print(
        f"what-if preview        {preview_s:.2f} s  {preview_s / floor:.1f}× floor  ({len(preview)} counties, "
        f"in scope now {sum(r.current for r in preview):,}, at 7 500 元 {sum(r.proposed for r in preview):,})"
    )
    if args.preview_only:
        return
    if args.celery:
        if not os.environ.get("CELERY_BROKER_URL"):
            sys.exit("--celery 需要 CELERY_BROKER_URL=redis://127.0.0.1:6379/…")
        worker = celery_worker_start(args.workers)
        try:
            first, summary = screen_celery()
            second, summary2 = screen_celery()
        finally:
            worker.terminate()
            worker.wait(timeout=60)
    else:
        first, summary = screen_once(args.workers)
        second, summary2 = screen_once(args.workers)
    rss_mb = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024
    how = "Celery worker processes" if args.celery else "workers"
    print(f"households            {households:,}   {how} {args.workers}   load average {os.getloadavg()[0]:.1f}")
    print(
        f"first run  (raise)     {first:.2f} s  {households / first:,.0f} households/s  "
        f"{first / floor:.1f}× floor  leads raised {summary['leads']['raised']:,}  status {summary['status']}"
    )
    print(
        f"second run (refresh)   {second:.2f} s  {households / second:,.0f} households/s  "
        f"{second / floor:.1f}× floor  leads refreshed {summary2['leads']['refreshed']:,}"
    )
    print(f"peak RSS               {rss_mb:.0f} MB (largest of this process and its workers)")
    print(f"leads in database      {Lead.objects.count():,}")
    print(f"rules                  {summary['rules']}")
    if args.lower_bound:
        counties = bound_begin()
        bare = write_only(args.workers, counties, audit=False)
        audited = write_only(args.workers, counties, audit=True)
        bound_end()
        print(
            f"writes only (no evaluation, no decisions, {summary['leads']['raised']:,} final lead rows): "
            f"leads {bare:.2f} s {bare / floor:.1f}× floor; "
            f"leads + audit rows {audited:.2f} s {audited / floor:.1f}× floor"
        )


if __name__ == "__main__":
    main()
