"""The working-day calendar as data: the administrators' page, the yearly xlsx import in two steps
(upload → preview writing nothing, errors naming row and column → confirm applying exactly the
previewed rows, all or nothing, refused when stale), the template, the admin, audit rows, the
demo's sample."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from fanpin.core.models import AuditEntry
from fanpin.core.roles import Role
from monitoring.models.calendar import CalendarDay, CalendarImportPreview
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
    """Upload (→ the preview page) and, when the preview may be confirmed, confirm it: the whole
    import as an administrator does it.  Returns the upload's answer when it stored no preview,
    the preview page when it cannot be confirmed, else the confirm's answer."""
    response = client.post(reverse("monitoring:calendar_import"), {"year": year, "file": data})
    if response.status_code != 302:
        return response
    preview = CalendarImportPreview.objects.latest("pk")
    assert response["Location"] == reverse("monitoring:calendar_preview", args=[preview.pk])
    if preview.status != "PENDING":
        return client.get(response["Location"])
    return client.post(reverse("monitoring:calendar_preview_confirm", args=[preview.pk]))


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
        (["2027-01-02", '="法定"&"节假日"', "x"], "第 3 行「类型」：不能是公式"),
        ([46389, "法定节假日", "x"], "第 3 行「日期」：“46389”是数字而不是日期"),  # a serial number cell
        (["明年元旦", "法定节假日", "x"], "第 3 行「日期」：“明年元旦”不是有效日期"),
        (["2027年13月1日", "法定节假日", "x"], "第 3 行「日期」：“2027年13月1日”不是有效日期"),
        ([dt.datetime(2028, 1, 1, 0, 0), "法定节假日", "x"], "第 3 行「日期」：2028-01-01 不在 2027 年"),
        (["2026/12/31", "法定节假日", "x"], "第 3 行「日期」：2026-12-31 不在 2027 年"),
        (["", "法定节假日", "x"], "第 3 行「日期」：不能为空"),
        (["2027-10-02", "", "x"], "第 3 行「类型」：不能为空"),
        # Excel's _x0000_: a NUL the preview's JSON cannot hold (PostgreSQL answered 500)
        (["2027-10-01", "法定节假日", "国_x0000_庆"], "第 3 行「名称」：含有无法保存的控制字符"),
        (["2027-10-01", "法定_x0001_节假日", "国庆"], "第 3 行「类型」：含有无法保存的控制字符"),
    ],
)
def test_bad_rows_name_row_and_column_and_write_nothing(admin_client, row, expected) -> None:  # type: ignore[no-untyped-def]
    CalendarDay.objects.create(day=dt.date(2027, 5, 3), kind="HOLIDAY", name="保留")
    data = _sheet([["2027-01-01", "法定节假日", "元旦"], row])
    response = _import(admin_client, 2027, data)  # the preview page: it cannot be confirmed
    assert response.status_code == 200
    page = response.content.decode()
    assert expected in page and "不能导入" in page and 'data-testid="preview-confirm"' not in page
    preview = CalendarImportPreview.objects.get()
    refused = admin_client.post(reverse("monitoring:calendar_preview_confirm", args=[preview.pk]))
    assert refused.status_code == 400 and "文件有 1 处错误，不能导入" in refused.content.decode()
    assert list(CalendarDay.objects.values_list("day", flat=True)) == [dt.date(2027, 5, 3)]
    assert not AuditEntry.objects.filter(object_type="calendar").exists()


def test_duplicate_dates_are_refused(admin_client) -> None:  # type: ignore[no-untyped-def]
    data = _sheet([["2027-01-01", "法定节假日", "元旦"], [dt.datetime(2027, 1, 1), "法定节假日", "元旦"]])
    response = _import(admin_client, 2027, data)
    assert response.status_code == 200 and 'data-testid="preview-confirm"' not in response.content.decode()
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
    admin = world.client_for("admin")
    assert (
        admin.post(
            reverse("monitoring:calendar_import"),
            {"year": 2027, "file": _sheet([["2027-01-01", "法定节假日", "元旦"]])},
        ).status_code
        == 302
    )
    preview = CalendarImportPreview.objects.get()
    assert c.get(reverse("monitoring:calendar_preview", args=[preview.pk])).status_code == 403
    assert c.post(reverse("monitoring:calendar_preview_confirm", args=[preview.pk])).status_code == 403
    assert c.post(reverse("monitoring:calendar_preview_cancel", args=[preview.pk])).status_code == 403
    preview.refresh_from_db()
    assert preview.status == "PENDING" and not CalendarDay.objects.exists()


