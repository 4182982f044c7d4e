"""Shared set-up: a target meeting every 风险消除 criterion on ``TODAY``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from assistance.models import MeasureStatus
from assistance.selectors.elimination import add_months
from monitoring.models import Household, MonitoringTarget
from tests.assistance.factories import TargetMeasureFactory, measure, target_for
from tests.factories import MonitoringLineFactory, VisitFactory, income

TODAY = dt.date(2025, 9, 1)
LINE_YEAR = 2024
LINE = Decimal("7000.00")


def eligible_target(household: Household, *, today: dt.date = TODAY, with_line: bool = True) -> MonitoringTarget:
    """Identified 6 months before ``today``, income at the line, visited last week, one measure running."""
    if with_line:
        MonitoringLineFactory(year=LINE_YEAR, line=LINE)
    target = target_for(household, identified_on=add_months(today, -6))
    income(household, LINE_YEAR, LINE)
    VisitFactory(household=household, visited_on=today - dt.timedelta(days=7))
    TargetMeasureFactory(target=target, measure=measure("MICROCREDIT"), status=MeasureStatus.IN_PROGRESS)
    return target
