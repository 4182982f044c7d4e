"""/api/v1/comparisons/: 信息比对 of leads — list the current results in the user's scope
(``?lead=ID`` for one lead) and record one (county staff; the same service and rules as the page:
consent on file, open lead, 有异常 with a note, a judgement only on 有异常).

Notes and judgements are returned to the roles that read them on the page
(``monitoring.selectors.comparisons.NOTE_ROLES``); others get ``null`` and the ``judged`` flag.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from fanpin.core.masking import free_text_for
from fanpin.core.roles import Permission, effective_role, role_can
from fanpin.core.scoping import ObjectOutOfScope, ScopedAPIViewMixin
from fanpin.web.api import ID_REGEX, IntegerFilter
from monitoring.models import ComparisonResult, DataComparison, Lead
from monitoring.selectors.comparisons import comparisons_in_scope, may_record_comparisons, may_see_comparison_notes
from monitoring.services.comparisons import (
    JUDGEMENT_MAX,
    NOTE_MAX,
    ComparisonInput,
    data_comparison_record,
)


class ComparisonsPermission(permissions.BasePermission):
    """Reading: who reads households (the queryset scopes it; department users read nothing);
    recording: county staff and administrators (403 before the body is read)."""

    message = "您的角色无权查看信息比对结果。"

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            self.message = "您的角色无权查看信息比对结果。"
            return role_can(effective_role(request.user), Permission.VIEW_HOUSEHOLDS)
        self.message = "信息比对结果由县级乡村振兴部门录入。"
        return may_record_comparisons(request.user)


class ComparisonFilter(django_filters.FilterSet):
    lead = IntegerFilter(field_name="lead_id", min_value=1, label="线索 ID")
    result = django_filters.ChoiceFilter(choices=ComparisonResult.choices, label="比对结果")

    class Meta:
        model = DataComparison
        fields = ["lead", "result"]


class ComparisonSerializer(serializers.ModelSerializer[DataComparison]):
    source = serializers.CharField(source="source.code", read_only=True)  # type: ignore[assignment]
    source_name = serializers.CharField(source="source.name", read_only=True)
    judged = serializers.SerializerMethodField()
    note = serializers.SerializerMethodField()
    judgement = serializers.SerializerMethodField()

    class Meta:
        model = DataComparison
        fields = [
            "id",
            "lead",
            "source",
            "source_name",
            "compared_on",
            "result",
            "note",
            "judgement",
            "judged",
            "judged_at",
            "recorded_at",
        ]

    def _user(self) -> Any:
        request = self.context.get("request")
        return getattr(request, "user", None)

    def get_judged(self, obj: DataComparison) -> bool:
        return bool(obj.judgement)

    def get_note(self, obj: DataComparison) -> str | None:
        user = self._user()
        return free_text_for(user, obj.note) if may_see_comparison_notes(user) else None

    def get_judgement(self, obj: DataComparison) -> str | None:
        user = self._user()
        return free_text_for(user, obj.judgement) if may_see_comparison_notes(user) else None


class ComparisonInputSerializer(serializers.Serializer):
    lead = serializers.IntegerField(min_value=1, help_text="线索 ID")
    source = serializers.CharField(max_length=30, help_text="比对来源代码，如 PUBLIC_SECURITY_VEHICLE")  # type: ignore[assignment]
    compared_on = serializers.DateField(help_text="比对日期")
    result = serializers.ChoiceField(choices=ComparisonResult.choices, help_text="NO_ISSUE 无异常 · ISSUE 有异常")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX)
    judgement = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=JUDGEMENT_MAX, help_text="有异常时县级的书面研判"
    )


class ComparisonViewSet(
    ScopedAPIViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[DataComparison]
):
    """信息比对结果：列表（分页；?lead= 某线索）、详情与录入（县级；须已登记农户承诺授权）。"""

    queryset = DataComparison.objects.all()
    lookup_value_regex = ID_REGEX
    filterset_class = ComparisonFilter
    serializer_class = ComparisonSerializer
    permission_classes = [permissions.IsAuthenticated, ComparisonsPermission]

    def get_queryset(self) -> QuerySet[DataComparison]:
        return comparisons_in_scope(user=self.request.user)

    @extend_schema(request=ComparisonInputSerializer, responses=ComparisonSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        s = ComparisonInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        if not Lead.objects.for_user(request.user).filter(pk=d["lead"]).exists():
            raise ObjectOutOfScope("线索")
        existed = DataComparison.objects.filter(lead_id=d["lead"], source__code=d["source"]).exists()
        row = data_comparison_record(
            lead_id=d["lead"],
            actor=request.user,
            data=ComparisonInput(
                source_code=d["source"],
                compared_on=d["compared_on"],
                result=d["result"],
                note=d["note"],
                judgement=d["judgement"],
            ),
        )
        row = self.get_queryset().get(pk=row.pk)
        data = ComparisonSerializer(row, context={"request": request}).data
        return Response(data, status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)