def test_sample_years_are_marked_and_weekend_workdays(admin_client) -> None:  # type: ignore[no-untyped-def]
    assert calendar_sample_load() > 0
    assert calendar_sample_load() == 0  # once
    assert not CalendarDay.objects.filter(sample=False).exists()
    for days in SAMPLE_DAYS.values():
        for day, kind, _name in days:
            if kind == "WORKDAY":
                assert dt.date.fromisoformat(day).weekday() >= 5, day
    page = admin_client.get(reverse("monitoring:calendar") + "?year=2026").content.decode()
    assert "节假日安排为示例数据，请系统管理员导入正式公布的安排" in page


def test_admin_edit_is_audited_and_refuses_a_weekday_tiaoxiu(admin_client) -> None:  # type: ignore[no-untyped-def]
    url = reverse("admin:monitoring_calendarday_add")
    response = admin_client.post(url, {"day": "2027-03-03", "kind": "WORKDAY", "name": "x"})
    assert response.status_code == 200 and not CalendarDay.objects.exists()
    response = admin_client.post(url, {"day": "2027-03-06", "kind": "WORKDAY", "name": "调休"})
    assert response.status_code == 302
    entry = AuditEntry.objects.get(object_type="calendar", action="edit")
    assert entry.object_id == "2027" and "调休上班" in entry.to_state


# --- upload → preview → confirm ------------------------------------------------------------------


def _upload(client, year: int, rows: list[list[object]], *, name: str = "calendar.xlsx"):  # type: ignore[no-untyped-def]
    data = _sheet(rows)
    data.name = name
    return client.post(reverse("monitoring:calendar_import"), {"year": year, "file": data})


def _confirm(client, preview: CalendarImportPreview):  # type: ignore[no-untyped-def]
    return client.post(reverse("monitoring:calendar_preview_confirm", args=[preview.pk]))


NEW_2027: list[list[object]] = [
    [dt.datetime(2027, 1, 1), "法定节假日", "元旦"],  # unchanged
    ["2027/2/20", "调休上班", "春节调休"],  # added (a Saturday; a text date with slashes)
    ["2027年10月1日", "法定节假日", "国庆"],  # changed name
]


def _stored_2027() -> None:
    CalendarDay.objects.create(day=dt.date(2027, 1, 1), kind="HOLIDAY", name="元旦")
    CalendarDay.objects.create(day=dt.date(2027, 10, 1), kind="HOLIDAY", name="国庆节")
    CalendarDay.objects.create(day=dt.date(2027, 5, 3), kind="HOLIDAY", name="劳动节")  # removed


def test_preview_writes_nothing_and_shows_rows_and_changes(admin_client) -> None:  # type: ignore[no-untyped-def]
    _stored_2027()
    before = list(CalendarDay.objects.order_by("day").values_list("day", "kind", "name", "sample", "updated_at"))
    response = _upload(admin_client, 2027, NEW_2027)
    assert response.status_code == 302
    assert (
        list(CalendarDay.objects.order_by("day").values_list("day", "kind", "name", "sample", "updated_at")) == before
    )
    assert not AuditEntry.objects.filter(object_type="calendar").exists()
    page = admin_client.get(response["Location"]).content.decode()
    assert "这是预览：尚未写入任何数据" in page
    rows = page[page.index('data-testid="preview-rows"') :]
    assert "2027-02-20" in rows and "调休上班" in rows and "春节调休" in rows
    assert 'data-testid="diff-added">1<' in page
    assert 'data-testid="diff-removed">1<' in page
    assert 'data-testid="diff-changed">1<' in page
    assert 'data-testid="diff-unchanged">1<' in page
    assert "国庆节" in page and "2027-05-03" in page  # the changed day's old name, the removed day
    assert 'data-testid="preview-confirm"' in page
    # the calendar page links the pending preview (a GET link: the page crawl reaches it)
    calendar = admin_client.get(reverse("monitoring:calendar") + "?year=2027").content.decode()
    assert reverse("monitoring:calendar_preview", args=[CalendarImportPreview.objects.get().pk]) in calendar


