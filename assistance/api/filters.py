from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from assistance.models import MeasureCategory, MeasureKind, MeasureStatus, TargetMeasure
from fanpin.core.terms import term_lazy
from fanpin.web.api import IntegerFilter
from monitoring.api.filters import _within


class TargetMeasureFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=MeasureStatus.choices, label="状态")
    category = django_filters.ChoiceFilter(
        field_name="measure__category", choices=MeasureCategory.choices, label="措施类别"
    )
    kind = django_filters.ChoiceFilter(field_name="measure__kind", choices=MeasureKind.choices, label="措施性质")
    measure = django_filters.CharFilter(field_name="measure__code", label="措施编码")
    target = IntegerFilter(field_name="target_id", label=term_lazy("target"))
    household_no = django_filters.CharFilter(field_name="target__household__household_no", label="户编号")
    village = django_filters.CharFilter(field_name="target__household__village_id", label="村级区划代码")
    township = django_filters.CharFilter(method="filter_region", label="乡镇区划代码")
    county = django_filters.CharFilter(method="filter_region", label="县级区划代码")
    start_after = django_filters.DateFilter(field_name="start_on", lookup_expr="gte", label="开始日期不早于")
    start_before = django_filters.DateFilter(field_name="start_on", lookup_expr="lte", label="开始日期不晚于")

    class Meta:
        model = TargetMeasure
        fields = ["status", "category", "kind", "measure", "target", "household_no", "village", "township", "county"]

    def filter_region(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return _within(queryset, value)
