"""Monitoring lines: seeded national figure, ``set_monitoring_line``, provincial override rule."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from fanpin.core.models import AuditEntry
from monitoring.models import MonitoringLine
from monitoring.selectors.lines import monitoring_line_for
from tests.factories import region

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("set_monitoring_line", *args, stdout=out)
    return out.getvalue()


def test_national_2021_line_is_seeded_with_its_source() -> None:
    line = MonitoringLine.objects.get(year=2021, province=None)
    assert line.line == Decimal("6000.00")
    assert "国开发〔2020〕6号" in line.source


def test_poverty_line_times_default_multiplier() -> None:
    out = run("--year", "2024", "--poverty-line", "4800")
    assert MonitoringLine.objects.get(year=2024, province=None).line == Decimal("7200.00")
    assert "7,200.00 元" in out


def test_explicit_line_and_custom_multiplier() -> None:
    run("--year", "2024", "--poverty-line", "5000", "--multiplier", "1.6")
    assert MonitoringLine.objects.get(year=2024, province=None).line == Decimal("8000.00")
    run("--year", "2024", "--line", "7500")
    line = MonitoringLine.objects.get(year=2024, province=None)
    assert (line.line, line.poverty_line, line.multiplier) == (Decimal("7500.00"), None, None)


def test_province_overrides_national_and_may_only_be_higher() -> None:
    region("530000000000", "云南省")
    run("--year", "2024", "--line", "7500")
    run("--year", "2024", "--line", "8700", "--province", "530000000000")
    assert monitoring_line_for(year=2024, province_code="530000000000") == Decimal("8700.00")
    assert monitoring_line_for(year=2024, province_code="520000000000") == Decimal("7500.00")
    with pytest.raises(CommandError, match="省级标准只能高于或等于全国标准"):
        run("--year", "2024", "--line", "7000", "--province", "530000000000")
    assert monitoring_line_for(year=2024, province_code="530000000000") == Decimal("8700.00")


def test_national_line_may_not_rise_above_an_existing_provincial_line() -> None:
    region("530000000000", "云南省")
    run("--year", "2025", "--line", "8700", "--province", "530000000000")
    with pytest.raises(CommandError, match="云南省"):
        run("--year", "2025", "--line", "9000")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--year", "2024", "--line", "abc"], "不是有效的金额"),
        (["--year", "2024", "--line", "-5"], "必须大于 0"),
        (["--year", "2024", "--line", "7000", "--multiplier", "1.5"], "--multiplier"),
        (["--year", "2024", "--line", "7000", "--province", "990000000000"], "不存在"),
    ],
)
def test_bad_input_gives_a_clear_message(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_each_change_is_audited() -> None:
    run("--year", "2024", "--line", "7000", "--source", "某文件")
    run("--year", "2024", "--line", "7100")
    rows = list(AuditEntry.objects.filter(object_type="monitoring_line").order_by("id"))
    assert [(r.from_state, r.to_state) for r in rows] == [("", "7000.00"), ("7000.00", "7100.00")]
