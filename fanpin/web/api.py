from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import pagination, serializers

from fanpin.core.idcard import id_number_normalize

# Ids and years fit a signed 64-bit integer; larger numbers are a 400, never a database overflow.
MAX_INT64 = 2**63 - 1
# Integer primary keys in URLs: other strings never reach the database (404 from the URL resolver).
ID_REGEX = "[0-9]{1,18}"


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


@extend_schema_field(OpenApiTypes.INT64)
class IntegerFilter(django_filters.NumberFilter):
    """An integer query parameter (an id, a year) within ``min_value``..``max_value``."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, min_value: int = 1, max_value: int = MAX_INT64, **kwargs: Any) -> None:
        super().__init__(*args, min_value=min_value, max_value=max_value, **kwargs)


class PersonInMixin:
    """For serializers whose rows name a person (department alerts, 民政 roster lines): the
    身份证号 normalised and checked (``id_number_normalize``), the name required and stripped."""

    def validate_id_number(self, value: str) -> str:
        try:
            return id_number_normalize(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc

    def validate_name(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError("请填写姓名。")
        return value
