from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import viewsets

from fanpin.core.scoping import ScopedAPIViewMixin
from fanpin.web.api import ID_REGEX
from fanpin.web.mixins import client_ip
from monitoring.api.filters import HouseholdFilter, RegionFilter
from monitoring.api.serializers import HouseholdDetailSerializer, HouseholdListSerializer, RegionSerializer
from monitoring.models import Household, Region
from monitoring.selectors.households import households_in_scope, members_prefetch
from monitoring.services.personal_data import id_number_search_record


class RegionViewSet(ScopedAPIViewMixin, viewsets.ReadOnlyModelViewSet[Region]):
    """行政区划：本人所属区划及其下级。"""

    queryset = Region.objects.all()
    serializer_class = RegionSerializer
    filterset_class = RegionFilter
    lookup_value_regex = "[0-9]{12}"


class HouseholdViewSet(ScopedAPIViewMixin, viewsets.ReadOnlyModelViewSet[Household]):
    """农户：列表（分页、按区划和户类型过滤）与详情（含家庭成员，身份证号脱敏）。"""

    queryset = Household.objects.all()
    lookup_value_regex = ID_REGEX
    filterset_class = HouseholdFilter

    def get_queryset(self) -> QuerySet[Household]:
        qs = households_in_scope(user=self.request.user)
        if self.action == "retrieve":
            qs = qs.prefetch_related(*members_prefetch(departed=True), "incomes")
        return qs

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        queryset = super().filter_queryset(queryset)  # a bad filter is a 400 before anything is logged
        id_number_search_record(
            user=self.request.user,
            search=self.request.query_params.get("search", ""),
            ip_address=client_ip(self.request),
        )
        return queryset

    def get_serializer_class(self) -> Any:
        return HouseholdDetailSerializer if self.action == "retrieve" else HouseholdListSerializer
