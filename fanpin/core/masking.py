"""Masking of personal data: 身份证号 and phone are masked unless the role needs them (SPEC §1)."""

from __future__ import annotations

import re
from typing import Any

from fanpin.core.idcard import id_number_mask, personal_text_mask, phone_mask
from fanpin.core.roles import Permission, effective_role, role_can


def user_sees_full_id(user: Any) -> bool:
    """Whether the role may see unmasked identity numbers.  Pages still show them masked by
    default; unmasking on request is written to the access log."""
    return role_can(effective_role(user), Permission.VIEW_FULL_ID)


def mask_id(value: str) -> str:
    return id_number_mask(value)


def mask_phone(value: str) -> str:
    return phone_mask(value)


# Phone-like runs in free text: a mobile number (spaces or dashes allowed inside) or a landline with
# its area code, not part of a longer digit run.
_PHONE_LIKE = re.compile(
    r"(?<![0-9０-９])(?:1[3-9][0-9](?:[ \-]?[0-9]{4}){2}|0[0-9]{2,3}[ \-]?[0-9]{7,8})(?![0-9０-９])"
)


def free_text_mask(text: str) -> str:
    """Free text typed by households and cadres (an appeal reason, a rejection reason, an opinion):
    ID-like runs and phone-like runs masked, the rest as typed."""
    masked = personal_text_mask(header="", text=str(text))
    return _PHONE_LIKE.sub(lambda m: phone_mask(re.sub(r"[ \-]", "", m.group(0))), masked)


def free_text_for(user: Any, text: Any) -> Any:
    """``text`` as ``user`` may see it: unmasked for the roles that see full IDs, else masked;
    lists and dicts (a lead's evidence) are masked value by value."""
    if getattr(user, "is_authenticated", False) and user_sees_full_id(user):
        return text
    return _mask_deep(text)


def _mask_deep(value: Any) -> Any:
    if isinstance(value, str):
        return free_text_mask(value)
    if isinstance(value, list):
        return [_mask_deep(v) for v in value]
    if isinstance(value, dict):
        return {k: _mask_deep(v) for k, v in value.items()}
    return value


class FreeTextMasked:
    """Serializer mixin: the fields named in ``free_text_fields`` (free text typed by households,
    cadres and staff) as the request's user may see them (``free_text_for``): 身份证号-like and
    phone-like runs masked for the roles that do not see full IDs, as the pages show them."""

    free_text_fields: tuple[str, ...] = ()

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)  # type: ignore[misc]
        user = getattr(self.context.get("request"), "user", None)  # type: ignore[attr-defined]
        for name in self.free_text_fields:
            if name in data:
                data[name] = free_text_for(user, data[name])
        return data
