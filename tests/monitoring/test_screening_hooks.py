"""The hooks that start screening: after a registry import, and Celery beat (monthly)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.conf import settings
from django.db import transaction

from monitoring.models import MonitoringLine, RunStatus, ScreeningRun
from monitoring.services.screening import screening_schedule_after_import, screening_scheduled
from tests.factories import MonitoringLineFactory, income
from tests.monitoring.screening_helpers import YEAR, household, setup_lines

pytestmark = pytest.mark.django_db


def test_after_import_creates_one_run_per_county_and_enqueues_on_commit(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    setup_lines()
    income(household(), YEAR, "100.00")
    household(village="520102001001")
    with (
        mock.patch("monitoring.tasks.screening_dispatch_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        ids = screening_schedule_after_import(
            county_codes=["520101001001", "520101000000", "520102000000", "529999000000"], year=YEAR
        )
    runs = ScreeningRun.objects.filter(pk__in=ids).order_by("region_id")
    assert [r.region_id for r in runs] == ["520101000000", "520102000000"]
    assert {r.trigger for r in runs} == {"IMPORT"}
    assert sorted(call.args[0] for call in delay.call_args_list) == sorted(ids)


def test_after_import_enqueues_nothing_when_the_import_rolls_back(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    setup_lines()
    household()
    with (
        mock.patch("monitoring.tasks.screening_dispatch_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        try:
            with transaction.atomic():
                screening_schedule_after_import(county_codes=["520101000000"], year=YEAR)
                raise RuntimeError("导入失败")
        except RuntimeError:
            pass
    delay.assert_not_called()
    assert not ScreeningRun.objects.exists()


def test_scheduled_screens_each_province_for_the_latest_lined_year(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    setup_lines()
    MonitoringLineFactory(year=YEAR - 1)
    MonitoringLine.objects.create(year=2099, line="99999")  # a future year is not screened
    income(household(), YEAR, "100.00")
    income(household(village="530101001001"), YEAR, "100.00")
    with mock.patch("monitoring.tasks.screening_dispatch_task.delay"), django_capture_on_commit_callbacks(execute=True):
        ids = screening_scheduled()
    runs = ScreeningRun.objects.filter(pk__in=ids).order_by("region_id")
    assert [(r.region_id, r.year, r.trigger, r.status) for r in runs] == [
        ("520000000000", YEAR, "SCHEDULE", RunStatus.PENDING),
        ("530000000000", YEAR, "SCHEDULE", RunStatus.PENDING),
    ]


def test_beat_schedule_is_monthly_by_default() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["screening-monthly"]
    assert entry["task"] == "monitoring.tasks.screening_scheduled_task"
    schedule = entry["schedule"]
    assert schedule.day_of_month == {1} and schedule.hour == {2} and schedule.minute == {0}
