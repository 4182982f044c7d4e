"""SPEC §4: a successful registry import is followed by a screening run of the importer's counties."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest

from monitoring.services.imports.jobs import import_file
from tests.conftest import World
from tests.monitoring.xlsx import kind_sheet

pytestmark = pytest.mark.django_db

ROW = {"户编号": "H520101001001", "年度": 2024, "家庭人口数": 3, "工资性收入": 100}
ROW |= {"生产经营净收入": 0, "财产净收入": 0, "转移净收入": 0}


def run_import(world: World, tmp_path: Path, rows: list[dict[str, object]], *, user: str, dry_run: bool = False):  # type: ignore[no-untyped-def]
    path = kind_sheet(tmp_path / "收入.xlsx", "incomes", rows)
    with mock.patch("monitoring.tasks.screening_after_import_task.delay_on_commit") as delay:
        _job, result = import_file(
            kind="incomes", source=str(path), file_name=path.name, user=world.users[user], dry_run=dry_run
        )
    return result, delay


def test_county_import_screens_its_county_for_the_latest_year(world: World, tmp_path: Path) -> None:
    result, delay = run_import(world, tmp_path, [ROW, {**ROW, "年度": 2025}], user="county")
    assert result.ok
    delay.assert_called_once_with(["520101000000"], 2025)


def test_administrator_import_screens_every_county_with_households(world: World, tmp_path: Path) -> None:
    result, delay = run_import(world, tmp_path, [ROW], user="admin")
    assert result.ok
    counties, year = delay.call_args.args
    assert year == 2024
    assert counties == ["520101000000", "520102000000", "520201000000", "530101000000"]


def test_dry_runs_and_failed_imports_screen_nothing(world: World, tmp_path: Path) -> None:
    _, delay = run_import(world, tmp_path, [ROW], user="county", dry_run=True)
    delay.assert_not_called()
    result, delay = run_import(world, tmp_path, [{**ROW, "家庭人口数": 0}], user="county")
    assert not result.ok
    delay.assert_not_called()
