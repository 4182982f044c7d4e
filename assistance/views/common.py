from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest

PAGE_SIZE = 50


def paginate(request: HttpRequest, rows: list[Any]) -> dict[str, Any]:
    """``page_obj`` and the query string without ``page`` for ``_pagination.html``."""
    page: Page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {"page_obj": page, "querystring": query.urlencode()}
