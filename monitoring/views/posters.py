"""Village QR posters: a printable sheet per village with a QR code to the public self-report page,
the village already chosen and ``source=poster`` marking the applications that come through it."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from fanpin.core.roles import Permission
from fanpin.core.scoping import ObjectOutOfScope
from fanpin.web.mixins import permission_require
from monitoring.models import Region
from monitoring.selectors.posters import village_contacts, village_in_scope

POSTER_SIZES = ("A4", "A3")
POSTER_SOURCE = "poster"  # the self-report page's ``source`` value for a poster's QR code


def poster_report_url(request: HttpRequest, village_code: str) -> str:
    """The absolute address the poster's QR code carries."""
    query = urlencode({"village": village_code, "source": POSTER_SOURCE})
    return request.build_absolute_uri(f"{reverse('self_report')}?{query}")


@login_required
@require_GET
def village_poster_view(request: HttpRequest, code: str) -> HttpResponse:
    permission_require(request, Permission.PRINT_CARDS)
    try:
        village = village_in_scope(user=request.user, code=code)
    except Region.DoesNotExist:
        raise ObjectOutOfScope("村") from None
    size = request.GET.get("size", "A4").upper()
    size = size if size in POSTER_SIZES else "A4"
    context = {
        "village": village,
        "township": village.parent,
        "county": village.parent.parent if village.parent else None,
        "report_url": poster_report_url(request, village.code),
        "contacts": village_contacts(village_codes={village.code}).get(village.code, []),
        "size": size,
        "stylesheets": ["css/cards.css", f"css/page-{size.lower()}.css"],
        "size_urls": [(s, f"?size={s}") for s in POSTER_SIZES],
    }
    return render(request, "monitoring/poster.html", context)
