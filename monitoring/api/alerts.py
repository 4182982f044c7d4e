"""/api/v1/alerts/: department alerts — submit a batch (≤ 1 000, idempotent per key) and list them."""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.text import format_lazy
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from fanpin.core.idcard import id_number_mask, id_number_normalize
from fanpin.core.terms import term_lazy
from fanpin.web.api import ID_REGEX, PersonInMixin
from monitoring.models import AlertOrigin, AlertStatus, AlertType, DepartmentAlert
from monitoring.selectors.alerts import alerts_may_submit, alerts_may_view, alerts_visible, shows_household_data
from monitoring.services.alerts import MAX_BATCH, alerts_submit, medical_settlements_submit, settlement_year_error


class AlertsPermission(permissions.BasePermission):
    """Reading alerts (list, detail) needs what the 部门预警 page needs (``alerts_may_view``); sending
    alerts or settlement lines needs ``alerts_may_submit``.  Refused before the body is read: 403."""

    message = "您的角色无权查看部门预警。"

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            self.message = "您的角色无权查看部门预警。"
            return alerts_may_view(user=request.user)
        self.message = "您的角色不能提交部门预警。"
        return alerts_may_submit(user=request.user)


ALERT_PERMISSIONS = [permissions.IsAuthenticated, AlertsPermission]


class AlertFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AlertStatus.choices, label="匹配状态")
    alert_type = django_filters.ChoiceFilter(choices=AlertType.choices, label="预警类型")
    department = django_filters.CharFilter(label="来源部门")
    idempotency_key = django_filters.CharFilter(label="幂等键")
    origin = django_filters.ChoiceFilter(choices=AlertOrigin.choices, label="产生方式")

    class Meta:
        model = DepartmentAlert
        fields = ["status", "alert_type", "department", "idempotency_key", "origin"]


class AlertInSerializer(PersonInMixin, serializers.Serializer[Any]):
    idempotency_key = serializers.RegexField(
        r"^[A-Za-z0-9._:-]{1,64}$",
        help_text="幂等键：同一部门内唯一；重复提交同一键不会重复写入。",
    )
    id_number = serializers.CharField(max_length=32, help_text="身份证号（18 位，校验码正确）")
    name = serializers.CharField(max_length=64, help_text="姓名")
    alert_type = serializers.ChoiceField(choices=AlertType.choices, help_text="预警类型")
    alert_date = serializers.DateField(help_text="预警日期")
    amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=0,  # type: ignore[arg-type]
        required=False,
        allow_null=True,
        coerce_to_string=False,
        help_text="金额（元）；大额医疗支出和受灾的金额记为刚性支出",
    )
    department = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="来源部门；行业部门用户和令牌忽略此项，使用其所属部门",
    )
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text="说明")


class AlertBatchSerializer(serializers.Serializer[Any]):
    alerts = AlertInSerializer(
        many=True,
        allow_empty=False,
        max_length=MAX_BATCH,  # type: ignore[call-arg]
        help_text="预警，每批至多 1 000 条",
    )

    def validate_alerts(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        keys = [v["idempotency_key"] for v in value]
        if len(set(keys)) != len(keys):
            raise serializers.ValidationError("同一批中幂等键重复。")
        natural = [(v["id_number"], v["alert_type"], v["alert_date"]) for v in value]
        if len(set(natural)) != len(natural):
            raise serializers.ValidationError("同一批中“身份证号+预警类型+预警日期”重复。")
        return value


class AlertOutcomeSerializer(serializers.Serializer[Any]):
    idempotency_key = serializers.CharField(help_text="提交时的幂等键")
    id = serializers.IntegerField(help_text="预警编号")
    status = serializers.ChoiceField(choices=AlertStatus.choices, help_text="匹配状态")
    duplicate = serializers.BooleanField(help_text="此键此前已提交，本次未写入")


class AlertBatchResultSerializer(serializers.Serializer[Any]):
    matched = serializers.IntegerField(help_text="已匹配条数")
    unmatched = serializers.IntegerField(help_text="未匹配条数")
    duplicates = serializers.IntegerField(help_text="重复提交（未写入）条数")
    results = AlertOutcomeSerializer(many=True, help_text="逐条结果，顺序同提交")


class AlertSerializer(serializers.ModelSerializer[DepartmentAlert]):
    id_number_masked = serializers.SerializerMethodField(help_text="身份证号（脱敏）；行业部门用户为空")
    household_no = serializers.SerializerMethodField(help_text="匹配到的户编号；行业部门用户为空")

    class Meta:
        model = DepartmentAlert
        fields = [
            "id",
            "idempotency_key",
            "alert_type",
            "alert_date",
            "amount",
            "department",
            "origin",
            "status",
            "created_at",
            "id_number_masked",
            "household_no",
        ]

    def _full(self) -> bool:
        return bool(self.context.get("household_data"))

    def get_id_number_masked(self, obj: DepartmentAlert) -> str | None:
        return id_number_mask(obj.id_number) if self._full() else None

    def get_household_no(self, obj: DepartmentAlert) -> str | None:
        if not self._full() or obj.member is None:
            return None
        return obj.member.household.household_no


@extend_schema_view(
    list=extend_schema(summary="部门预警列表", description="县级等看本辖区预警；行业部门只看本部门提交的匹配状态。"),
    retrieve=extend_schema(summary="部门预警详情"),
)
class AlertViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """部门预警：提交（按身份证号匹配家庭成员）与查询匹配状态。"""

    queryset = DepartmentAlert.objects.all()
    permission_classes = ALERT_PERMISSIONS
    lookup_value_regex = f"-?{ID_REGEX}"  # the system's alerts from 医保 extracts are numbered below 0
    serializer_class = AlertSerializer
    filterset_class = AlertFilter

    def get_queryset(self) -> QuerySet[DepartmentAlert]:
        return alerts_visible(user=self.request.user)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "household_data": shows_household_data(user=self.request.user)}

    @extend_schema(
        summary="提交一批部门预警",
        description=(
            "每批 1–1 000 条。按身份证号在提交者管辖范围内匹配家庭成员：匹配成功的为该户生成或并入"
            "“部门预警”线索，大额医疗支出/受灾的金额记为刚性支出；未匹配的保留为“未匹配”。"
            "同一部门内同一幂等键重复提交不会重复写入（duplicate=true）。"
        ),
        request=AlertBatchSerializer,
        responses={201: AlertBatchResultSerializer},
        examples=[
            OpenApiExample(
                "一条大额医疗支出",
                request_only=True,
                value={
                    "alerts": [
                        {
                            "idempotency_key": "yb-2025-000123",
                            "id_number": "52010119800101001X",
                            "name": "张三",
                            "alert_type": "MEDICAL",
                            "alert_date": "2025-03-14",
                            "amount": "23456.00",
                            "note": "住院自付",
                        }
                    ]
                },
            )
        ],
    )
    def create(self, request: Request) -> Response:
        batch = AlertBatchSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        try:
            outcomes = alerts_submit(user=request.user, items=batch.validated_data["alerts"])
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"alerts": exc.messages}) from exc
        fresh = [o for o in outcomes if not o.duplicate]
        data = {
            "matched": sum(o.status == AlertStatus.MATCHED for o in fresh),
            "unmatched": sum(o.status == AlertStatus.UNMATCHED for o in fresh),
            "duplicates": len(outcomes) - len(fresh),
            "results": [o.__dict__ for o in outcomes],
        }
        return Response(AlertBatchResultSerializer(data).data, status=status.HTTP_201_CREATED)


