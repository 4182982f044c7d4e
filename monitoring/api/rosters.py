"""/api/v1/assistance-rosters/: 民政 rosters — submit a batch (≤ 1 000 lines, upsert by
身份证号+救助类别+开始日期 within the submitting unit: a resend changes nothing) and list the lines
(a 民政 user: its own lines' match status only)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from fanpin.core.masking import mask_id
from fanpin.core.roles import Permission, effective_role, role_can
from fanpin.web.api import PersonInMixin
from monitoring.models import AlertStatus, AssistanceCategory, AssistanceEntry
from monitoring.selectors.rosters import rosters_visible, shows_household_data
from monitoring.services.imports.spec import number_text_parse
from monitoring.services.rosters import MAX_BATCH, roster_refusal, rosters_submit


class PlainDecimalField(serializers.DecimalField):
    """A DecimalField that reads text as the imports do (``number_text_parse``): no exponent
    notation (``1e9``), no underscores (``1_000``)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and data.strip():
            parsed = number_text_parse(data)
            if parsed is None:
                raise serializers.ValidationError("请填写数字金额（元），不接受科学计数法或下划线。")
            data = str(parsed)  # read as the imports read it: "1,000" and "１０００" are 1000
        return super().to_internal_value(data)


class RostersPermission(permissions.BasePermission):
    """Reading needs what reading department alerts needs (``Permission.VIEW_ALERTS``: county staff,
    administrators, department users) and the queryset decides (``rosters_visible``: a department
    other than 民政 reads an empty list, 404 for a line); sending needs ``roster_refusal`` to say
    nothing (民政 department users, county staff, administrators).  Refused before the body is read: 403."""

    message = "您的角色无权查看民政救助名单。"

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            self.message = "您的角色无权查看民政救助名单。"
            return role_can(effective_role(request.user), Permission.VIEW_ALERTS)
        refusal = roster_refusal(user=request.user)
        self.message = refusal
        return not refusal


class RosterFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AlertStatus.choices, label="匹配状态")
    category = django_filters.ChoiceFilter(choices=AssistanceCategory.choices, label="救助类别")

    class Meta:
        model = AssistanceEntry
        fields = ["status", "category"]


class RosterLineInSerializer(PersonInMixin, serializers.Serializer[Any]):
    id_number = serializers.CharField(max_length=32, help_text="身份证号（18 位，校验码正确）")
    name = serializers.CharField(max_length=64, help_text="姓名")
    category = serializers.ChoiceField(choices=AssistanceCategory.choices, help_text="救助类别")
    start_date = serializers.DateField(help_text="开始日期")
    end_date = serializers.DateField(required=False, allow_null=True, help_text="结束日期（空：仍在享受）")
    monthly_amount = PlainDecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,  # type: ignore[arg-type]
        required=False,
        allow_null=True,
        coerce_to_string=False,
        help_text="月救助金额（元）",
    )


