"""What every import kind shares: the handler interface and its helpers (households by
户编号, scope).  The pipeline (``pipeline.py``) drives a handler; each kind's module says what
differs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, ClassVar

from django.db import connection

from fanpin.core.regions import RegionLevel
from monitoring.models import (
    Household,
)
from monitoring.services.bulk import JSON_ARRAY, LOOKUP, chunks, json_list
from monitoring.services.imports.rows import ImportContext, Row

LEVEL_ORDER = [RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY, RegionLevel.TOWNSHIP, RegionLevel.VILLAGE]


class KindHandler:
    kind: ClassVar[str]

    def __init__(self, ctx: ImportContext) -> None:
        self.ctx = ctx

    def authorize(self) -> str:
        """A Chinese refusal when the user may not import this kind at all, else ``""``."""
        if self.ctx.prefix is None:
            return "您的账号没有所属行政区划，不能导入数据。"
        return ""

    def check_row(self, row: Row) -> bool:
        """Checks across the cells of one row; False when the row is bad."""
        return True

    def check_batch(self, rows: list[Row]) -> None:
        pass

    def check_references(self, rows: list[Row]) -> None:
        """Rows with a bad cell: check what references parsed (e.g. 户编号 exists and is in
        scope), so that the answer lists every error of the row at once."""
        if "household_no" not in self.ctx.present or self.kind not in ("members", "incomes"):
            return
        rows = [r for r in rows if r.values.get("household_no")]
        self.households(r.values["household_no"] for r in rows)
        for row in rows:
            self.resolve_household(row)

    def finish(self) -> None:
        pass

    def unchanged(self, positions: dict[str, int]) -> Any:
        """A recogniser of rows that are their stored record (``rows(numbered)`` → number → Row),
        for kinds that have one (members: ``unchanged.MembersUnchanged``); None: every row is parsed."""
        return None

    def bucket(self, row: Row) -> int:
        return 0

    def write_batch(self, rows: list[Row], *, dry_run: bool) -> list[str]:
        raise NotImplementedError

    def touched_villages(self, row: Row) -> list[str]:
        """The village codes of the household a written row changed (screening after the import
        looks at those counties only); empty when the row concerns no household."""
        village = row.refs.get("village_code") or row.values.get("village_code")
        return [village] if village else []

    # helpers ----------------------------------------------------------------------------

    def err(self, row: Row, field_name: str, message: str, value: Any = None) -> None:
        column = self.ctx.spec.column(field_name)
        if value is None:
            value = column.label_of(row.values.get(field_name))
        self.ctx.error(row.number, column.header, value, message)

    def households(self, numbers: Iterable[str]) -> dict[str, tuple[int, str]]:
        """户编号 → (id, village code), cached for the whole file."""
        cache = self.ctx.cache.setdefault("households", {})
        missing = [n for n in set(numbers) if n not in cache]
        for part in chunks(missing, LOOKUP):
            for no, pk, village in _households_by_number(part):
                cache[no] = (pk, village)
        return cache

    def resolve_household(self, row: Row, field_name: str = "household_no") -> bool:
        no = row.values[field_name]
        found = self.ctx.cache["households"].get(no)
        if found is None:
            self.err(row, field_name, f"户编号 {no} 不存在，请先导入农户。")
            return False
        if not self.ctx.in_scope(found[1]):
            self.err(row, field_name, f"户编号 {no} 不在您的管辖范围内。")
            return False
        row.refs["household_id"], row.refs["village_code"] = found
        return True


def _households_by_number(numbers: Sequence[str]) -> Iterator[tuple[str, int, str]]:
    """(户编号, id, village code) of the households of these numbers.  On PostgreSQL one plain
    statement with the numbers as one JSON parameter: the ORM's 700-value ``IN`` for every batch cost
    a 300 000-member import ≈ 0.5 s of Python (docs/benchmarks.md, session 16)."""
    if connection.vendor != "postgresql":
        yield from Household.objects.filter(household_no__in=numbers).values_list("household_no", "id", "village_id")
        return
    # table and column names from the model; the numbers are a parameter
    table = Household._meta.db_table
    sql = f"SELECT household_no, id, village_id FROM {table} WHERE household_no = ANY({JSON_ARRAY})"  # noqa: S608  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(sql, [json_list(numbers)])
        yield from cursor.fetchall()
