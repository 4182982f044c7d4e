"""SPEC §4: a successful registry import is followed by a screening run of the counties it changed."""

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


def test_administrator_import_screens_only_the_counties_it_changed(world: World, tmp_path: Path) -> None:
    """An administrator's (or a provincial department's) small file does not screen the province."""
    other = {**ROW, "户编号": "H530101001001"}
    result, delay = run_import(world, tmp_path, [ROW, other], user="admin")
    assert result.ok
    counties, year = delay.call_args.args
    assert year == 2024
    assert counties == ["520101000000", "530101000000"]


def test_the_same_file_again_screens_nothing(world: World, tmp_path: Path) -> None:
    run_import(world, tmp_path, [ROW], user="county")
    result, delay = run_import(world, tmp_path, [ROW], user="county")
    assert result.ok and result.unchanged == 1
    delay.assert_not_called()


def test_alert_upload_screens_the_county_of_the_matched_member_only(world: World, tmp_path: Path) -> None:
    from monitoring.services.imports.jobs import import_file
    from tests.factories import income

    member = world.households["520102001001"].members.get()
    income(world.households["520102001001"], 2024, "9000.00")  # a year to screen
    rows = [
        {"身份证号": member.id_number, "姓名": member.name, "预警类型": "大额医疗支出", "预警日期": "2025-03-01"}
        | {"金额": 30000, "来源部门": "医保"},
        {"身份证号": "11010519491231002X", "姓名": "未登记", "预警类型": "受灾", "预警日期": "2025-03-01"}
        | {"来源部门": "应急管理"},
    ]
    path = kind_sheet(tmp_path / "预警.xlsx", "alerts", rows)
    with mock.patch("monitoring.tasks.screening_after_import_task.delay_on_commit") as delay:
        _job, result = import_file(
            kind="alerts", source=str(path), file_name=path.name, user=world.users["admin"], dry_run=False
        )
    assert result.ok, result.errors
    assert delay.call_args.args[0] == ["520102000000"]  # the unmatched alert changes no household


def test_dry_runs_and_failed_imports_screen_nothing(world: World, tmp_path: Path) -> None:
    _, delay = run_import(world, tmp_path, [ROW], user="county", dry_run=True)
    delay.assert_not_called()
    result, delay = run_import(world, tmp_path, [{**ROW, "家庭人口数": 0}], user="county")
    assert not result.ok
    delay.assert_not_called()


def test_medical_extract_screens_the_county_of_a_member_whose_line_alerted(world: World, tmp_path: Path) -> None:
    from monitoring.services.imports.jobs import import_file
    from tests.factories import income

    hh = world.households["520102001001"]
    income(hh, 2024, "9000.00")
    rows = [
        {"身份证号": hh.members.get().id_number, "年度": 2024, "个人自付医疗费用": 30000},  # ≥ 20 000: alert
        {"身份证号": world.households["520101001001"].members.get().id_number, "年度": 2024, "个人自付医疗费用": 100},
    ]
    path = kind_sheet(tmp_path / "结算.xlsx", "medical", rows)
    with mock.patch("monitoring.tasks.screening_after_import_task.delay_on_commit") as delay:
        _job, result = import_file(
            kind="medical", source=str(path), file_name=path.name, user=world.users["admin"], dry_run=False
        )
    assert result.ok, result.errors
    assert delay.call_args.args[0] == ["520102000000"]  # the line below the threshold changes nothing


def test_a_household_moved_to_another_county_screens_both(world: World, tmp_path: Path) -> None:
    from monitoring.services.imports.jobs import import_file
    from tests.factories import income

    hh = world.households["520101001001"]
    income(hh, 2024, "9000.00")
    row = {"户编号": hh.household_no, "村级区划代码": "520102001001", "户类型": "一般农户"}
    path = kind_sheet(tmp_path / "农户.xlsx", "households", [row])
    with mock.patch("monitoring.tasks.screening_after_import_task.delay_on_commit") as delay:
        _job, result = import_file(
            kind="households", source=str(path), file_name=path.name, user=world.users["admin"], dry_run=False
        )
    assert result.ok, result.errors
    assert delay.call_args.args[0] == ["520101000000", "520102000000"]