def test_confirm_applies_exactly_the_preview_and_audits(admin_client) -> None:  # type: ignore[no-untyped-def]
    _stored_2027()
    _upload(admin_client, 2027, NEW_2027, name="2027年安排.xlsx")
    preview = CalendarImportPreview.objects.get()
    response = _confirm(admin_client, preview)
    assert response.status_code == 302 and response["Location"].endswith("?year=2027")
    stored = set(CalendarDay.objects.values_list("day", "kind", "name", "sample"))
    assert stored == {
        (dt.date(2027, 1, 1), "HOLIDAY", "元旦", False),
        (dt.date(2027, 2, 20), "WORKDAY", "春节调休", False),
        (dt.date(2027, 10, 1), "HOLIDAY", "国庆", False),
    }
    entry = AuditEntry.objects.get(object_type="calendar", action="import")
    assert entry.object_id == "2027" and entry.actor is not None and entry.actor.username == "admin1"
    assert entry.from_state == "法定节假日 3 天、调休上班 0 天"
    assert entry.to_state == "法定节假日 2 天、调休上班 1 天"
    assert entry.reason == "导入 2027年安排.xlsx"
    assert entry.data["preview"] == preview.pk and entry.data["digest"] == preview.digest
    assert (entry.data["added"], entry.data["removed"], entry.data["changed"], entry.data["unchanged"]) == (1, 1, 1, 1)
    preview.refresh_from_db()
    assert preview.status == "APPLIED" and preview.decided_at is not None
    page = admin_client.get(response["Location"]).content.decode()
    assert "已导入 2027 年节假日安排：法定节假日 2 天、调休上班 1 天" in page
    assert 'data-testid="calendar-pending"' not in page


def test_double_confirm_applies_once_with_a_clear_message(admin_client) -> None:  # type: ignore[no-untyped-def]
    _upload(admin_client, 2027, NEW_2027)
    preview = CalendarImportPreview.objects.get()
    assert _confirm(admin_client, preview).status_code == 302
    CalendarDay.objects.filter(day=dt.date(2027, 1, 1)).update(name="之后改过")  # a change after the import
    again = _confirm(admin_client, preview)
    assert again.status_code == 409
    assert "该预览已于" in again.content.decode() and "确认导入，本次没有再次导入" in again.content.decode()
    assert AuditEntry.objects.filter(object_type="calendar", action="import").count() == 1
    assert CalendarDay.objects.get(day=dt.date(2027, 1, 1)).name == "之后改过"  # not written again


def test_a_stale_preview_is_refused(admin_client) -> None:  # type: ignore[no-untyped-def]
    _stored_2027()
    _upload(admin_client, 2027, NEW_2027)
    first = CalendarImportPreview.objects.get()
    # someone imports the same year meanwhile (here: the same administrator's second upload)
    _upload(admin_client, 2027, [["2027-01-01", "法定节假日", "元旦"]])
    second = CalendarImportPreview.objects.latest("pk")
    assert _confirm(admin_client, second).status_code == 302
    page = admin_client.get(reverse("monitoring:calendar_preview", args=[first.pk])).content.decode()
    assert 'data-testid="preview-stale"' in page and 'data-testid="preview-confirm"' not in page
    refused = _confirm(admin_client, first)
    assert refused.status_code == 409
    assert "预览之后 2027 年的节假日安排已被修改" in refused.content.decode()
    assert "重新上传文件预览" in refused.content.decode()
    assert list(CalendarDay.objects.values_list("day", flat=True)) == [dt.date(2027, 1, 1)]
    assert AuditEntry.objects.filter(object_type="calendar", action="import").count() == 1
    first.refresh_from_db()
    assert first.status == "PENDING"
    # an edit of one day in the admin makes a preview stale too
    _upload(admin_client, 2027, NEW_2027)
    third = CalendarImportPreview.objects.latest("pk")
    day = CalendarDay.objects.get(day=dt.date(2027, 1, 1))
    from monitoring.services.calendar import calendar_day_save

    day.name = "元旦假期"
    calendar_day_save(actor=None, day=day)
    assert _confirm(admin_client, third).status_code == 409


def test_another_year_does_not_make_a_preview_stale(admin_client) -> None:  # type: ignore[no-untyped-def]
    _upload(admin_client, 2027, NEW_2027)
    preview = CalendarImportPreview.objects.get()
    CalendarDay.objects.create(day=dt.date(2026, 10, 8), kind="HOLIDAY", name="国庆节")
    assert _confirm(admin_client, preview).status_code == 302


