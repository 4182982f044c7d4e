"""Transaction-scoped locks on names, for work that has no single row to ``select_for_update``.

``named_locks_acquire`` takes PostgreSQL advisory locks that last until the transaction ends
(re-entrant within a session, taken in sorted order so two callers cannot deadlock).  SQLite has
one writer at a time anyway: there it does nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection


def named_locks_acquire(*, names: Iterable[str]) -> None:
    """Block until this transaction holds the lock of every name (must be inside ``atomic``)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for name in sorted(set(names)):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [name])
