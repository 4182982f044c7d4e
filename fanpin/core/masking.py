"""Masking of personal data: 身份证号 and phone are masked unless the role needs them (SPEC §1)."""

from __future__ import annotations

from typing import Any

from fanpin.core.idcard import id_number_mask, phone_mask
from fanpin.core.roles import Permission, effective_role, role_can


def user_sees_full_id(user: Any) -> bool:
    """Whether the role may see unmasked identity numbers.  Pages still show them masked by
    default; unmasking on request is written to the access log."""
    return role_can(effective_role(user), Permission.VIEW_FULL_ID)


def mask_id(value: str) -> str:
    return id_number_mask(value)


def mask_phone(value: str) -> str:
    return phone_mask(value)
