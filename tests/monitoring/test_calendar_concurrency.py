"""Two confirms at once of calendar import previews: one import, never two.

The same preview confirmed twice at once: the preview's row lock makes the second wait and find it
已导入.  Two previews of one year with nothing stored yet (no row to lock): the year's named lock
makes the second wait and find the year changed since its preview.  Real threads with their own
connections: PostgreSQL, or SQLite in a file (SQLITE_TEST_NAME)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from fanpin.core.models import AuditEntry
from monitoring.models.calendar import CalendarDay
from monitoring.services.calendar import CalendarImportOutcome, calendar_import_confirm, calendar_import_preview
from tests.conftest import World
from tests.monitoring.test_review_concurrency import _shared_database, race

pytestmark = [pytest.mark.django_db(transaction=True)]
__all__ = ["_shared_database"]  # the fixture that skips on in-memory SQLite


def _sheet(rows: list[list[object]]) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.append(["日期", "类型", "名称"])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out


def test_one_preview_confirmed_twice_at_once_imports_once(world: World) -> None:
    admin = world.users["admin"]
    preview = calendar_import_preview(actor=admin, year=2029, source=_sheet([["2029-01-01", "法定节假日", "元旦"]]))
    results = race(
        lambda: calendar_import_confirm(actor=admin, preview_id=preview.pk),
        lambda: calendar_import_confirm(actor=admin, preview_id=preview.pk),
    )
    done = [r for r in results if isinstance(r, CalendarImportOutcome)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(done) == 1 and len(refused) == 1, results
    assert "确认导入，本次没有再次导入" in refused[0].messages[0]
    assert AuditEntry.objects.filter(object_type="calendar", action="import").count() == 1


def test_two_previews_of_an_empty_year_confirmed_at_once_import_one(world: World) -> None:
    admin = world.users["admin"]
    first = calendar_import_preview(actor=admin, year=2029, source=_sheet([["2029-01-01", "法定节假日", "元旦"]]))
    second = calendar_import_preview(actor=admin, year=2029, source=_sheet([["2029-10-01", "法定节假日", "国庆"]]))
    results = race(
        lambda: calendar_import_confirm(actor=admin, preview_id=first.pk),
        lambda: calendar_import_confirm(actor=admin, preview_id=second.pk),
    )
    done = [r for r in results if isinstance(r, CalendarImportOutcome)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(done) == 1 and len(refused) == 1, results
    assert "预览之后 2029 年的节假日安排已被修改" in refused[0].messages[0]
    assert CalendarDay.objects.filter(day__year=2029).count() == 1
    assert CalendarDay.objects.get(day__year=2029).day in (dt.date(2029, 1, 1), dt.date(2029, 10, 1))
    assert AuditEntry.objects.filter(object_type="calendar", action="import").count() == 1
