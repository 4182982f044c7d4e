"""Screening runs (SPEC §4): create the run rows, execute them, enqueue them.

* ``screening_run_create`` — a run for a county, or for a larger region one parent run with one
  child run per county that has households.
* ``screening_run_execute`` — everything synchronously (``manage.py screen``, tests).
* ``screening_run_start`` / ``screening_schedule_after_import`` / ``screening_scheduled`` — create and
  enqueue on commit.

The county runs are written by ``monitoring.services.screening_counties`` (the stage, batches of
counties) and gathered by ``monitoring.services.screening_gather``; their entry points are
importable from here too.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from fanpin.core.models import User
from fanpin.core.regions import province_code_of
from monitoring.models import Region, RunTrigger, ScreeningRun
from monitoring.selectors.screening import counties_with_households
from monitoring.services.screening_counties import (
    screening_counties_execute,
    screening_county_batches,
    screening_county_execute,
)
from monitoring.services.screening_gather import screening_run_gather

__all__ = [
    "screening_counties_execute",
    "screening_county_batches",
    "screening_county_execute",
    "screening_run_create",
    "screening_run_execute",
    "screening_run_gather",
    "screening_run_start",
    "screening_schedule_after_import",
    "screening_scheduled",
]


def _validate_scope(region_code: str, year: int) -> Region:
    if not 2000 <= year <= 2100:
        raise ValidationError(f"年度 {year} 不在 2000–2100 之间。")
    region = Region.objects.filter(code=region_code).first()
    if region is None:
        raise ValidationError(f"区划代码 {region_code} 不存在。")
    if region.level not in (Region.Level.PROVINCE, Region.Level.CITY, Region.Level.COUNTY):
        raise ValidationError(f"{region.name}是{region.get_level_display()}级：筛查按县进行，请选择县、市或省。")
    return region


@transaction.atomic
def screening_run_create(*, region_code: str, year: int, trigger: str, actor: User | None = None) -> ScreeningRun:
    region = _validate_scope(region_code, year)
    if trigger not in RunTrigger.values:
        raise ValidationError(f"未知的发起方式 {trigger}。")
    started_by = actor if actor is not None and actor.pk else None
    if region.level == Region.Level.COUNTY:
        return ScreeningRun.objects.create(region=region, year=year, trigger=trigger, started_by=started_by)
    counties = counties_with_households(prefix=region.code[: 2 if region.level == Region.Level.PROVINCE else 4])
    if not counties:
        raise ValidationError(f"{region.name}下没有农户数据，无需筛查。请先导入农户数据。")
    parent = ScreeningRun.objects.create(
        region=region, year=year, trigger=trigger, started_by=started_by, counties_total=len(counties)
    )
    ScreeningRun.objects.bulk_create(
        [
            ScreeningRun(region_id=code, year=year, trigger=trigger, started_by=started_by, parent=parent)
            for code in counties
        ]
    )
    return parent


def screening_run_execute(*, run_id: int) -> ScreeningRun:
    """Run everything now, in this process: a county run, or every child of a larger run in turn."""
    run = ScreeningRun.objects.get(pk=run_id)
    if run.counties_total == 1 and not run.children.exists():
        return screening_county_execute(run_id=run_id)
    for batch in screening_county_batches(run=run):
        screening_counties_execute(run_ids=batch)
        screening_run_gather(run_id=run_id)
    return screening_run_gather(run_id=run_id)


def screening_run_start(*, region_code: str, year: int, trigger: str, actor: User | None = None) -> ScreeningRun:
    """Create the run and hand it to Celery once the transaction commits (in-process without a
    broker).  The page then polls the run row."""
    from monitoring.tasks import screening_dispatch_task

    with transaction.atomic():
        run = screening_run_create(region_code=region_code, year=year, trigger=trigger, actor=actor)
        screening_dispatch_task.delay_on_commit(run.pk)
    return run


def screening_schedule_after_import(*, county_codes: Iterable[str], year: int) -> list[int]:
    """The hook for the registry import: screen the counties an import touched, after it commits.

    ``county_codes``: 12-digit county codes (or any code inside a county: it is reduced to its
    county).  Call it inside the import's transaction; runs are enqueued only if it commits.
    Returns the ids of the created runs (one per county; counties without households are skipped).
    """
    codes = sorted({code[:6] + "000000" for code in county_codes if code})
    existing = set(Region.objects.filter(code__in=codes, level=Region.Level.COUNTY).values_list("code", flat=True))
    run_ids = []
    for code in codes:
        if code in existing and counties_with_households(prefix=code[:6]):
            run_ids.append(screening_run_start(region_code=code, year=year, trigger=RunTrigger.IMPORT).pk)
    return run_ids


def screening_scheduled(*, year: int | None = None) -> list[int]:
    """Beat: one run per province that has households, for ``year`` (default: the latest year with
    a national monitoring line not after this year)."""
    from monitoring.models import MonitoringLine

    if year is None:
        this_year = timezone.localdate().year
        year = (
            MonitoringLine.objects.filter(province__isnull=True, year__lte=this_year)
            .order_by("-year")
            .values_list("year", flat=True)
            .first()
        ) or this_year - 1
    provinces = sorted({province_code_of(code) for code in counties_with_households(prefix="")})
    return [
        screening_run_start(region_code=code, year=year, trigger=RunTrigger.SCHEDULE).pk
        for code in provinces
        if Region.objects.filter(code=code).exists()
    ]
