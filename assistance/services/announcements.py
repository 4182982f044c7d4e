"""The 公告 as a sheet: the same rows as the printed page, safe cells, recorded as an export of
personal data (names of households) like the 公示名单's."""

from __future__ import annotations

from typing import IO, Any

from assistance.selectors.announcements import Announcement
from fanpin.core.audit import export_record
from fanpin.core.terms import term
from fanpin.core.xlsx import SheetStream

ANNOUNCEMENT_EXPORT_KIND = "announcement"


def announcement_columns() -> list[tuple[str, int]]:
    return [
        ("公告事项", 16),
        ("序号", 6),
        ("村", 14),
        ("户主姓名", 10),
        ("家庭人口", 9),
        ("类别或消除方式", 16),
    ]


def announcement_groups(announcement: Announcement) -> list[tuple[str, str, list[Any]]]:
    """The groups in the order the page prints them, each (title, its last column's header, rows);
    不予纳入 only where the province asks."""
    groups: list[tuple[str, str, list[Any]]] = [
        (f"纳入{term('target')}", f"{term('target')}类别", announcement.identified),
        ("风险消除", "消除方式", announcement.eliminated),
    ]
    if announcement.rejections_announced:
        groups.append(("不予纳入", "审定结果", announcement.rejected))
    return groups


def announcement_xlsx(*, user: Any, announcement: Announcement, output: IO[bytes] | str) -> int:
    """Write the 公告 of one township and period; returns the number of rows (audited)."""
    sheet = SheetStream(output, title="公告", columns=announcement_columns())
    for label, _column, rows in announcement_groups(announcement):
        for n, row in enumerate(rows, start=1):
            sheet.append([label, n, row.village, row.head_name, row.family_size, row.label])
    count = sheet.close()
    export_record(
        actor=user,
        kind=ANNOUNCEMENT_EXPORT_KIND,
        rows=count,
        region_code=announcement.township.code,
        data={
            "region": announcement.township.code,
            "start": announcement.start.isoformat(),
            "end": announcement.end.isoformat(),
        },
    )
    return count
