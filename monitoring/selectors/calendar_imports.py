"""Reads of the calendar import's preview (SPEC §5.6): the stored year's digest (what a confirm
compares with the preview's), the difference between a preview and the stored year, a user's
pending previews."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fanpin.core.scoping import ObjectOutOfScope
from monitoring.models.calendar import CalendarDay, CalendarDayKind, CalendarImportPreview, CalendarPreviewStatus

KIND_LABELS = dict(CalendarDayKind.choices)
PREVIEW_WHAT = "节假日导入预览"


def calendar_rows_digest(*, rows: Iterable[Sequence[Any]]) -> str:
    """SHA-256 of calendar rows (``(day, kind, name[, sample])``, dates as ``YYYY-MM-DD``), in date order."""
    canonical = sorted([str(c) if isinstance(c, dt.date) else c for c in row] for row in rows)
    return hashlib.sha256(json.dumps(canonical, ensure_ascii=False).encode()).hexdigest()


def calendar_year_digest(*, year: int) -> str:
    """The digest of what is stored for ``year`` (every day, kind, name and the sample flag): any
    import, admin edit or sample load of that year changes it."""
    stored = CalendarDay.objects.filter(day__gte=dt.date(year, 1, 1), day__lte=dt.date(year, 12, 31)).values_list(
        "day", "kind", "name", "sample"
    )
    return calendar_rows_digest(rows=stored)


@dataclass(frozen=True)
class DayChange:
    day: dt.date
    kind: str  # label
    name: str
    before_kind: str = ""  # label, for a changed day
    before_name: str = ""

    @property
    def weekday(self) -> int:
        return self.day.weekday()


@dataclass
class CalendarDiff:
    added: list[DayChange] = field(default_factory=list)
    removed: list[DayChange] = field(default_factory=list)
    changed: list[DayChange] = field(default_factory=list)
    unchanged: int = 0
    stored_sample: bool = False  # the stored year is sample data (imported days are official)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def calendar_preview_diff(*, preview: CalendarImportPreview) -> CalendarDiff:
    """What confirming ``preview`` does to its year as stored now: days added, removed, changed
    (kind or name), unchanged (one query)."""
    year = preview.year
    stored = {
        d.day: d for d in CalendarDay.objects.filter(day__gte=dt.date(year, 1, 1), day__lte=dt.date(year, 12, 31))
    }
    diff = CalendarDiff(stored_sample=any(d.sample for d in stored.values()))
    seen: set[dt.date] = set()
    for raw_day, kind, name in preview.rows:
        day = dt.date.fromisoformat(raw_day)
        seen.add(day)
        before = stored.get(day)
        if before is None:
            diff.added.append(DayChange(day, KIND_LABELS.get(kind, kind), name))
        elif before.kind != kind or before.name != name:
            diff.changed.append(
                DayChange(
                    day, KIND_LABELS.get(kind, kind), name, KIND_LABELS.get(before.kind, before.kind), before.name
                )
            )
        else:
            diff.unchanged += 1
    diff.removed = [
        DayChange(d.day, KIND_LABELS.get(d.kind, d.kind), d.name)
        for day, d in sorted(stored.items())
        if day not in seen
    ]
    diff.added.sort(key=lambda c: c.day)
    diff.changed.sort(key=lambda c: c.day)
    return diff


def calendar_preview_stale(*, preview: CalendarImportPreview) -> bool:
    """The stored year changed since the preview was made (someone imported or edited it)."""
    return calendar_year_digest(year=preview.year) != preview.base_digest


def calendar_preview_get(*, user: Any, pk: int) -> CalendarImportPreview:
    """The user's own preview (another user's, or none: ``ObjectOutOfScope``, 404)."""
    preview = CalendarImportPreview.objects.filter(pk=pk, created_by_id=user.pk).first()
    if preview is None:
        raise ObjectOutOfScope(PREVIEW_WHAT)
    return preview


def calendar_previews_pending(*, user: Any) -> list[CalendarImportPreview]:
    """The user's previews still waiting for 确认导入 or 取消 (newest first), for the calendar page."""
    return list(
        CalendarImportPreview.objects.filter(
            created_by_id=user.pk, status__in=[CalendarPreviewStatus.PENDING, CalendarPreviewStatus.INVALID]
        ).order_by("-created_at", "-id")[:10]
    )