def test_cancel_discards_and_a_cancelled_preview_cannot_be_confirmed(admin_client) -> None:  # type: ignore[no-untyped-def]
    _upload(admin_client, 2027, NEW_2027)
    preview = CalendarImportPreview.objects.get()
    response = admin_client.post(reverse("monitoring:calendar_preview_cancel", args=[preview.pk]), follow=True)
    assert "已取消 2027 年节假日安排的导入预览，未修改任何数据" in response.content.decode()
    preview.refresh_from_db()
    assert preview.status == "CANCELLED" and preview.rows == []
    refused = _confirm(admin_client, preview)
    assert refused.status_code == 409 and "取消，请重新上传文件" in refused.content.decode()
    assert not CalendarDay.objects.exists() and not AuditEntry.objects.filter(object_type="calendar").exists()
    assert admin_client.get(reverse("monitoring:calendar_preview", args=[preview.pk])).status_code == 200
    # an applied preview cannot be cancelled
    _upload(admin_client, 2027, NEW_2027)
    applied = CalendarImportPreview.objects.latest("pk")
    _confirm(admin_client, applied)
    cancel = admin_client.post(reverse("monitoring:calendar_preview_cancel", args=[applied.pk]))
    assert cancel.status_code == 409 and "已确认导入，不能取消" in cancel.content.decode()
    assert CalendarDay.objects.filter(day__year=2027).count() == 3


def test_another_administrators_preview_is_not_found(admin_client, client) -> None:  # type: ignore[no-untyped-def]
    _upload(admin_client, 2027, NEW_2027)
    preview = CalendarImportPreview.objects.get()
    other = client.__class__()
    other.force_login(user("admin2", Role.ADMIN, None))
    assert other.get(reverse("monitoring:calendar_preview", args=[preview.pk])).status_code == 404
    assert _confirm(other, preview).status_code == 404
    assert other.post(reverse("monitoring:calendar_preview_cancel", args=[preview.pk])).status_code == 404
    assert (
        reverse("monitoring:calendar_preview", args=[preview.pk])
        not in other.get(reverse("monitoring:calendar")).content.decode()
    )
    assert not CalendarDay.objects.exists()


def test_not_an_xlsx_name_is_refused_without_a_preview(admin_client) -> None:  # type: ignore[no-untyped-def]
    response = _upload(admin_client, 2027, NEW_2027, name="安排.xls")
    assert response.status_code == 400 and "只能上传 .xlsx 格式" in response.content.decode()
    assert not CalendarImportPreview.objects.exists()


def test_text_and_datetime_dates_are_read(admin_client) -> None:  # type: ignore[no-untyped-def]
    rows: list[list[object]] = [
        [dt.datetime(2027, 1, 1, 0, 0), "法定节假日", "元旦"],
        ["2027.2.8", "法定节假日", "春节"],
        [" 2027年2月9日 ", "法定节假日", "春节"],
        ["2027-2-10", "法定节假日", "春节"],
    ]
    assert _import(admin_client, 2027, _sheet(rows)).status_code == 302
    assert set(CalendarDay.objects.values_list("day", flat=True)) == {
        dt.date(2027, 1, 1),
        dt.date(2027, 2, 8),
        dt.date(2027, 2, 9),
        dt.date(2027, 2, 10),
    }


def test_a_formula_right_of_a_wrong_dimension_is_still_refused(admin_client) -> None:  # type: ignore[no-untyped-def]
    """Some writers store ``<dimension ref="A1"/>`` whatever the sheet holds: the formula check read
    only column A then, and a formula in 名称 (column C) was previewed as an ordinary row."""
    import re
    import zipfile

    data = _sheet([["2027-01-01", "法定节假日", '=HYPERLINK("http://example.com","元旦")']]).getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            content = zin.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                content = re.sub(rb'<dimension ref="[^"]*" ?/>', b'<dimension ref="A1"/>', content)
            zout.writestr(item, content)
    out.seek(0)
    out.name = "calendar.xlsx"
    response = _import(admin_client, 2027, out)
    page = response.content.decode()
    assert response.status_code == 200 and "第 2 行「名称」：不能是公式" in page
    assert not CalendarDay.objects.filter(day__year=2027).exists()
