"""Helpers of the set-based writers (imports, department alerts, 医保 extracts): chunks of ids for
``__in`` lookups, lists of values as one parameter (PostgreSQL), and the create / update / same
verdict of an upsert."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

CHUNK = 2000  # ids per ``__in`` lookup and rows per bulk statement
# values per lookup by a unique text key (身份证号, 户编号): PostgreSQL walks the unique index for a
# few hundred and for 2 000 may rather read the whole table (docs/benchmarks.md, session 13)
LOOKUP = 500

# PostgreSQL: the elements, as text, of a list passed as one JSON parameter (``json_list``).  For
# ``= ANY(…)`` lookups and for ``INSERT … SELECT`` (in ``ROWS FROM``, cast to the column's type).
# psycopg2 adapts a Python list element by element (≈ 2.4 µs each on the benchmark machine: 7 s of a
# 300 000-member import's 3 M values); ``json.dumps`` writes the same values in a tenth of that, and
# PostgreSQL plans ``ANY`` over the sub-select's array for any length (docs/benchmarks.md, session 15).
JSON_ELEMENTS = "json_array_elements_text(%s::json)"
JSON_ARRAY = f"ARRAY(SELECT {JSON_ELEMENTS})"


def json_list(values: Iterable[str | int | bool | None]) -> str:
    """Text, whole numbers, booleans and None as one JSON array, the parameter of ``JSON_ARRAY`` or
    ``JSON_ELEMENTS`` (each element comes back as its text: 'true', '12'; None as NULL)."""
    return json.dumps(list(values), ensure_ascii=False)


T = TypeVar("T")


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def upsert_actions(
    objs: Sequence[Any], existing: Mapping[Any, Mapping[str, Any]], keys: Sequence[Any], fields: Iterable[str]
) -> tuple[list[str], list[Any], list[Any]]:
    """Per object: "create" (its key is not stored), "update" (a compared field differs) or
    "same"; with the new and the changed objects."""
    fields = list(fields)
    actions: list[str] = []
    new: list[Any] = []
    changed: list[Any] = []
    for obj, key in zip(objs, keys, strict=True):
        old = existing.get(key)
        if old is None:
            actions.append("create")
            new.append(obj)
        elif any(old[f] != getattr(obj, f) for f in fields):
            actions.append("update")
            changed.append(obj)
        else:
            actions.append("same")
    return actions, new, changed
