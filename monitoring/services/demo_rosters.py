"""A small 民政 roster for the demo: 低保, 特困, 低保边缘 and 刚性支出困难 lines of the
first county, written through the real service (``rosters_write``), so that the household page,
the roster list, the dashboard's overlap panel and the cadre's due list show both populations.

Low-income households of the 2025 data are taken first (screening makes many of them targets: the
overlap), every other one of them left without 低保/特困 (the dashboard's work list), a few others
get 低保边缘 / 刚性支出困难 (low-income but no target), one line has ended, and two lines name
persons the registry does not hold (未匹配, kept for the county).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.db.models import F

from fanpin.core.idcard import id_check_digit
from monitoring.models import AnnualIncome, AssistanceCategory, Member, Relation
from monitoring.services.rosters import RosterLine, rosters_write

ROSTER_START = dt.date(2025, 7, 1)
AMOUNTS = {
    AssistanceCategory.SUBSISTENCE: Decimal("450.00"),
    AssistanceCategory.DESTITUTE: Decimal("780.00"),
    AssistanceCategory.NEAR_SUBSISTENCE: None,
    AssistanceCategory.RIGID_HARDSHIP: Decimal("300.00"),
}


def demo_roster_write(*, county: str, line: Decimal, seed: int = 2020, size: int = 40) -> int:
    """Write the demo roster of ``county`` (about ``size`` lines); returns the number of lines."""
    rng = random.Random(seed + 19)  # noqa: S311 - demo data
    prefix = county[:6]
    low = list(
        AnnualIncome.objects.filter(household__village__code__startswith=prefix, year=2025)
        .filter(total_fen__lt=F("family_size") * int(line * 100))
        .order_by("household_id")
        .values_list("household_id", flat=True)[: size // 2]
    )
    others = list(
        AnnualIncome.objects.filter(household__village__code__startswith=prefix, year=2025)
        .exclude(household_id__in=low)
        .order_by("household_id")
        .values_list("household_id", flat=True)[: size * 5 : 10]
    )[: size // 2]
    heads = dict(
        Member.objects.current()
        .filter(household_id__in=[*low, *others], relation=Relation.HEAD)
        .values_list("household_id", "id")
    )
    people = dict(Member.objects.filter(pk__in=heads.values()).values_list("pk", "id_number"))
    names = dict(Member.objects.filter(pk__in=heads.values()).values_list("pk", "name"))
    items: list[dict[str, Any]] = []

    def add(member_id: int, category: str, *, end: dt.date | None = None) -> None:
        items.append(
            {
                "id_number": people[member_id],
                "name": names[member_id],
                "category": category,
                "start_date": ROSTER_START + dt.timedelta(days=rng.randrange(0, 120)),
                "end_date": end,
                "monthly_amount": AMOUNTS[AssistanceCategory(category)],
            }
        )

    for n, household_id in enumerate(low):
        if household_id in heads and n % 2 == 0:
            add(heads[household_id], AssistanceCategory.DESTITUTE if n % 6 == 0 else AssistanceCategory.SUBSISTENCE)
    for n, household_id in enumerate(others):
        if household_id not in heads:
            continue
        category = AssistanceCategory.NEAR_SUBSISTENCE if n % 2 else AssistanceCategory.RIGID_HARDSHIP
        add(heads[household_id], category, end=dt.date(2025, 12, 31) if n == 0 else None)
    for n in range(2):  # persons the registry does not hold: kept as 未匹配 for the county
        body = f"{prefix}1960010{n + 1}{rng.randrange(100, 999)}"
        items.append(
            {
                "id_number": body + id_check_digit(body),
                "name": "未登记人员",
                "category": AssistanceCategory.SUBSISTENCE,
                "start_date": ROSTER_START,
                "end_date": None,
                "monthly_amount": AMOUNTS[AssistanceCategory.SUBSISTENCE],
            }
        )
    lines = [RosterLine(n, item) for n, item in enumerate(items, start=1)]
    rosters_write(user=None, lines=lines, dry_run=False)
    return len(lines)
