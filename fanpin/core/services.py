"""Users: creation with the role/region rule of SPEC §1."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from fanpin.core.models import User
from fanpin.core.regions import RegionLevel
from fanpin.core.roles import ROLE_REGION_LEVELS, Role

if TYPE_CHECKING:
    from monitoring.models import Region


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    role: str,
    region: Region | None,
    full_name: str = "",
    department: str = "",
) -> User:
    if role not in Role.values:
        raise ValidationError(f"未知角色：{role}")
    if role != Role.ADMIN and region is None:
        raise ValidationError("除系统管理员外，每个用户必须属于一个行政区划。")
    if region is not None and region.level not in ROLE_REGION_LEVELS[role]:
        allowed = "或".join(RegionLevel(level).label for level in ROLE_REGION_LEVELS[role])
        raise ValidationError(
            f"角色“{Role(role).label}”只能属于{allowed}级区划，而 {region} 是{RegionLevel(region.level).label}级。"
        )
    if role == Role.DEPT and not department:
        raise ValidationError("行业部门用户必须指定所属部门。")
    user = User(
        username=username,
        role=role,
        region=region,
        full_name=full_name,
        department=department,
        is_staff=role in {Role.ADMIN, Role.COUNTY, Role.TOWNSHIP},
        is_superuser=role == Role.ADMIN,
    )
    user.set_password(password)
    user.save()
    return user
