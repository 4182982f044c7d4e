"""The member import's reads and writes of stored members, by 身份证号, sized for a county's roster.

Measured on a 300 000-member file (docs/benchmarks.md, session 13): PostgreSQL walks the unique
index of 身份证号 for a few hundred numbers (≈ 1 ms) and for 2 000 may rather read the whole member
table (30–50 ms), so members are looked up ``LOOKUP`` numbers at a time; and writing the new and
changed members through model objects and Django's multi-row ``INSERT`` cost 12 s, where one
``INSERT … SELECT`` per batch of the columns as JSON lists (PostgreSQL) takes a fraction of that.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from operator import attrgetter
from typing import Any

from django.db import IntegrityError, connection
from django.db.models import Field

from fanpin.core.masking import personal_text_mask
from monitoring.models import Household, Member, MemberStatus, Relation
from monitoring.services.bulk import CHUNK, JSON_ARRAY, JSON_ELEMENTS, LOOKUP, chunks, json_list
from monitoring.services.imports.rows import RowError

_ID_NUMBER_UNIQUE = "monitoring_member_id_number_key"  # PostgreSQL's name of the unique constraint


# the household's columns a lookup may ask for, by the names ``values()`` gives them
_HOUSEHOLD_COLUMNS = {"household__household_no": "h.household_no", "household__village_id": "h.village_id"}


def _column(name: str) -> str:
    """The member table's column of a field (or of a foreign key's ``_id``)."""
    field = Member._meta.get_field(name)
    if not isinstance(field, Field):  # a reverse relation has no column
        raise ValueError(f"the member table has no column {name}")
    return str(field.column)


def members_by_id_number(id_numbers: Iterable[str], *fields: str) -> Iterator[dict[str, Any]]:
    """The stored members (current or not) of these 身份证号, as ``values(*fields)`` would give
    them (a member's own fields and ``_HOUSEHOLD_COLUMNS``).  On PostgreSQL one plain statement per
    ``LOOKUP`` numbers with the numbers as one array: building the ORM's 500-value ``IN`` cost a
    300 000-member import ≈ 4 s of Python (docs/benchmarks.md, session 14)."""
    if not fields:
        raise ValueError("members_by_id_number reads the fields it is given: name them")
    numbers = sorted(set(id_numbers))
    if connection.vendor != "postgresql":
        for part in chunks(numbers, LOOKUP):
            yield from Member.objects.filter(id_number__in=part).order_by().values(*fields)
        return
    columns = ", ".join(_HOUSEHOLD_COLUMNS.get(name) or f"m.{_column(name)}" for name in fields)
    join = (
        f" JOIN {Household._meta.db_table} h ON h.id = m.household_id"
        if any(name in _HOUSEHOLD_COLUMNS for name in fields)
        else ""
    )
    # table and column names from the models; every value is a parameter
    select = f"SELECT {columns} FROM {Member._meta.db_table} m{join} WHERE"  # noqa: S608  # nosec B608
    for values in _by_numbers(select, numbers):
        yield dict(zip(fields, values, strict=True))


def _by_numbers(select: str, numbers: list[str], params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
    """The rows of ``select`` (ending in ``WHERE`` or ``AND``, with ``params`` for its own
    placeholders) whose ``m.id_number`` is one of ``numbers``: one statement per ``LOOKUP``
    numbers, on PostgreSQL the numbers as one array, elsewhere as an ``IN`` list."""
    with connection.cursor() as cursor:
        for part in chunks(numbers, LOOKUP):
            if connection.vendor == "postgresql":
                cursor.execute(f"{select} m.id_number = ANY({JSON_ARRAY})", [*params, json_list(part)])
            else:
                cursor.execute(f"{select} m.id_number IN ({', '.join(['%s'] * len(part))})", [*params, *part])
            yield from cursor.fetchall()


# what a member import's sheet shows of a stored member, in this order (成员状态 apart): the
# field name the import parses each column to → where it is stored
SHEET_FIELDS = {
    "household_no": "h.household_no",
    "name": "m.name",
    "id_number": "m.id_number",
    "relation": "m.relation",
    "health": "m.health",
    "disability_grade": "m.disability_grade",
    "labor": "m.labor",
    "schooling": "m.schooling",
    "employment": "m.employment",
    "has_medical_insurance": "m.has_medical_insurance",
}


def members_as_sheet(id_numbers: Iterable[str]) -> Iterator[tuple[Any, ...]]:
    """The stored members (current or not) of these 身份证号, each as (household id, village code,
    status, then the ``SHEET_FIELDS`` in order), one query per ``LOOKUP`` numbers.  Plain SQL: the
    ORM's handling of a 500-value ``IN`` cost more than the statement (1.5 s of Python for a
    300 000-member file)."""
    member, household = Member._meta.db_table, Household._meta.db_table
    columns = ", ".join(SHEET_FIELDS.values())
    # table and column names from the models and SHEET_FIELDS; every value is a parameter
    select = (
        f"SELECT m.household_id, h.village_id, m.status, {columns} FROM {member} m"  # noqa: S608  # nosec B608
        f" JOIN {household} h ON h.id = m.household_id WHERE"
    )
    yield from _by_numbers(select, sorted(set(id_numbers)))


def heads_current(household_ids: Sequence[int]) -> Iterator[tuple[int, str]]:
    """(household id, 身份证号) of the current 户主 of these households.  On PostgreSQL one plain
    statement per ``CHUNK`` ids with the ids as one JSON parameter: the ORM's 2 000-value ``IN`` cost
    a 300 000-member import ≈ 0.4 s of Python (docs/benchmarks.md, session 16)."""
    if connection.vendor != "postgresql":
        for part in chunks(sorted(set(household_ids))):
            yield from (
                Member.objects.current()
                .filter(household_id__in=part, relation=Relation.HEAD)
                .values_list("household_id", "id_number")
            )
        return
    # table and column names from the model; every value is a parameter
    sql = (
        f"SELECT household_id, id_number FROM {Member._meta.db_table}"  # noqa: S608  # nosec B608
        f" WHERE status = %s AND relation = %s AND household_id = ANY(ARRAY(SELECT {JSON_ELEMENTS}::bigint))"
    )
    with connection.cursor() as cursor:
        for part in chunks(sorted(set(household_ids))):
            cursor.execute(sql, [MemberStatus.ACTIVE.value, Relation.HEAD.value, json_list(part)])
            yield from cursor.fetchall()


# the columns an import writes, with their type in PostgreSQL (a new member is 在册: ``status`` has
# its database default); ``MembersHandler.FIELDS`` is these but the key
WRITTEN = {
    "household_id": "bigint",
    "name": "text",
    "id_number": "text",
    "relation": "text",
    "health": "text",
    "disability_grade": "text",
    "labor": "text",
    "schooling": "text",
    "employment": "text",
    "has_medical_insurance": "boolean",
}


class MemberStoredMeanwhile(IntegrityError):
    """A new member's 身份证号 was stored by someone else after the import read the members (the
    write then fails as a whole); ``id_number`` is that number, ``row`` the file's row (set by the
    caller, which knows the rows).  ``row_error`` is what the import's answer says of it."""

    def __init__(self, id_number: str) -> None:
        super().__init__(f"member {id_number[:6]}… stored meanwhile")
        self.id_number = id_number
        self.row = 0

    @property
    def row_error(self) -> RowError:
        return RowError(
            self.row,
            "身份证号",
            personal_text_mask(header="身份证号", text=self.id_number),
            "该身份证号在本次导入核对之后已由他人录入系统，导入已全部撤销，未写入任何数据；"
            "请重新导入，系统将按已录入的成员重新核对。",
        )


