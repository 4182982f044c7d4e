"""Masking of personal data: 身份证号 and phone are masked unless the role needs them (SPEC §1)."""

from __future__ import annotations

import re
import unicodedata
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


# Numbers in free text, however they are written: ASCII or full-width digits, a run held together by
# up to two separators between digits (spaces, line breaks, dashes of every width, dots, slashes,
# brackets: 139-1234-5678, 139．1234．5678, (0851)86801234, 539901 19800101 9998, an ID broken over
# two lines), a leading + (+86 139 …), an X or x for an ID's check digit.
_DIGITS = "0-9０-９"
_SEPARATOR = r"[\s\-‐‑‒–—―−－.．/／()（）]"
_NUMBER_RUN = re.compile(rf"[+＋]?(?<![{_DIGITS}])[{_DIGITS}](?:{_SEPARATOR}{{0,2}}[{_DIGITS}XxＸｘ])*")
_DATE_LIKE = re.compile(r"(19|20)\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])")


def _number_mask(match: re.Match[str]) -> str:
    """A run of digits masked by how many it holds: 15 or more (an ID) keep the first 6 (3 when the
    run has separators inside) and the last 4; a mobile number (with or without 86 before it) and
    other runs of 11–14 keep the first 3 and last 4; 7–10 (a landline, with its area code or
    without) keep the last 2; fewer, and a date written as 8 digits (20250301), stay as they are.
    Separators stay where they were."""
    run = match.group(0)
    positions = [i for i, ch in enumerate(run) if ch.isdigit() or ch in "XxＸｘ"]
    digits = "".join(unicodedata.normalize("NFKC", run[i]) for i in positions)
    count = len(positions)
    if count < 7 or (count == 8 and _DATE_LIKE.fullmatch(digits)):
        return run
    if count >= 15:
        # an ID as written keeps its region code; a run with separators inside could be a phone
        # and a year (13912345678 2025): it keeps no more than a phone's mask does
        head = 6 if len(run) == count else 3
        kept = set(range(head)) | set(range(count - 4, count))
    elif count >= 11:
        start = 2 if digits.startswith("86") and count >= 13 else 0  # the country code, then 3 digits
        kept = set(range(start + 3)) | set(range(count - 4, count))
    else:
        kept = set(range(count - 2, count))
    chars = list(run)
    for n, i in enumerate(positions):
        if n not in kept:
            chars[i] = "*"
    return "".join(chars)


def free_text_mask(text: str) -> str:
    """Free text typed by households, cadres and staff (a reason, a note, an opinion, an address):
    every run of digits that could be a 身份证号 or a phone number masked (``_number_mask``), the
    rest as typed."""
    return _NUMBER_RUN.sub(_number_mask, str(text))


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
