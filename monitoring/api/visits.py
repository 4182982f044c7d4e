"""/api/v1/visits/ (list, detail, create idempotent on ``client_uuid``) and /api/v1/applications/."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils import html

from fanpin.core.idcard import id_number_mask
from fanpin.core.masking import FreeTextMasked
from fanpin.core.roles import Permission, effective_role, role_can
from fanpin.core.scoping import ScopedAPIViewMixin
from fanpin.core.typed import ascii_int
from monitoring.models import CHECKLIST_FIELDS, MAX_VISIT_PHOTOS, Application, IncomeChange, Visit, VisitEvent
from monitoring.selectors.cadre import applications_in_scope, visits_in_scope
from monitoring.services.applications import application_record
from monitoring.services.visits import VisitInput, visit_record


def _require(request: Request, permission: str) -> None:
    if not role_can(effective_role(request.user), permission):
        raise PermissionDenied("您的角色不能执行此操作。")


class VisitSerializer(FreeTextMasked, serializers.ModelSerializer[Visit]):
    free_text_fields = ("visitors", "notes")
    household_no = serializers.CharField(source="household.household_no", read_only=True)
    photos = serializers.SerializerMethodField()

    class Meta:
        model = Visit
        fields = [
            "id",
            "client_uuid",
            "household",
            "household_no",
            "visited_on",
            "visitors",
            *[name for name, _label in CHECKLIST_FIELDS],
            "events",
            "income_change",
            "risk_flag",
            "notes",
            "photos",
            "created_at",
        ]

    def get_photos(self, obj: Visit) -> int:
        return len(obj.photos.all())


class VisitInputSerializer(serializers.Serializer):
    """JSON or multipart (the offline queue sends the form's own fields; an unticked box is absent)."""

    client_uuid = serializers.UUIDField(help_text="客户端生成的 UUID：重发同一条走访不会重复录入")
    household = serializers.IntegerField()
    visited_on = serializers.DateField()
    visitors = serializers.CharField(max_length=200)
    food_secure = serializers.BooleanField(default=True)
    clothing_secure = serializers.BooleanField(default=True)
    education_secure = serializers.BooleanField(default=True)
    medical_secure = serializers.BooleanField(default=True)
    housing_secure = serializers.BooleanField(default=True)
    water_secure = serializers.BooleanField(default=True)
    events = serializers.ListField(child=serializers.ChoiceField(choices=VisitEvent.choices), required=False)
    income_change = serializers.ChoiceField(choices=IncomeChange.choices, default=IncomeChange.NONE)
    risk_flag = serializers.BooleanField(default=False)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    photos = serializers.ListField(
        child=serializers.FileField(), required=False, max_length=MAX_VISIT_PHOTOS, help_text="最多 3 张照片"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if html.is_html_input(kwargs.get("data")):  # form post: an absent box is an unticked box
            for name, _label in CHECKLIST_FIELDS:
                self.fields[name].default_empty_html = False

    def to_input(self) -> VisitInput:
        d = self.validated_data
        return VisitInput(
            household_id=d["household"],
            visited_on=d["visited_on"],
            visitors=d["visitors"],
            secure={name: d[name] for name, _label in CHECKLIST_FIELDS},
            events=d.get("events") or [],
            income_change=d["income_change"],
            risk_flag=d["risk_flag"],
            notes=d.get("notes", ""),
            client_uuid=d["client_uuid"],
            photos=d.get("photos") or [],
        )


class VisitViewSet(ScopedAPIViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[Visit]):
    """走访记录：列表、详情、录入（以 client_uuid 幂等：重发返回已有记录，状态 200）。"""

    queryset = Visit.objects.all()

    def get_queryset(self) -> QuerySet[Visit]:
        household = self.request.query_params.get("household", "")
        household_id = ascii_int(household)  # not "²"
        return visits_in_scope(user=self.request.user, household_id=household_id)

    def get_serializer_class(self) -> Any:
        return VisitInputSerializer if self.action == "create" else VisitSerializer

    @extend_schema(request=VisitInputSerializer, responses={200: VisitSerializer, 201: VisitSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require(request, Permission.RECORD_VISITS)
        data = VisitInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = visit_record(actor=request.user, data=data.to_input())
        visit = self.get_queryset().get(pk=outcome.visit.pk)
        body = {**VisitSerializer(visit).data, "lead": outcome.lead_id}
        return Response(body, status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK)


class ApplicationSerializer(FreeTextMasked, serializers.ModelSerializer[Application]):
    free_text_fields = ("description",)
    household_no = serializers.CharField(source="household.household_no", read_only=True, allow_null=True)
    id_number = serializers.SerializerMethodField(help_text="脱敏")

    class Meta:
        model = Application
        fields = [
            "id",
            "receipt_no",
            "channel",
            "source",  # CADRE · DIRECT · POSTER (a village's QR poster)
            "status",
            "village",
            "household",
            "household_no",
            "applicant_name",
            "id_number",
            "reason",
            "description",
            "amount",
            "lead",
            "client_uuid",
            "created_at",
        ]

    def get_id_number(self, obj: Application) -> str:
        return id_number_mask(obj.id_number) if obj.id_number else ""


class ApplicationInputSerializer(serializers.Serializer):
    """JSON or multipart (the offline queue sends the application form's own fields)."""

    client_uuid = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="客户端生成的 UUID：重发同一条申报不会重复录入（返回已有记录，状态 200）",
    )
    household = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=VisitEvent.choices)
    description = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True, min_value=0)


class ApplicationViewSet(ScopedAPIViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[Application]):
    """农户申报：列表（含待匹配的群众申报，身份证号脱敏）、详情、村干部代录。"""

    queryset = Application.objects.all()

    def get_queryset(self) -> QuerySet[Application]:
        return applications_in_scope(user=self.request.user, status=self.request.query_params.get("status", ""))

    def get_serializer_class(self) -> Any:
        return ApplicationInputSerializer if self.action == "create" else ApplicationSerializer

    @extend_schema(
        request=ApplicationInputSerializer, responses={200: ApplicationSerializer, 201: ApplicationSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        _require(request, Permission.RECORD_VISITS)
        data = ApplicationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        outcome = application_record(
            actor=request.user,
            household_id=d["household"],
            reason=d["reason"],
            description=d["description"],
            amount=d.get("amount"),
            client_uuid=d.get("client_uuid"),
        )
        application = self.get_queryset().get(pk=outcome.application.pk)
        return Response(
            ApplicationSerializer(application).data,
            status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK,
        )