class MedicalSettlementInSerializer(serializers.Serializer[Any]):
    id_number = serializers.CharField(max_length=32, help_text="身份证号（18 位，校验码正确）")
    year = serializers.IntegerField(min_value=2000, max_value=2100, help_text="结算年度")
    out_of_pocket = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=0,  # type: ignore[arg-type]
        coerce_to_string=False,
        help_text="年度个人自付医疗费用（元）",
    )

    def validate_id_number(self, value: str) -> str:
        try:
            return id_number_normalize(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc

    def validate_year(self, value: int) -> int:
        message = settlement_year_error(value)
        if message:
            raise serializers.ValidationError(message)
        return value


class MedicalSettlementBatchSerializer(serializers.Serializer[Any]):
    settlements = MedicalSettlementInSerializer(
        many=True,
        allow_empty=False,
        max_length=MAX_BATCH,  # type: ignore[call-arg]
        help_text="医保结算数据，每批至多 1 000 条",
    )

    def validate_settlements(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        keys = [(v["id_number"], v["year"]) for v in value]
        if len(set(keys)) != len(keys):
            raise serializers.ValidationError("同一批中“身份证号+年度”重复。")
        return value


class MedicalSettlementResultSerializer(serializers.Serializer[Any]):
    stored = serializers.IntegerField(help_text="保存的结算数据条数")
    alerted = serializers.IntegerField(
        allow_null=True,
        help_text=format_lazy(
            "达到预警线、转为大额医疗支出预警的条数；部门用户为空（是否转为预警会透露该人是否为脱贫户或{}）",
            term_lazy("target"),
        ),
    )
    new_alerts = serializers.IntegerField(
        allow_null=True, help_text="其中新写入的预警条数（重复提交的不计）；部门用户为空"
    )


class MedicalSettlementViewSet(viewsets.ViewSet):
    """医保结算数据：部门只报原始数据，由系统按参数判断是否生成大额医疗支出预警。"""

    permission_classes = ALERT_PERMISSIONS

    @extend_schema(
        summary="提交医保结算数据",
        description=format_lazy(
            "每批 1–1 000 条（身份证号、年度、个人自付医疗费用）。全部保存；自付费用达到预警线的"
            "（默认：脱贫户成员和{} ≥ 5 000 元，其他人员 ≥ 20 000 元）转为“大额医疗支出”预警，"
            "与直接提交的预警走同一匹配流程。重复提交不会重复生成预警。",
            term_lazy("target"),
        ),
        request=MedicalSettlementBatchSerializer,
        responses={201: MedicalSettlementResultSerializer},
        examples=[
            OpenApiExample(
                "两条结算数据",
                request_only=True,
                value={
                    "settlements": [
                        {"id_number": "52010119800101001X", "year": 2025, "out_of_pocket": "6800.00"},
                        {"id_number": "520101198505170023", "year": 2025, "out_of_pocket": "1200.00"},
                    ]
                },
            )
        ],
    )
    def create(self, request: Request) -> Response:
        batch = MedicalSettlementBatchSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        try:
            outcome = medical_settlements_submit(user=request.user, items=batch.validated_data["settlements"])
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"settlements": exc.messages}) from exc
        return Response(MedicalSettlementResultSerializer(outcome.__dict__).data, status=status.HTTP_201_CREATED)
