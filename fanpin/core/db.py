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
from collections.abc import Iterable
from contextlib import nullcontext

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.models import Model

logger = logging.getLogger(__name__)


def tables_analyze(*, models: Iterable[type[Model]], using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """``ANALYZE`` the tables of ``models`` (each once); returns the table names analyzed.

    PostgreSQL only.  Outside a transaction each table is analyzed and committed on its own, so the
    statistics are there for the next reader at once and no lock outlives its table; inside one
    (a caller's ``atomic``), the statistics include that transaction's own rows and are kept with its
    commit.  ``ANALYZE`` reads a fixed-size sample (about 30 000 rows a table), so it costs a fraction
    of a second even on millions of rows, and it blocks no reader or writer.

    On SQLite it does nothing: its planner works without statistics on this schema, its
    ``ANALYZE`` reads every index in full, and statistics could change the plans the test suite runs.

    Best effort: the rows are already written, so a failure is logged and ``[]`` returned, never
    raised (inside a transaction it runs in a savepoint, which a failure leaves intact).
    """
    connection = connections[using]
    tables = sorted({model._meta.db_table for model in models})
    if not tables or connection.vendor != "postgresql":
        return []
    quoted = ", ".join(connection.ops.quote_name(table) for table in tables)
    savepoint = transaction.atomic(using=using) if connection.in_atomic_block else nullcontext()
    try:
        with savepoint, connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {quoted}")
    except DatabaseError:
        logger.warning("ANALYZE %s failed; the planner keeps the old statistics", quoted, exc_info=True)
        return []
    return tables


def tables_analyze_if_grown(
    *, models: Iterable[type[Model]], rows_added: int, using: str = DEFAULT_DB_ALIAS
) -> list[str]:
    """``tables_analyze`` of the tables of ``models`` to which a bulk writer (a screening run raising
    leads) added ``rows_added`` rows, each only where that is more than autoanalyze would wait for:
    50 rows and a tenth of the rows the planner believes the table has (PostgreSQL's defaults; a table
    never analyzed counts as empty).  So a province's first run analyzes the lead table it filled,
    and a county's run adding a few hundred leads to a large one costs nothing."""
    connection = connections[using]
    if rows_added <= 50 or connection.vendor != "postgresql":
        return []
    tables = {model._meta.db_table: model for model in models}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, GREATEST(reltuples, 0) FROM pg_class"
            " WHERE relkind = 'r' AND relnamespace = current_schema()::regnamespace AND relname = ANY(%s)",
            [sorted(tables)],
        )
        believed = {name: float(rows) for name, rows in cursor.fetchall()}
    grown = [model for table, model in tables.items() if rows_added > 50 + 0.1 * believed.get(table, 0.0)]
    return tables_analyze(models=grown, using=using)
