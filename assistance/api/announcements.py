"""/api/v1/announcements/: the 公告 of the townships in the user's scope for a period (the list, with
how many households each group names) and one township's 公告 (its rows) — the same reads as the
pages, the same masking: only 村, 户主姓名, 家庭人口 and 类别 / 消除方式."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from assistance.selectors.announcements import (
    AnnouncementRow,
    announcement_build,
    announcement_counts,
    announcement_period_errors,
    announcement_period_last_month,
    announcement_township,
    announcement_townships,
)
from fanpin.web.api import PageNumberPagination
from monitoring.models import Region

PERIOD_PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATE, description="开始日期（含），默认上一个完整月的第一天"),
    OpenApiParameter("end", OpenApiTypes.DATE, description="结束日期（含，北京时间），默认上一个完整月的最后一天"),
]


class PeriodInput(serializers.Serializer[Any]):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)


class RowSerializer(serializers.Serializer[AnnouncementRow]):
    village = serializers.CharField(help_text="村")
    head_name = serializers.CharField(help_text="户主姓名")
    family_size = serializers.IntegerField(help_text="家庭人口")
    category = serializers.CharField(source="label", help_text="类别、消除方式或“不予纳入”")
    decided_on = serializers.DateField(help_text="县级审定日期（北京时间）")


class AnnouncementSerializer(serializers.Serializer[Any]):
    township = serializers.CharField(help_text="乡镇区划代码")
    issuer = serializers.CharField(help_text="公告单位（乡镇人民政府）")
    start = serializers.DateField()
    end = serializers.DateField()
    identified = RowSerializer(many=True, help_text="纳入")
    eliminated = RowSerializer(many=True, help_text="风险消除")
    rejected = RowSerializer(many=True, help_text="不予纳入（本省要求公告时）")
    rejections_announced = serializers.BooleanField()


class TownshipCountSerializer(serializers.Serializer[Any]):
    township = serializers.CharField()
    name = serializers.CharField()
    identified = serializers.IntegerField()
    eliminated = serializers.IntegerField()
    rejected = serializers.IntegerField()


def _period(request: Request) -> tuple[Any, Any]:
    # unchanged for API clients (a monthly pull reads a whole month): the pages open on 本月至今
    start, end = announcement_period_last_month(today=timezone.localdate())
    data = PeriodInput(data=request.query_params)
    data.is_valid(raise_exception=True)
    start = data.validated_data.get("start", start)
    end = data.validated_data.get("end", end)
    errors = announcement_period_errors(start=start, end=end)
    if errors:
        raise ValidationError(errors)
    return start, end


class AnnouncementViewSet(viewsets.GenericViewSet[Region]):
    """公告：县级审定后各乡镇一段期间内纳入、风险消除（及本省要求公告的不予纳入）的农户，仅村、户主姓名、家庭人口和类别。"""

    lookup_value_regex = r"[0-9]{12}"
    lookup_field = "township"
    pagination_class = PageNumberPagination
    serializer_class = AnnouncementSerializer

    def get_queryset(self) -> QuerySet[Region]:
        return announcement_townships(user=self.request.user)

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=TownshipCountSerializer(many=True))
    def list(self, request: Request) -> Response:
        start, end = _period(request)
        townships = self.paginate_queryset(self.get_queryset()) or []
        counts = announcement_counts(townships=townships, start=start, end=end)
        rows = [{"township": t.code, "name": t.name, **counts[t.code]} for t in townships]
        return self.get_paginated_response(TownshipCountSerializer(rows, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("township", OpenApiTypes.STR, OpenApiParameter.PATH, description="乡镇区划代码（12 位）"),
            *PERIOD_PARAMETERS,
        ],
        responses=AnnouncementSerializer,
    )
    def retrieve(self, request: Request, township: str) -> Response:
        place = announcement_township(user=request.user, code=township)
        start, end = _period(request)
        a = announcement_build(user=request.user, township=place, start=start, end=end)
        return Response(
            AnnouncementSerializer(
                {
                    "township": place.code,
                    "issuer": a.issuer,
                    "start": a.start,
                    "end": a.end,
                    "identified": a.identified,
                    "eliminated": a.eliminated,
                    "rejected": a.rejected,
                    "rejections_announced": a.rejections_announced,
                }
            ).data
        )
