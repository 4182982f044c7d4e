"""Income figures on the pages agree with the screening at the line: a per-capita income a fraction
of a fen under the line is shown rounded down (never at the line) and marked 低于监测标准, as the
LOW_INCOME rule (which compares exactly) fires for it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from monitoring.models import Lead
from tests.conftest import World
from tests.factories import IncomeFactory
from tests.monitoring.screening_helpers import LINE, YEAR, household, setup_lines

pytestmark = pytest.mark.django_db


def test_a_fraction_of_a_fen_under_the_line_is_shown_under_it(world: World) -> None:
    setup_lines()
    hh = household()
    # three people, 3 × line − 1 fen: per capita line − 0.00333…, which rounds half-even to the line
    total = LINE * 3 - Decimal("0.01")
    IncomeFactory(
        household=hh, year=YEAR, family_size=3, wage_income=total, business_income=Decimal(0),
        property_income=Decimal(0), transfer_income=Decimal(0),
    )  # fmt: skip
    call_command("screen", year=YEAR, verbosity=0)
    assert Lead.objects.filter(household=hh).exists()  # the rule fires: it is under the line
    page = world.client_for("admin").get(reverse("monitoring:household_detail", args=[hh.pk])).content.decode()
    shown = f"{LINE - Decimal('0.01'):,.2f}"  # 6,999.99 (half-even rounding showed 7,000.00, unmarked)
    assert f'{shown} <span class="badge text-bg-warning">低于监测标准</span>' in page
