from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from fanpin.core.regions import RegionLevel
from fanpin.core.scoping import code_prefix
from monitoring.models import Household, HouseholdType, Region
from monitoring.selectors.households import households_matching


def _within(queryset: QuerySet, code: str) -> QuerySet:
    if len(code) != 12 or not code.isdigit():
        return queryset.none()
    return queryset.within(code_prefix(code))  # type: ignore[attr-defined]


class RegionFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=RegionLevel.choices)
    parent = django_filters.CharFilter(field_name="parent_id")

    class Meta:
        model = Region
        fields = ["level", "parent", "is_deep_poverty"]


class HouseholdFilter(django_filters.FilterSet):
    village = django_filters.CharFilter(field_name="village_id", label="村级区划代码")
    township = django_filters.CharFilter(method="filter_region", label="乡镇区划代码")
    county = django_filters.CharFilter(method="filter_region", label="县级区划代码")
    household_type = django_filters.ChoiceFilter(choices=HouseholdType.choices, label="户类型")
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=64,
        label="搜索：户编号（前缀）、户主或成员姓名（前缀）、身份证号（完整 18 位且校验码正确，或后 4 位）",
    )

    class Meta:
        model = Household
        fields = ["village", "township", "county", "household_type", "search"]

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return households_matching(queryset, search=value)

    def filter_region(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return _within(queryset, value)
