from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction

from fanpin.core.regions import region_level_of, region_parent_code
from monitoring.models import Region

_CODE_RE = re.compile(r"^[0-9]{12}$")


def region_code_validate(code: str) -> str:
    code = code.strip()
    if not _CODE_RE.match(code):
        raise ValidationError(f"区划代码“{code}”应为 12 位数字。")
    return code


@transaction.atomic
def region_upsert(*, code: str, name: str, is_deep_poverty: bool = False) -> tuple[Region, bool]:
    """Create or update a region; its level and parent follow from the code (SPEC §2)."""
    code = region_code_validate(code)
    level = region_level_of(code)
    parent_code = region_parent_code(code)
    if parent_code is not None and not Region.objects.filter(code=parent_code).exists():
        raise ValidationError(f"区划代码 {code} 的上级区划 {parent_code} 不存在，请先导入上级区划。")
    if is_deep_poverty and level != Region.Level.COUNTY:
        raise ValidationError(f"只有县级区划可以标记为深度贫困地区（{code} 是{Region.Level(level).label}级）。")
    region, created = Region.objects.update_or_create(
        code=code,
        defaults={"name": name.strip(), "level": level, "parent_id": parent_code, "is_deep_poverty": is_deep_poverty},
    )
    return region, created
