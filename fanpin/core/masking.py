"""Masking of personal data: 身份证号 and phone are masked unless the role needs them (SPEC §1)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from fanpin.core.idcard import birth_date_plausible, id_number_mask, phone_mask
from fanpin.core.roles import Permission, effective_role, role_can


def user_sees_full_id(user: Any) -> bool:
    """Whether the role may see unmasked identity numbers.  Pages still show them masked by
    default; unmasking on request is written to the access log."""
    return role_can(effective_role(user), Permission.VIEW_FULL_ID)


def mask_id(value: str) -> str:
    return id_number_mask(value)


def mask_phone(value: str) -> str:
    return phone_mask(value)


# Numbers in free text, however they are written (ASCII or full-width digits; spaces, line breaks,
# commas, 顿号, dots, dashes of any width, slashes, brackets, invisible characters between the
# groups: 139-1234-5678, 139，1234，5678, 1391 234 5678, 139 12 34 56 78, (0851)86801234,
# 520102 19800101 1234, an ID broken over two lines; +86 before a mobile; an X for an ID's check
# digit).  Each kind is found by its own shape, so that dates, times, amounts and ranges
# (2025-03-01 14:30, 12345.67元, 2025.03.01-2025.06.30) stay as typed: an ID is 18 (or 15) digits
# with a birth date in its place, a mobile 11 digits from 13x–19x however grouped (3-4-4, 4-3-4,
# 3-2-2-2-2 …), a landline an area code from 0 and 7–8 digits, and any unbroken run of 15 or more
# digits (a bank card, a malformed ID) is masked as an ID is.
_FULL_WIDTH = str.maketrans("Ｘｘ＋〇零一二三四五六七八九", "Xx+00123456789")  # digits of any script: _shadow
_GAP = (
    "[\\s,，、.．。·・\\-‐‑‒–—―−－_/／\\\\|｜#＃:：;；~～*()（）【】\\[\\]'\"‘’“”"
    "\u200b\u200c\u200d\u2060\ufeff\u00ad]{0,6}"
)
_ID18 = re.compile(rf"(?<![0-9])[0-9](?:{_GAP}[0-9]){{16}}{_GAP}[0-9Xx](?![0-9])")
_ID15 = re.compile(rf"(?<![0-9])[0-9](?:{_GAP}[0-9]){{14}}(?![0-9])")
_MOBILE = re.compile(rf"(?<![0-9])(?:\+?86{_GAP})?1{_GAP}[3-9](?:{_GAP}[0-9]){{9}}(?![0-9])")
_LANDLINE = re.compile(rf"(?<![0-9])[(（]?0[0-9]{{2,3}}[)）]?{_GAP}[0-9]{{3,4}}{_GAP}[0-9]{{4}}(?![0-9])")
_LONG_RUN = re.compile(r"(?<![0-9])[0-9]{15,}[Xx]?(?![0-9])")
_LOCAL_AFTER_WORD = re.compile(
    rf"(?:电话|手机|联系|座机|号码|[Tt][Ee][Ll])[^0-9]{{0,6}}?(?<![0-9])([0-9]{{3,4}}{_GAP}[0-9]{{4}})(?![0-9])"
)


def _outer(head: int, tail: int) -> Callable[[int, int], bool]:
    """Which of a number's ``count`` digits stay shown: the first ``head`` and the last ``tail``."""
    return lambda n, count: n < head or n >= count - tail


def _shadow(text: str) -> str:
    """``text`` with every digit as ASCII, one character for one: full-width (５), mathematical (𝟓)
    and other scripts' digits, and Chinese numerals (五, 〇, 零) — a number read out or typed
    with an input method is still that number."""
    text = text.translate(_FULL_WIDTH)
    return "".join(str(unicodedata.digit(ch)) if not ch.isascii() and ch.isdigit() else ch for ch in text)


def free_text_mask(text: str) -> str:
    """Free text typed by households, cadres and staff (a reason, a note, an opinion, an address):
    every 身份证号 and phone number in it masked (see above) — an ID keeps its first 6 and last 4
    digits (an old 15-digit one its last 3), a mobile its first 3 (after a country code) and last 4,
    a landline its area code and last 2, a number after 电话/手机/联系 its last 2 — the rest as typed,
    separators where they were."""
    text = str(text)
    shadow = _shadow(text)  # the same length: indexes carry over
    chars = list(text)
    taken = [False] * len(text)

    def mask(start: int, end: int, keep: Callable[[int, int], bool]) -> None:
        positions = [i for i in range(start, end) if shadow[i].isdigit() or shadow[i] in "Xx"]
        for n, i in enumerate(positions):
            if not keep(n, len(positions)):
                chars[i] = "*"
        for i in range(start, end):
            taken[i] = True

    def free(match: re.Match[str], group: int = 0) -> bool:
        return not any(taken[match.start(group) : match.end(group)])

    def digits_of(match: re.Match[str]) -> str:
        return "".join(ch for ch in match.group(0) if ch.isdigit() or ch in "Xx")

    for match in _ID18.finditer(shadow):
        if free(match) and birth_date_plausible(digits_of(match)[6:14]):
            mask(match.start(), match.end(), _outer(6, 4))
    for match in _ID15.finditer(shadow):
        if free(match) and birth_date_plausible(digits_of(match)[6:12]):
            mask(match.start(), match.end(), _outer(6, 3))
    for match in _MOBILE.finditer(shadow):
        if free(match):
            head = len(digits_of(match)) - 8  # the country code and the first 3
            mask(match.start(), match.end(), _outer(head, 4))
    for match in _LANDLINE.finditer(shadow):
        if free(match):
            area = len(re.match(r"[(（]?(0[0-9]{2,3})", match.group(0)).group(1))  # type: ignore[union-attr]
            mask(match.start(), match.end(), _outer(area, 2))
    for match in _LONG_RUN.finditer(shadow):
        if free(match):
            mask(match.start(), match.end(), _outer(6, 4))
    for match in _LOCAL_AFTER_WORD.finditer(shadow):
        if free(match, 1):
            mask(match.start(1), match.end(1), _outer(0, 2))
    return "".join(chars)


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


# A run of 15 or more digits (an X anywhere, spaces, dashes, full-width digits allowed inside):
# what a 身份证号 looks like even when it is malformed, which is when it lands in an error list.
_ID_LIKE = re.compile(r"[0-9０-９][0-9０-９Xx \-]{13,}[0-9０-９Xx]")


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    digits = sum(ch.isdigit() for ch in run)
    if digits < 15:
        return run
    return f"{run[:6]}********{run[-4:]}"


def personal_text_mask(*, header: str, text: str) -> str:
    """Mask what a stored message or cell could reveal: the whole value of a 身份证号 or phone
    column; anywhere else ID-like runs (malformed ones too: 19 digits, a wrong last character,
    spaces or dashes inside), then every number ``free_text_mask`` finds (phones; IDs split by
    commas or line breaks).  For texts kept after an import (error lists), a notice's text, an
    audited search — not for the user's own file."""
    if any(word in header for word in ("电话", "手机")):
        return phone_mask(text)
    if "身份证" in header and "+" not in header:
        return (
            id_number_mask(text)
            if len(text) == 18
            else ("*" * len(text) if len(text) < 8 else f"{text[:6]}********{text[-4:]}")
        )
    return free_text_mask(_ID_LIKE.sub(_mask_run, text))
