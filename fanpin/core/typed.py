"""What people type into addresses, forms and search boxes, read one way everywhere.

``str.isdigit()`` is true for "²" and "１２", which ``int()`` refuses or reads as another number, and
``int()`` refuses more than 4 300 digits: a number from a request is ASCII digits, and short.
A Chinese input method types full-width digits, letters and spaces (１２３４, Ｘ, "　"): a search term
is read as their ASCII forms (NFKC).
"""

from __future__ import annotations

import unicodedata

MAX_DIGITS = 18  # a database id (bigint) has at most 19 digits; 18 always fits


def ascii_int(value: object) -> int | None:
    """``value`` as a non-negative whole number when it is 1–18 ASCII digits, else None."""
    text = "" if value is None else str(value)
    return int(text) if 0 < len(text) <= MAX_DIGITS and text.isascii() and text.isdigit() else None


def plain(text: str | None) -> str:
    """``text`` with full-width forms read as ASCII (NFKC) and the spaces around it removed."""
    return unicodedata.normalize("NFKC", text or "").strip()
