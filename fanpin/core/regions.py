"""行政区划 levels and codes (SPEC §2): the 12-digit statistical division code says its own level."""

from __future__ import annotations

from typing import Any

from django.db import models


class RegionLevel(models.TextChoices):
    PROVINCE = "PROVINCE", "省"
    CITY = "CITY", "市"
    COUNTY = "COUNTY", "县"
    TOWNSHIP = "TOWNSHIP", "乡镇"
    VILLAGE = "VILLAGE", "村"


def region_level_of(code: str) -> str:
    """The level of a 12-digit statistical division code, from its trailing zeros (SPEC §2)."""
    if code.endswith("0000000000"):
        return RegionLevel.PROVINCE
    if code.endswith("00000000"):
        return RegionLevel.CITY
    if code.endswith("000000"):
        return RegionLevel.COUNTY
    if code.endswith("000"):
        return RegionLevel.TOWNSHIP
    return RegionLevel.VILLAGE


def region_parent_code(code: str) -> str | None:
    """The code of the region directly above (``None`` for a province)."""
    level = region_level_of(code)
    if level == RegionLevel.PROVINCE:
        return None
    keep = {"CITY": 2, "COUNTY": 4, "TOWNSHIP": 6, "VILLAGE": 9}[level]
    return code[:keep].ljust(12, "0")


def province_code_of(code: str) -> str:
    """The 12-digit code of the province of any region code (or code prefix of at least two digits)."""
    return code[:2].ljust(12, "0")


def county_code_of(code: str) -> str:
    """The 12-digit code of the county of any region code at or below a county."""
    return code[:6].ljust(12, "0")


def region_model() -> Any:
    """The region model the user's ``region`` points to (declared by name, so the kernel imports no app)."""
    from fanpin.core.models import User

    return User._meta.get_field("region").related_model
