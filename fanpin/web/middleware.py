"""A statement cancelled by PostgreSQL's ``statement_timeout`` becomes a clear Chinese answer.

Web processes connect with ``statement_timeout`` (settings: ``PROCESS_ROLE``,
``WEB_STATEMENT_TIMEOUT``).  When a page's or an API call's query runs longer, PostgreSQL cancels
it (SQLSTATE 57014) and this middleware answers 503 with a page (or, under ``/api/``, a JSON
``detail``) that says what happened and what to do, instead of the generic server error.  Nothing
was written: a cancelled statement aborts its transaction.  The page is rendered without the request
(no navigation badge), so answering needs no further query on a database that may be overloaded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from fanpin.core.audit import client_address_bound
from fanpin.web.errors import is_api_request
from fanpin.web.mixins import client_ip

logger = logging.getLogger("fanpin.timeouts")

QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement cancelled (statement_timeout, pg_cancel_backend)


def is_query_timeout(exc: BaseException) -> bool:
    cause = exc.__cause__ if isinstance(exc, OperationalError) else None
    return getattr(cause, "pgcode", None) == QUERY_CANCELED or getattr(cause, "sqlstate", None) == QUERY_CANCELED


def query_timeout_message() -> str:
    seconds = settings.STATEMENT_TIMEOUT_SECONDS
    limit = f"{seconds:g} 秒" if seconds else "时限"
    return (
        f"查询超时：本次操作的查询超过 {limit}，已被系统中止，操作没有完成。"
        "请稍后重试；查询时可缩小范围（如选择乡镇或村）。如多次出现，请联系系统管理员。"
    )


class QueryTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_query_timeout(exception):
            return None
        logger.warning("statement cancelled (statement_timeout): %s %s", request.method, request.path)
        if is_api_request(request):
            return JsonResponse({"detail": query_timeout_message()}, status=503, headers={"Retry-After": "60"})
        html = render_to_string("query_timeout.html", {"message": query_timeout_message(), "path": request.path})
        return HttpResponse(html, status=503, headers={"Retry-After": "60"})


class ClientAddressMiddleware:
    """Binds the client's address (``client_ip``: REMOTE_ADDR, or X-Forwarded-For behind a trusted
    proxy) while the request is answered, so that every access-log row written meanwhile records it
    (``fanpin.core.audit.access_log_record``) — a list export as much as an unmasked view."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with client_address_bound(client_ip(request)):
            return self.get_response(request)
