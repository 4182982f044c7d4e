"""The working-day calendar as data: the administrators' page, the yearly xlsx import (all or
nothing, errors naming row and column), the template, the admin, audit rows, the demo's sample."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from fanpin.core.models import AuditEntry
from fanpin.core.roles import Role
from monitoring.models.calendar import CalendarDay
from monitoring.selectors.calendar import WorkingCalendar
from monitoring.services.calendar import SAMPLE_DAYS, calendar_sample_load
from tests.factories import user

pytestmark = pytest.mark.django_db


def _sheet(rows: list[list[object]], *, title_rows: int = 0) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    for _ in range(title_rows):
        ws.append(["2027年节假日安排"])
    ws.append(["日期", "类型", "名称"])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    out.name = "calendar.xlsx"
    return out


@pytest.fixture
def admin_client(client):  # type: ignore[no-untyped-def]
    client.force_login(user("admin1", Role.ADMIN, None))
    return client


def _import(client, year: int, data: io.BytesIO):  # type: ignore[no-untyped-def]
    return client.post(reverse("monitoring:calendar_import"), {"year": year, "file": data})


def test_import_replaces_the_year_and_is_audited(admin_client) -> None:  # type: ignore[no-untyped-def]
    CalendarDay.objects.create(day=dt.date(2027, 3, 1), kind="HOLIDAY", name="旧", sample=True)
    CalendarDay.objects.create(day=dt.date(2026, 3, 2), kind="HOLIDAY", name="另一年")
    data = _sheet(
        [
            [dt.datetime(2027, 1, 1), "法定节假日", "元旦"],
            ["2027-02-20", "调休上班", "春节调休"],  # a Saturday
            ["  2027-10-01 ", "法定节假日", "国庆节"],
        ],
        title_rows=2,
    )
    response = _import(admin_client, 2027, data)
    assert response.status_code == 302
    days = {d.day: d for d in CalendarDay.objects.filter(day__year=2027)}
    assert set(days) == {dt.date(2027, 1, 1), dt.date(2027, 2, 20), dt.date(2027, 10, 1)}
    assert not any(d.sample for d in days.values())
    assert CalendarDay.objects.filter(day=dt.date(2026, 3, 2)).exists()  # another year untouched
    entry = AuditEntry.objects.get(object_type="calendar", action="import")
    assert entry.object_id == "2027"
    assert entry.from_state == "法定节假日 1 天、调休上班 0 天（示例数据）"
    assert entry.to_state == "法定节假日 2 天、调休上班 1 天"
    page = admin_client.get(reverse("monitoring:calendar") + "?year=2027").content.decode()
    assert "春节调休" in page and "调休上班" in page
    history = page[page.index('data-testid="calendar-history"') :]
    assert "<td>导入</td>" in history and "<td>import</td>" not in history


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (["2027-02-30", "法定节假日", "x"], "第 3 行「日期」：“2027-02-30”不是有效日期"),
        (["2027-03-03", "调休上班", "x"], "第 3 行「类型」：2027-03-03 是工作日"),  # a Wednesday
        (["2026-10-01", "法定节假日", "x"], "第 3 行「日期」：2026-10-01 不在 2027 年"),
        (["2027-10-01", "放假", "x"], "第 3 行「类型」：应为“法定节假日”或“调休上班”"),
        (["=DATE(2027,1,1)", "法定节假日", "x"], "第 3 行「日期」：不能是公式"),
    ],
)
def test_bad_rows_name_row_and_column_and_write_nothing(admin_client, row, expected) -> None:  # type: ignore[no-untyped-def]
    CalendarDay.objects.create(day=dt.date(2027, 5, 3), kind="HOLIDAY", name="保留")
    data = _sheet([["2027-01-01", "法定节假日", "元旦"], row])
    response = _import(admin_client, 2027, data)
    assert response.status_code == 400
    assert expected in response.content.decode()
    assert list(CalendarDay.objects.values_list("day", flat=True)) == [dt.date(2027, 5, 3)]
    assert not AuditEntry.objects.filter(object_type="calendar").exists()


def test_duplicate_dates_are_refused(admin_client) -> None:  # type: ignore[no-untyped-def]
    data = _sheet([["2027-01-01", "法定节假日", "元旦"], [dt.datetime(2027, 1, 1), "法定节假日", "元旦"]])
    response = _import(admin_client, 2027, data)
    assert response.status_code == 400
    assert "第 3 行「日期」：2027-01-01 与第 2 行重复" in response.content.decode()
    assert not CalendarDay.objects.exists()


def test_a_weekend_marked_tiaoxiu_is_fine(admin_client) -> None:  # type: ignore[no-untyped-def]
    response = _import(admin_client, 2027, _sheet([["2027-04-25", "调休上班", "劳动节调休"]]))  # a Sunday
    assert response.status_code == 302
    calendar = WorkingCalendar.load(around=dt.date(2027, 4, 25))
    assert calendar.is_working_day(dt.date(2027, 4, 25))


def test_not_a_workbook_and_no_header(admin_client) -> None:  # type: ignore[no-untyped-def]
    bad = io.BytesIO(b"not a workbook")
    bad.name = "x.xlsx"
    assert _import(admin_client, 2027, bad).status_code == 400
    wb = Workbook()
    wb.active.append(["a", "b"])
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    out.name = "x.xlsx"
    response = _import(admin_client, 2027, out)
    assert response.status_code == 400 and "未找到表头" in response.content.decode()


def test_a_huge_file_and_a_zip_bomb_are_refused_before_reading(admin_client) -> None:  # type: ignore[no-untyped-def]
    import zipfile

    huge = io.BytesIO(b"PK" + b"x" * (2 * 1024 * 1024 + 10))
    huge.name = "x.xlsx"
    response = _import(admin_client, 2027, huge)
    assert response.status_code == 400 and "文件过大" in response.content.decode()
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (50 * 1024 * 1024))  # inflates 1 000×
    bomb.seek(0)
    bomb.name = "x.xlsx"
    response = _import(admin_client, 2027, bomb)
    assert response.status_code == 400 and "异常巨大" in response.content.decode()
    assert not CalendarDay.objects.filter(day__year=2027).exists()


def test_template_download_reads_back(admin_client) -> None:  # type: ignore[no-untyped-def]
    response = admin_client.get(reverse("monitoring:calendar_template"))
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in ws[1]] == ["日期", "类型", "名称"]
    assert ws.max_row == 1  # no example rows to import by mistake (they are on the 填写说明 sheet)
    unchanged = io.BytesIO(response.content)
    unchanged.name = "节假日安排模板.xlsx"
    CalendarDay.objects.create(day=dt.date(2027, 1, 1), kind="HOLIDAY", name="元旦")
    refused = _import(admin_client, 2027, unchanged)
    assert refused.status_code == 400 and "表中没有数据行" in refused.content.decode()
    assert CalendarDay.objects.filter(day__year=2027).count() == 1


@pytest.mark.parametrize("role", [Role.COUNTY, Role.PROVINCE, Role.VILLAGE])
def test_only_administrators(client, world, role) -> None:  # type: ignore[no-untyped-def]
    name = {Role.COUNTY: "county", Role.PROVINCE: "province", Role.VILLAGE: "village"}[role]
    c = world.client_for(name)
    assert c.get(reverse("monitoring:calendar")).status_code == 403
    assert c.post(reverse("monitoring:calendar_import"), {"year": 2027}).status_code == 403


def test_sample_years_are_marked_and_weekend_workdays(admin_client) -> None:  # type: ignore[no-untyped-def]
    assert calendar_sample_load() > 0
    assert calendar_sample_load() == 0  # once
    assert not CalendarDay.objects.filter(sample=False).exists()
    for days in SAMPLE_DAYS.values():
        for day, kind, _name in days:
            if kind == "WORKDAY":
                assert dt.date.fromisoformat(day).weekday() >= 5, day
    page = admin_client.get(reverse("monitoring:calendar") + "?year=2026").content.decode()
    assert "节假日安排为示例数据，请导入本省公布的安排" in page


def test_admin_edit_is_audited_and_refuses_a_weekday_tiaoxiu(admin_client) -> None:  # type: ignore[no-untyped-def]
    url = reverse("admin:monitoring_calendarday_add")
    response = admin_client.post(url, {"day": "2027-03-03", "kind": "WORKDAY", "name": "x"})
    assert response.status_code == 200 and not CalendarDay.objects.exists()
    response = admin_client.post(url, {"day": "2027-03-06", "kind": "WORKDAY", "name": "调休"})
    assert response.status_code == 302
    entry = AuditEntry.objects.get(object_type="calendar", action="edit")
    assert entry.object_id == "2027" and "调休上班" in entry.to_state
