"""QR codes for printed pages (帮扶明白卡, village posters), made by segno on the server.

``{% qr_svg url %}`` writes an inline SVG (crisp at any size when the browser prints);
``{% qr_png url %}`` gives a ``data:`` URI of a PNG with one pixel per module, which the PDF
renderer draws fast and scales without smoothing (``image-rendering: pixelated`` in the stylesheet).
"""

from __future__ import annotations

import functools
import re
from typing import Any

import segno
from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from fanpin.core.regions import RegionLevel, region_level_of
from fanpin.core.roles import Permission, effective_role, role_can

register = template.Library()

QUIET_ZONE = 2  # modules of white around the code (scanners need some; the card leaves more)


@functools.lru_cache(maxsize=256)
def _qr(data: str) -> segno.QRCode:
    """The code of one address, kept: a card shown then printed, or a village's batch printed again,
    encodes each status address once (≈ 4 KB a code; 256 of them ≈ 1 MB a worker)."""
    return segno.make(data, error="m", micro=False)


@register.simple_tag
def qr_svg(data: str, label: str = "二维码") -> SafeString:
    svg = _qr(data).svg_inline(scale=1, border=QUIET_ZONE, svgclass="qr", lineclass=None, omitsize=True)
    # segno writes the SVG itself (no user text in it); the label goes in as an escaped attribute
    return format_html('<span class="qr-box" role="img" aria-label="{}">{}</span>', label, mark_safe(svg))  # noqa: S308  # nosec B308 B703


@register.simple_tag
def qr_png(data: str) -> str:
    return str(_qr(data).png_data_uri(scale=1, border=QUIET_ZONE))


@register.filter
def may_print_cards(user: Any) -> bool:
    """Whether ``user`` may print 帮扶明白卡 and village posters (for links on other pages)."""
    return role_can(effective_role(user), Permission.PRINT_CARDS)


@register.filter
def village_code(query: Any, key: str) -> str:
    """The village a list's filter chose: ``query[key]`` when it is a village's 12-digit code, else ``""``
    (``{% with village=request.GET|village_code:"region" %}``)."""
    code = str(query.get(key, "") or "")
    return code if re.fullmatch(r"[0-9]{12}", code) and region_level_of(code) == RegionLevel.VILLAGE else ""
