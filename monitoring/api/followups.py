"""/api/v1/follow-ups/: the green channel's follow-ups (绿色通道补办) of the caller's region, read only:
what each direct confirmation owes, what the village recorded, the due day and whether it is overdue."""

from __future__ import annotations

from typing import Any, cast

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from fanpin.core.masking import FreeTextMasked
from fanpin.core.scoping import ScopedAPIViewMixin
from fanpin.web.api import ID_REGEX
from monitoring.models import FollowUp, FollowUpState, FollowUpStep
from monitoring.selectors.calendar import WorkingCalendar
from monitoring.selectors.followups import follow_up_limits, follow_up_status, follow_ups_in_scope, overdue_condition


class FollowUpFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=FollowUpState.choices, label="状态")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="已超期")
    county_review = django_filters.BooleanFilter(label="需县级复核")

    class Meta:
        model = FollowUp
        fields = ["state", "overdue", "county_review"]

    def filter_overdue(self, qs: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return qs
        condition = overdue_condition(today=timezone.localdate())
        return qs.filter(condition) if value else qs.exclude(condition)


class FollowUpSerializer(FreeTextMasked, serializers.ModelSerializer[FollowUp]):
    # who checked the home, the county's opinion and the reason it was asked for (free text)
    free_text_fields = ("home_checked_by", "county_review_reason", "county_review_note")
    household_no = serializers.CharField(source="target.household.household_no", read_only=True, help_text="户编号")
    village = serializers.CharField(source="target.household.village_id", read_only=True, help_text="村级区划代码")
    owed_steps = serializers.ListField(
        child=serializers.ChoiceField(choices=FollowUpStep.choices),
        read_only=True,
        help_text="须补办的程序（HOME_CHECK 入户核实 · APPRAISAL 民主评议 · PUBLICITY 公示）",
    )
    steps_outstanding = serializers.ListField(
        child=serializers.ChoiceField(choices=FollowUpStep.choices), read_only=True, help_text="尚未登记的程序"
    )
    due_on = serializers.SerializerMethodField(help_text="补办期限（含当天）")
    overdue = serializers.SerializerMethodField(help_text="是否超期（已完成的：是否逾期完成）")
    late_days = serializers.SerializerMethodField(help_text="超期的工作日数（按时限的计算方式：工作日或自然日）")

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "target",
            "lead",
            "household_no",
            "village",
            "state",
            "opened_on",
            "completed_at",
            "owed_steps",
            "steps_outstanding",
            "due_on",
            "overdue",
            "late_days",
            "home_checked_on",
            "home_checked_by",
            "home_checklist",
            "consent_signed",
            "appraisal_on",
            "appraisal_outcome",
            "publicity_start",
            "publicity_end",
            "county_review",
            "county_review_reason",
            "county_reviewed_at",
            "county_review_note",
        ]

    def _status(self, obj: FollowUp) -> Any:
        c = cast(dict[str, Any], self.context)  # one calendar and one set of limits per response
        cache = c.setdefault("status", {})
        if obj.pk not in cache:
            if "calendar" not in c:
                today = timezone.localdate()
                c.update(today=today, calendar=WorkingCalendar.load(around=today), limits=follow_up_limits())
            cache[obj.pk] = follow_up_status(obj, today=c["today"], calendar=c["calendar"], limits=c["limits"])
        return cache[obj.pk]

    def get_due_on(self, obj: FollowUp) -> str:
        return self._status(obj).due_on.isoformat()

    def get_overdue(self, obj: FollowUp) -> bool:
        return bool(self._status(obj).overdue)

    def get_late_days(self, obj: FollowUp) -> int:
        return int(self._status(obj).late_days)


@extend_schema_view(
    list=extend_schema(
        summary="绿色通道补办列表", description="本辖区县级直接确定的对象须补办的程序、登记情况与期限。"
    ),
    retrieve=extend_schema(summary="绿色通道补办详情"),
)
class FollowUpViewSet(ScopedAPIViewMixin, viewsets.ReadOnlyModelViewSet[FollowUp]):
    """绿色通道补办（先帮扶后认定）：列表（分页、过滤）与详情，只读。"""

    queryset = FollowUp.objects.all()
    lookup_value_regex = ID_REGEX
    filterset_class = FollowUpFilter
    serializer_class = FollowUpSerializer

    def get_queryset(self) -> QuerySet[FollowUp]:
        return follow_ups_in_scope(user=self.request.user, state="ALL")
