"""The site's URLs plus a page and an API view that raise each exception of the error map
(tests/fanpin/test_error_map.py)."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fanpin.core.scoping import ObjectOutOfScope
from fanpin.core.workflow import TransitionNotAllowed
from fanpin.urls import urlpatterns as site_urlpatterns

RAISES: dict[str, Callable[[], Exception]] = {
    "out_of_scope": lambda: ObjectOutOfScope("线索"),
    "transition": lambda: TransitionNotAllowed("当前状态为“县级已确定”，不能执行“不予纳入”。"),
    "invalid_field": lambda: ValidationError({"amount": "金额不能为负数。"}),
    "invalid": lambda: ValidationError("请先选择村。"),
    "denied": lambda: PermissionDenied("您的角色不能执行此操作。"),
}


def raising_page(request: HttpRequest, kind: str) -> HttpResponse:
    raise RAISES[kind]()


class RaisingApi(APIView):
    def get(self, request: Request, kind: str) -> Response:
        raise RAISES[kind]()


urlpatterns = [
    path("error-map/<str:kind>/", raising_page),
    path("api/v1/error-map/<str:kind>/", RaisingApi.as_view()),
    *site_urlpatterns,
]
