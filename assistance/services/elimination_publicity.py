"""The village's 风险消除 公示名单 as .xlsx (SPEC §5, §5.6): the printed page's columns only — never
身份证号, phone, bank account or health detail; every cell written safely; the export is audited."""

from __future__ import annotations

from typing import IO, Any

from django.utils import timezone

from assistance.selectors.elimination_steps import elimination_publicity_rows
from fanpin.core.audit import export_record
from fanpin.core.xlsx import SheetStream

PUBLICITY_COLUMNS: list[tuple[str, int]] = [
    ("序号", 6),
    ("户主姓名", 10),
    ("村", 12),
    ("家庭人口数", 10),
    ("类别", 14),
    ("消除方式", 10),
    ("风险消除理由", 48),
    ("公示开始", 12),
    ("公示结束", 12),
]


def elimination_publicity_xlsx(*, user: Any, village_code: str, output: IO[bytes] | str) -> int:
    """Write the list of ``village_code`` (in the user's scope) to ``output``; the number of rows."""
    rows = elimination_publicity_rows(user=user, village_code=village_code, today=timezone.localdate())
    sheet = SheetStream(output, title="风险消除公示名单", columns=PUBLICITY_COLUMNS)
    for i, r in enumerate(rows, start=1):
        sheet.append([i, r.name, r.village, r.family_size, r.category, r.method, r.reason, r.start, r.end])
    count = sheet.close()
    export_record(
        actor=user,
        kind="elimination_publicity",
        label="风险消除公示名单",
        rows=count,
        region_code=village_code,
        data={"region": village_code},
    )
    return count
