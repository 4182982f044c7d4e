"""``manage.py screen --year Y [--region CODE]``: synchronous, Chinese summary, clear errors."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from monitoring.models import Lead, ScreeningRun
from tests.factories import income
from tests.monitoring.screening_helpers import COUNTY, YEAR, household, setup_lines

pytestmark = pytest.mark.django_db


def test_screen_a_county_prints_summary() -> None:
    setup_lines()
    income(household(), YEAR, "100.00")
    out = StringIO()
    call_command("screen", "--year", str(YEAR), "--region", COUNTY, stdout=out)
    text = out.getvalue()
    assert "筛查已完成" in text
    assert "新增线索 1" in text
    assert "收入低于监测标准：触发 1 户，数据缺失 0 户" in text
    assert Lead.objects.count() == 1
    assert ScreeningRun.objects.get().trigger == "COMMAND"


def test_screen_all_provinces_without_region() -> None:
    setup_lines()
    income(household(), YEAR, "100.00")
    income(household(village="530101001001"), YEAR, "100.00")
    out = StringIO()
    call_command("screen", "--year", str(YEAR), stdout=out)
    assert Lead.objects.count() == 2
    assert out.getvalue().count("筛查已完成") == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--year", "2024", "--region", "52"], "12 位数字"),
        (["--year", "2024", "--region", "529999000000"], "不存在"),
        (["--year", "1999", "--region", COUNTY], "2000–2100"),
        (["--year", "2024", "--region", "520101001000"], "乡镇级"),
    ],
)
def test_bad_input_exits_non_zero_with_message(args: list[str], message: str) -> None:
    setup_lines()
    household()
    from tests.factories import region

    region("520101001000")
    with pytest.raises(CommandError, match=message):
        call_command("screen", *args, stdout=StringIO())
    assert not ScreeningRun.objects.exists()


def test_no_data_at_all_is_an_error() -> None:
    with pytest.raises(CommandError, match="没有农户数据"):
        call_command("screen", "--year", "2024", stdout=StringIO())
