"""Whole numbers typed into addresses and forms (ids, years).

``str.isdigit()`` is true for "²" and "１２", which ``int()`` refuses or reads as another number, and
``int()`` refuses more than 4 300 digits: a number from a request is ASCII digits, and short.
"""

from __future__ import annotations

MAX_DIGITS = 18  # a database id (bigint) has at most 19 digits; 18 always fits


def ascii_int(value: object) -> int | None:
    """``value`` as a non-negative whole number when it is 1–18 ASCII digits, else None."""
    text = "" if value is None else str(value)
    return int(text) if 0 < len(text) <= MAX_DIGITS and text.isascii() and text.isdigit() else None
