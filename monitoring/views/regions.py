"""The typeahead of the region filters (村, 乡镇/村): a few suggestions instead of every village."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from fanpin.core.roles import Permission
from fanpin.web.mixins import permission_require
from monitoring.selectors.regions import (
    VILLAGES,
    area_levels,
    labels_with_county,
    region_label,
    regions_matching,
)

LEVEL_SUFFIXES = {"TOWNSHIP": "（乡镇）"}  # a county's name says 县, 区, 市 or 旗 itself
# htmx sends the typed text under the field's own name; ``field`` says which one it is.
TERM_FIELDS = {"q", "village", "region"}


@login_required
@require_GET
def region_typeahead_view(request: HttpRequest) -> HttpResponse:
    """``<option>``s for the field's ``<datalist>``: at most 20 regions of the user's scope whose
    code starts with, or whose name contains, the typed text.  ``levels=area``: townships and
    villages (the lead and target filters); otherwise villages."""
    permission_require(request, Permission.VIEW_HOUSEHOLDS)
    field = request.GET.get("field", "q")
    term = request.GET.get(field if field in TERM_FIELDS else "q", "")
    levels = area_levels(request.user) if request.GET.get("levels") == "area" else VILLAGES
    regions = regions_matching(user=request.user, term=term, levels=levels)
    wide = labels_with_county(request.user)
    options = [(r.code, region_label(r, with_county=wide) + LEVEL_SUFFIXES.get(r.level, "")) for r in regions]
    return render(request, "monitoring/_region_options.html", {"options": options})
