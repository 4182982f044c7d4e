"""Helpers of the set-based writers (imports, department alerts, 医保 extracts): chunks of ids for
``__in`` lookups, and the create / update / same verdict of an upsert."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

CHUNK = 2000  # ids per ``__in`` lookup and rows per bulk statement

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
