"""The 公告 as a sheet: the same rows as the printed page, safe cells, recorded as an export of
personal data (names of households) like the 公示名单's."""

from __future__ import annotations

from typing import IO, Any

from django.db import transaction

from assistance.selectors.announcements import Announcement
from fanpin.core.audit import audit_record, export_record
from fanpin.core.terms import term
from fanpin.core.xlsx import SheetStream
from monitoring.models import ProcedureSetting
from monitoring.services.demo import PROVINCE_CODE as DEMO_PROVINCE_CODE
from monitoring.services.demo import demo_exists
from monitoring.services.procedure import AUDIT_TYPE as PROCEDURE_AUDIT_TYPE

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
        label="公告",
        rows=count,
        region_code=announcement.township.code,
        data={
            "region": announcement.township.code,
            "start": announcement.start.isoformat(),
            "end": announcement.end.isoformat(),
        },
    )
    return count


DEMO_SETTING_REASON = "演示：本省公告不予纳入的农户（演示数据）"


@transaction.atomic
def announcements_demo_prepare() -> bool:
    """The demo province announces its 不予纳入 decisions, so the demo's 公告 shows all three groups.

    Only on the demo's own province (``monitoring.services.demo.PROVINCE_CODE``) and only when the
    province has no setting yet (a setting someone chose is never overwritten); audited like any
    setting change.  Returns whether it wrote the setting."""
    if not demo_exists():
        return False
    _setting, created = ProcedureSetting.objects.select_for_update().get_or_create(
        province_code=DEMO_PROVINCE_CODE, defaults={"announce_rejections": True}
    )
    if not created:
        return False
    # the audit row the settings page writes for the same change (monitoring.services.procedure)
    audit_record(
        actor=None,
        object_type=PROCEDURE_AUDIT_TYPE,
        object_id=DEMO_PROVINCE_CODE,
        region_code=DEMO_PROVINCE_CODE,
        action="set",
        from_state="公告不含不予纳入",
        to_state="公告包含不予纳入",
        reason=DEMO_SETTING_REASON,
        data={"announce_rejections": True},
    )
    return True
