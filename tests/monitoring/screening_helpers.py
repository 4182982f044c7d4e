"""Shared set-up for the screening tests: one county (520101) in province 52 with a line."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from monitoring.models import Household, HouseholdType, Labor, MonitoringLine, Relation, ScreeningRun
from monitoring.services.screening import screening_run_create, screening_run_execute
from monitoring.services.screening_counties import _counties_write_together as _real_together
from tests.factories import HouseholdFactory, MemberFactory, MonitoringLineFactory, region

COUNTY = "520101000000"
VILLAGE = "520101001001"
OTHER_COUNTY_VILLAGE = "520102001001"
YEAR = 2024
LINE = Decimal("7000.00")


def setup_lines(*, year: int = YEAR, line: Decimal = LINE) -> None:
    region(VILLAGE, "测试村")
    if not MonitoringLine.objects.filter(year=year, province=None).exists():
        MonitoringLineFactory(year=year, line=line)


def household(
    *, village: str = VILLAGE, kind: str = HouseholdType.GENERAL, labor: str = Labor.NORMAL, health: str = "HEALTHY"
) -> Household:
    region(village)
    hh = HouseholdFactory(
        village_id=village, household_type=kind, exit_year=2018 if kind == HouseholdType.EXITED else None
    )
    MemberFactory(household=hh, relation=Relation.HEAD, labor=labor, health=health)
    return hh


def screen(code: str = COUNTY, year: int = YEAR, actor: Any = None) -> ScreeningRun:
    trigger = ScreeningRun.Trigger.MANUAL if actor is not None else ScreeningRun.Trigger.COMMAND
    run = screening_run_create(region_code=code, year=year, trigger=trigger, actor=actor)
    return screening_run_execute(run_id=run.pk)


def together_must_succeed(runs: list[ScreeningRun], stage: Any) -> bool:
    """``_counties_write_together`` for tests where it must not fail (its caller would write the
    counties one by one, and the test would not see the batch's statements): patch it with this."""
    assert _real_together(runs, stage), "writing the batch's counties together failed"
    return True