_STORED_ALREADY = re.compile(r"\(id_number\)=\(([^)]*)\)")


def _values_not_null(rows: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
    """Each row's ``WRITTEN`` values; a None is refused (every written column is NOT NULL, and CSV
    would carry it as the empty text)."""
    values = attrgetter(*WRITTEN)
    for row in rows:
        got = values(row)
        if None in got:
            raise IntegrityError(f"members_create: {dict(zip(WRITTEN, got, strict=True))} has an empty (None) value")
        yield got


def members_create(rows: Sequence[Any]) -> None:
    """Insert these new members (objects with the ``WRITTEN`` attributes; 在册).  On PostgreSQL by
    ``COPY``: a 300 000-member roster's first import spent ≈ 15 s in the upsert's ``INSERT … SELECT
    … ON CONFLICT`` where ``COPY`` of the same rows takes ≈ 10 s (docs/benchmarks.md, session 15).
    The rows are members the import found no stored member for in its write transaction; a
    身份证号 stored meanwhile by someone else makes the statement fail (a ``DatabaseError``: the
    import writes nothing and says so) instead of overwriting that member."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        Member.objects.bulk_create(
            [Member(**{name: getattr(r, name) for name in WRITTEN}) for r in rows], batch_size=CHUNK
        )
        return
    buffer = io.StringIO()
    # every value quoted: an unquoted empty field would be NULL, a quoted one is the empty text;
    # quotes and line breaks inside a value are CSV's to carry
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(_values_not_null(rows))
    buffer.seek(0)
    # table and column names from the model
    sql = f"COPY {Member._meta.db_table} ({', '.join(WRITTEN)}) FROM STDIN WITH (FORMAT csv)"
    try:
        # psycopg2's own cursor (``copy_expert``), its errors made Django's as every statement's are
        with connection.cursor() as cursor, connection.wrap_database_errors:
            cursor.cursor.copy_expert(sql, buffer, size=1 << 20)
    except IntegrityError as exc:
        diag = getattr(exc.__cause__, "diag", None)
        stored = _STORED_ALREADY.search(getattr(diag, "message_detail", "") or "")
        if stored and getattr(diag, "constraint_name", "") == _ID_NUMBER_UNIQUE:
            raise MemberStoredMeanwhile(stored[1]) from exc
        raise


def members_upsert(rows: Sequence[Any], *, update_fields: Sequence[str]) -> None:
    """Write these members (objects with the ``WRITTEN`` attributes): a new 身份证号 is inserted,
    a stored one gets ``update_fields`` — as ``bulk_create(update_conflicts=True)`` does."""
    if not set(update_fields) <= set(WRITTEN):  # a field not written would be set to its default
        raise ValueError(f"members_upsert writes {list(WRITTEN)}, not {update_fields}")
    if not rows:
        return
    if connection.vendor != "postgresql":
        Member.objects.bulk_create(
            [Member(**{name: getattr(r, name) for name in WRITTEN}) for r in rows],
            update_conflicts=True,
            unique_fields=["id_number"],
            update_fields=list(update_fields),
            batch_size=CHUNK,
        )
        return
    table = Member._meta.db_table
    columns = ", ".join(WRITTEN)
    lists = ", ".join([JSON_ELEMENTS] * len(WRITTEN))
    typed = ", ".join(f"v.{name}::{kind}" for name, kind in WRITTEN.items())
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in update_fields)
    # table and column names from the model; every value is a parameter
    sql = (
        f"INSERT INTO {table} ({columns}) SELECT {typed}"  # noqa: S608  # nosec B608
        f" FROM ROWS FROM ({lists}) AS v({columns}) ON CONFLICT (id_number) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        for part in chunks(rows, CHUNK):
            cursor.execute(sql, [json_list([getattr(r, name) for r in part]) for name in WRITTEN])
