from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest

from fanpin.core.workflow import ObjectOutOfScope


@contextmanager
def out_of_scope_is_404() -> Iterator[None]:
    try:
        yield
    except ObjectOutOfScope:
        raise Http404("对象不存在或不在您的管辖范围内。") from None


def error_messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for messages in exc.message_dict.values() for m in messages]
    return list(exc.messages)


PAGE_SIZE = 50


def paginate(request: HttpRequest, rows: list[Any]) -> dict[str, Any]:
    """``page_obj`` and the query string without ``page`` for ``_pagination.html``."""
    page: Page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {"page_obj": page, "querystring": query.urlencode()}