class RosterBatchSerializer(serializers.Serializer[Any]):
    entries = RosterLineInSerializer(
        many=True,
        allow_empty=False,
        max_length=MAX_BATCH,  # type: ignore[call-arg]
        help_text="名单行，每批至多 1 000 条",
    )

    def validate_entries(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        keys = [(v["id_number"], v["category"], v["start_date"]) for v in value]
        if len(set(keys)) != len(keys):
            raise serializers.ValidationError("同一批中“身份证号+救助类别+开始日期”重复。")
        return value


class RosterOutcomeSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(help_text="名单行编号")
    status = serializers.ChoiceField(choices=AlertStatus.choices, help_text="匹配状态")
    action = serializers.ChoiceField(
        choices=[("create", "新增"), ("update", "更新"), ("same", "未变化")], help_text="本次写入结果"
    )


class RosterBatchResultSerializer(serializers.Serializer[Any]):
    matched = serializers.IntegerField(help_text="已匹配条数")
    unmatched = serializers.IntegerField(help_text="未匹配条数（已保留，由县级核对）")
    unchanged = serializers.IntegerField(help_text="与已报送内容相同、未写入的条数")
    results = RosterOutcomeSerializer(many=True, help_text="逐条结果，顺序同提交")


class RosterEntrySerializer(serializers.ModelSerializer[AssistanceEntry]):
    id_number_masked = serializers.SerializerMethodField(help_text="报送的身份证号（脱敏）")
    unmatched_reason = serializers.SerializerMethodField(
        help_text="未匹配原因（—：未找到）；民政部门用户为空（姓名不符与未找到不加区分，以免据此试出辖区内的身份证号）"
    )
    source_row = serializers.SerializerMethodField(help_text="来源：上传文件的行号（接口报送为空）")
    household_no = serializers.SerializerMethodField(help_text="匹配到的户编号；民政部门用户为空")

    class Meta:
        model = AssistanceEntry
        fields = [
            "id",
            "name",
            "category",
            "start_date",
            "end_date",
            "monthly_amount",
            "status",
            "unmatched_reason",
            "source_job",
            "source_row",
            "created_at",
            "updated_at",
            "id_number_masked",
            "household_no",
        ]

    def _full(self) -> bool:
        return bool(self.context.get("household_data"))

    def get_id_number_masked(self, obj: AssistanceEntry) -> str:
        # the line's own submitted number, masked for every reader (fanpin.core.masking)
        return mask_id(obj.id_number)

    def get_unmatched_reason(self, obj: AssistanceEntry) -> str:
        return obj.get_unmatched_reason_display() if self._full() else ""

    def get_source_row(self, obj: AssistanceEntry) -> int | None:
        return obj.source_row

    def get_household_no(self, obj: AssistanceEntry) -> str | None:
        if not self._full() or obj.member is None:
            return None
        return obj.member.household.household_no


@extend_schema_view(
    list=extend_schema(
        summary="民政救助名单",
        description=(
            "县级等看本辖区的名单行；民政部门只看本单位报送的行：报送的姓名、脱敏身份证号、来源行号和匹配状态（不含农户信息）。"
        ),
    ),
    retrieve=extend_schema(summary="民政救助名单行"),
)
class RosterViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """民政救助名单（低保、特困、低保边缘、刚性支出困难）：报送与查询匹配结果。"""

    queryset = AssistanceEntry.objects.all()
    permission_classes = [permissions.IsAuthenticated, RostersPermission]
    serializer_class = RosterEntrySerializer
    filterset_class = RosterFilter

    def get_queryset(self) -> QuerySet[AssistanceEntry]:
        return rosters_visible(user=self.request.user).order_by("-start_date", "id")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "household_data": shows_household_data(user=self.request.user)}

    @extend_schema(
        summary="报送一批民政救助名单",
        description=(
            "每批 1–1 000 条。按身份证号在报送者管辖范围内匹配家庭成员；未匹配的保留为“未匹配”，由县级核对。"
            "按“身份证号+救助类别+开始日期”在本报送单位内更新：同一批再次报送不会改变任何数据。"
        ),
        request=RosterBatchSerializer,
        responses={201: RosterBatchResultSerializer},
        examples=[
            OpenApiExample(
                "一条低保",
                request_only=True,
                value={
                    "entries": [
                        {
                            "id_number": "52010119800101001X",
                            "name": "张三",
                            "category": "SUBSISTENCE",
                            "start_date": "2026-01-01",
                            "end_date": None,
                            "monthly_amount": "450.00",
                        }
                    ]
                },
            )
        ],
    )
    def create(self, request: Request) -> Response:
        batch = RosterBatchSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        try:
            outcome = rosters_submit(user=request.user, items=batch.validated_data["entries"])
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"entries": exc.messages}) from exc
        data = {
            "matched": outcome.matched,
            "unmatched": outcome.unmatched,
            "unchanged": sum(a == "same" for a in outcome.actions),
            "results": [
                {"id": pk, "status": st, "action": action}
                for pk, st, action in zip(outcome.ids, outcome.statuses, outcome.actions, strict=True)
            ],
        }
        return Response(RosterBatchResultSerializer(data).data, status=status.HTTP_201_CREATED)
