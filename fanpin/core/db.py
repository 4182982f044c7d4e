"""Database housekeeping the apps share: planner statistics after bulk writes.

PostgreSQL plans every query from the statistics ``ANALYZE`` gathers (row counts, value
distributions).  A table filled in bulk has none until autovacuum's autoanalyze gets to it, which
lags a large import (and never comes where autovacuum is off): the planner then guesses from the
table's size on disk and picks nested loops over hundreds of thousands of rows.  Measured on a
county of 100 000 demo households: screening took 115 s right after the load and 5.5 s after a
plain ``ANALYZE``.  So every bulk writer analyzes the tables it changed before anything reads them.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from contextlib import nullcontext
from typing import Any

from django.db import DEFAULT_DB_ALIAS, Error, connections, transaction
from django.db.models import Field, Model

logger = logging.getLogger(__name__)


ANALYZE_LOCK_WAIT = "2s"  # another ANALYZE, a VACUUM or an index build holds the table: do without


def tables_analyze(
    *,
    models: Iterable[type[Model]],
    using: str = DEFAULT_DB_ALIAS,
    rows_added: int | None = None,
    skip: Collection[Field] = (),
) -> list[str]:
    """``ANALYZE`` the tables of ``models`` (each once); returns the table names analyzed.

    ``rows_added``: the rows a bulk writer (a screening run raising leads) added to each of them;
    then only the tables where that is more than autoanalyze would wait for — 50 rows and a tenth
    of the rows the planner believes the table has (PostgreSQL's defaults; a table never analyzed
    counts as empty).  So a province's first run analyzes the lead table it filled, and a county's
    run adding a few hundred leads to a large one costs nothing.

    ``skip``: fields of those models whose columns are left to autoanalyze — wide per-row values no
    statement filters, sorts or joins on (a lead's evidence: its statistics were a third of the
    lead table's ``ANALYZE``, docs/benchmarks.md session 18).  The table's row count and every other
    column's statistics are gathered as usual.

    PostgreSQL only.  Outside a transaction each table is analyzed and committed on its own, so the
    statistics are there for the next reader at once and no lock outlives its table; inside one
    (a caller's ``atomic``), the statistics include that transaction's own rows and are kept with its
    commit.  ``ANALYZE`` reads a fixed-size sample (about 30 000 rows a table), so it costs a fraction
    of a second even on millions of rows, and it blocks no reader or writer; it waits at most
    ``ANALYZE_LOCK_WAIT`` for a table another ``ANALYZE``, a ``VACUUM`` or an index build holds.

    On SQLite it does nothing: its planner works without statistics on this schema, its
    ``ANALYZE`` reads every index in full, and statistics could change the plans the test suite runs.

    Best effort: the rows are already written, so a failure (or the wait running out) is logged and
    ``[]`` returned, never raised (inside a transaction it runs in a savepoint, which a failure leaves
    intact, the lock wait restored with it).
    """
    connection = connections[using]
    models = list(models)
    tables = sorted({model._meta.db_table for model in models})
    if not tables or connection.vendor != "postgresql" or (rows_added is not None and rows_added <= 50):
        return []
    savepoint = transaction.atomic(using=using) if connection.in_atomic_block else nullcontext()
    outside = not connection.in_atomic_block
    wait: str | None = None  # the session's own lock wait, while ours is set outside a transaction
    try:
        with savepoint, connection.cursor() as cursor:
            if rows_added is not None:
                cursor.execute(
                    "SELECT relname, GREATEST(reltuples, 0) FROM pg_class WHERE oid = ANY(CAST(%s AS regclass[]))",
                    [[connection.ops.quote_name(table) for table in tables]],
                )
                believed = {name: float(rows) for name, rows in cursor.fetchall()}
                tables = [table for table in tables if rows_added > 50 + 0.1 * believed.get(table, 0.0)]
                if not tables:
                    return []
            cursor.execute("SELECT current_setting('lock_timeout')")
            wait = cursor.fetchone()[0]
            # inside a transaction the savepoint's end (or rollback) keeps or undoes it with the rest
            cursor.execute("SELECT set_config('lock_timeout', %s, false)", [ANALYZE_LOCK_WAIT])
            cursor.execute(f"ANALYZE {', '.join(_analyzed(connection, models, table, skip) for table in tables)}")
            cursor.execute("SELECT set_config('lock_timeout', %s, false)", [wait])
            wait = None
    except Error:
        logger.warning("ANALYZE %s failed; the planner keeps the old statistics", tables, exc_info=True)
        return []
    finally:
        if wait is not None and outside:  # stopped between the two: the session's wait as it was
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('lock_timeout', %s, false)", [wait])
            except Error:
                logger.warning("could not restore lock_timeout", exc_info=True)
    return tables


def _analyzed(connection: Any, models: list[type[Model]], table: str, skip: Collection[Field]) -> str:
    """``table``, or ``table (column, …)`` without the columns of the fields ``skip``."""
    quote = connection.ops.quote_name
    model = next(model for model in models if model._meta.db_table == table)
    skipped = {field.column for field in skip if field.model._meta.db_table == table}
    if not skipped:
        return quote(table)
    columns = [field.column for field in model._meta.concrete_fields if field.column not in skipped]
    return f"{quote(table)} ({', '.join(quote(column) for column in columns)})"
