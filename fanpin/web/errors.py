"""One map from the kernel's exceptions to what a user gets, for the API and for the pages.

==========================  ===============================================  ==============================
exception                   API (``api_exception_handler``)                 page (``ErrorPageMiddleware``)
==========================  ===============================================  ==============================
``ObjectOutOfScope``        404 ``{"detail": "线索不存在或不在您的管辖范围内。"}``  the 404 page
``TransitionNotAllowed``    409 ``{"detail": message}``                      409 page: message, link back
``ValidationError``         400 ``{field: [messages]}`` or ``{"detail": …}``  400 page: messages, link back
``PermissionDenied``        403 ``{"detail": message}``                      the 403 page (with the reason)
==========================  ===============================================  ==============================

Views and API views let these exceptions propagate.  A view that shows a refused step next to its
form (a transition's opinion, a measure's dates) catches ``ValidationError`` itself and puts the
messages into the form with ``form_errors_add``; the map is the answer for everything else, and the
same for every page.  Out of scope is 404, like a row that exists nowhere: nobody learns which rows
exist outside their region.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.handlers.exception import response_for_exception
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.defaults import page_not_found
from rest_framework import exceptions as api_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from fanpin.core.scoping import ObjectOutOfScope
from fanpin.core.workflow import TransitionNotAllowed


class Conflict(api_exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "当前状态不允许此操作。"
    default_code = "conflict"


def error_messages(exc: ValidationError) -> list[str]:
    """Every message of a ``ValidationError``, field errors included, in order."""
    if hasattr(exc, "error_dict"):
        return [m for messages in exc.message_dict.values() for m in messages]
    return list(exc.messages)


def form_error_lines(form: forms.BaseForm, skip: str = "") -> list[str]:
    """A form's errors as "字段：错误" lines, those of the field ``skip`` left out (shown beside it
    already): a list filter's alert, and what an export refuses a filter it cannot read with."""
    return [f"{field.label}：{error}" for field in form if field.name != skip for error in field.errors]


def error_text(exc: ValidationError) -> str:
    return "；".join(error_messages(exc))


def form_errors_add(form: forms.BaseForm, exc: ValidationError) -> None:
    """A service's ``ValidationError`` into ``form``: each message next to its field, messages for
    fields the form does not have (or for no field) at the top of the form."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# -- the API -------------------------------------------------------------------------------------
def api_exception(exc: Exception) -> Exception:
    """The DRF exception that answers ``exc`` (``exc`` itself when DRF already knows it)."""
    if isinstance(exc, ObjectOutOfScope):
        return api_exceptions.NotFound(str(exc))
    if isinstance(exc, TransitionNotAllowed):
        return Conflict(error_text(exc))
    if isinstance(exc, ValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": error_text(exc)}
        return api_exceptions.ValidationError(detail)
    if isinstance(exc, PermissionDenied) and str(exc):
        return api_exceptions.PermissionDenied(str(exc))
    if isinstance(exc, Http404):
        # Django's get_object_or_404 says "No Household matches the given query." in English
        message = str(exc)
        return api_exceptions.NotFound(message if _chinese(message) else NOT_FOUND)
    if isinstance(exc, api_exceptions.ParseError) and not _chinese(str(exc.detail)):
        return api_exceptions.ParseError(PARSE_ERROR)  # DRF's "JSON parse error - Expecting value …"
    return exc


NOT_FOUND = "未找到：记录不存在，或不在您的管辖范围内。"
API_PATH_NOT_FOUND = "接口地址不存在。"


def is_api_request(request: HttpRequest) -> bool:
    """Whether the request is the API's (answered in JSON) rather than a page's."""
    return request.path.startswith("/api/")


PARSE_ERROR = "请求内容无法解析：请发送有效的 JSON。"


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """``REST_FRAMEWORK["EXCEPTION_HANDLER"]``: the map above, then DRF's own handler."""
    return exception_handler(api_exception(exc), context)


# -- the pages -----------------------------------------------------------------------------------
def _back(request: HttpRequest) -> str:
    """The page the user came from when it is one of ours, else the home page."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return "/"


def refused_page(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """409 (a step the object's state does not allow) or 400 (bad input), with the messages."""
    conflict = isinstance(exc, TransitionNotAllowed)
    context = {
        "title": "操作未执行" if conflict else "填写有误",
        "messages_list": error_messages(exc),
        "back": _back(request),
    }
    return render(request, "refused.html", context, status=409 if conflict else 400)


def page_error_response(request: HttpRequest, exc: Exception) -> HttpResponse | None:
    """The page that answers ``exc``, or None for exceptions outside the map."""
    if isinstance(exc, ObjectOutOfScope):
        return response_for_exception(request, Http404(str(exc)))
    if isinstance(exc, PermissionDenied):
        return response_for_exception(request, exc)
    if isinstance(exc, ValidationError):
        return refused_page(request, exc)
    return None


NUL_REFUSED = "提交的内容含有无法保存的控制字符（NUL），请删除后重新提交。"


def _has_nul(request: HttpRequest) -> bool:
    """A NUL character in a posted form value (PostgreSQL refuses it in any text: a 500 later).
    Query strings are the pages' own: a search term with a NUL finds nothing (decision record
    2026-12-04-household-picker-searches), and filter forms refuse it."""
    if request.method != "POST":
        return False
    return any("\x00" in value for _key, values in request.POST.lists() for value in values)


class ErrorPageMiddleware:
    """The map above for pages (the API answers through ``api_exception_handler`` before this).

    Also refuses, before any view runs, a posted form value holding a NUL character (400, with the
    message; forms refuse it themselves, but views that pass a value straight to a service do not):
    one rule for every page and API view."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, *args: Any) -> HttpResponse | None:
        if not _has_nul(request):
            return None
        if is_api_request(request):
            return JsonResponse({"detail": NUL_REFUSED}, status=400)
        return refused_page(request, ValidationError(NUL_REFUSED))

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return page_error_response(request, exception)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: an API path that matches nothing answers as the API does (JSON, in Chinese), a
    page path with the 404 page.  (With ``DEBUG`` on, Django shows its own page instead.)"""
    if is_api_request(request):
        return JsonResponse({"detail": API_PATH_NOT_FOUND}, status=404, json_dumps_params={"ensure_ascii": False})
    return page_not_found(request, exception)
