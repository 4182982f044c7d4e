"""/api/v1/leads/ and /api/v1/targets/: lists, details, and the review transitions (same rules as pages)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import format_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from fanpin.core.masking import FreeTextMasked
from fanpin.core.scoping import ObjectOutOfScope, ScopedAPIViewMixin
from fanpin.core.terms import term_lazy
from fanpin.core.typed import ascii_int
from fanpin.web.api import ID_REGEX, IntegerFilter
from monitoring.api.filters import _within
from monitoring.api.serializers import MemberSerializer
from monitoring.models import (
    MAX_RISK_TYPES,
    AppraisalOutcome,
    Lead,
    LeadSource,
    LeadState,
    MonitoringTarget,
    RejectionCategory,
    RiskType,
    TargetCategory,
    TargetStatus,
)
from monitoring.models.screening_rules import RuleChoices
from monitoring.selectors.deadlines import leads_overdue_condition
from monitoring.selectors.households import members_prefetch
from monitoring.selectors.leads import QueueFilters, _json_list_has, lead_queue, overdue_cutoff, targets_in_scope
from monitoring.services import review


# -- filters -------------------------------------------------------------------------------------
class LeadFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=LeadState.choices, label="状态")
    source = django_filters.ChoiceFilter(choices=LeadSource.choices, method="filter_source", label="线索来源")
    rule = django_filters.ChoiceFilter(choices=RuleChoices(), method="filter_rule", label="触发规则")
    category = django_filters.ChoiceFilter(
        field_name="suggested_category", choices=TargetCategory.choices, label="建议类别"
    )
    village = django_filters.CharFilter(field_name="household__village_id", label="村级区划代码")
    township = django_filters.CharFilter(method="filter_region", label="乡镇区划代码")
    year = IntegerFilter(field_name="year", min_value=2000, max_value=2100, label="年度")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="逾期")
    late = django_filters.BooleanFilter(method="filter_late", label="超期（任一环节超过办理时限）")

    class Meta:
        model = Lead
        fields = ["state", "source", "rule", "category", "village", "township", "year", "overdue", "late"]

    def filter_source(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(_json_list_has("sources", value))

    def filter_rule(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(_json_list_has("rules_fired", value))

    def filter_region(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return _within(qs, value)

    def filter_overdue(self, qs: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return qs
        cond = {"state__in": [LeadState.NEW, LeadState.VERIFIED, LeadState.REVIEWED], "raised_at__lt": overdue_cutoff()}
        return qs.filter(**cond) if value else qs.exclude(**cond)

    def filter_late(self, qs: QuerySet, name: str, value: bool | None) -> QuerySet:
        """The queue's 「超期」 (monitoring.selectors.deadlines: the same rule as the lead page)."""
        if value is None:
            return qs
        late = Lead.objects.filter(leads_overdue_condition(today=timezone.localdate())).values("pk")
        return qs.filter(pk__in=late) if value else qs.exclude(pk__in=late)


class TargetFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=TargetStatus.choices, label="状态")
    category = django_filters.ChoiceFilter(choices=TargetCategory.choices, label="类别")
    risk_type = django_filters.ChoiceFilter(choices=RiskType.choices, method="filter_risk", label="风险类型")
    village = django_filters.CharFilter(field_name="household__village_id", label="村级区划代码")
    township = django_filters.CharFilter(method="filter_region", label="乡镇区划代码")

    class Meta:
        model = MonitoringTarget
        fields = ["status", "category", "risk_type", "village", "township"]

    def filter_risk(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(_json_list_has("risk_types", value))

    def filter_region(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return _within(qs, value)


# -- serializers ---------------------------------------------------------------------------------
class LeadListSerializer(serializers.ModelSerializer[Lead]):
    household_no = serializers.CharField(source="household.household_no", read_only=True)
    village = serializers.CharField(source="household.village_id", read_only=True)
    village_name = serializers.CharField(source="household.village.name", read_only=True)
    head_name = serializers.CharField(read_only=True, allow_null=True)
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Lead
        fields = [
            "id",
            "household",
            "household_no",
            "village",
            "village_name",
            "head_name",
            "state",
            "sources",
            "rules_fired",
            "suggested_category",
            "suggested_risk_types",
            "year",
            "raised_at",
            "is_overdue",
        ]


class LeadDetailSerializer(FreeTextMasked, LeadListSerializer):
    # free text typed by households and cadres (appeal reasons in the evidence, the rejection reason)
    free_text_fields = ("evidence", "rejection_reason")
    members = MemberSerializer(source="household.current_members", many=True, read_only=True)
    target = serializers.SerializerMethodField()

    class Meta(LeadListSerializer.Meta):
        fields = [
            *LeadListSerializer.Meta.fields,
            "evidence",
            "verified_at",
            "home_checked_on",
            "consent_signed",
            "appraisal_on",
            "appraisal_outcome",
            "publicity_start",
            "publicity_end",
            "accepted_on",
            "reviewed_at",
            "decided_at",
            "rejection_reason",
            "rejection_category",
            "appeal_of",
            "members",
            "target",
        ]

    def get_target(self, obj: Lead) -> int | None:
        return next((t.pk for t in obj.targets.all()), None)


class TargetSerializer(serializers.ModelSerializer[MonitoringTarget]):
    household_no = serializers.CharField(source="household.household_no", read_only=True)
    village = serializers.CharField(source="household.village_id", read_only=True)
    village_name = serializers.CharField(source="household.village.name", read_only=True)
    head_name = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = MonitoringTarget
        fields = [
            "id",
            "household",
            "household_no",
            "village",
            "village_name",
            "head_name",
            "lead",
            "category",
            "risk_types",
            "sources",
            "identified_on",
            "status",
            "elimination_method",
            "eliminated_on",
            "direct",
        ]
        # the model's verbose name keeps the migrations' words; the API shows the glossary's (fanpin.core.terms)
        extra_kwargs = {"category": {"label": format_lazy("{}类别", term_lazy("target"))}}


class OpinionInput(serializers.Serializer):
    opinion = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


class VerifyInput(OpinionInput):
    home_checked_on = serializers.DateField()
    consent_signed = serializers.BooleanField()
    appraisal_on = serializers.DateField()
    appraisal_outcome = serializers.ChoiceField(choices=[c for c in AppraisalOutcome.choices if c[0]])
    publicity_start = serializers.DateField()
    publicity_end = serializers.DateField()


class ConfirmInput(OpinionInput):
    category = serializers.ChoiceField(choices=TargetCategory.choices)
    risk_types = serializers.ListField(
        child=serializers.ChoiceField(choices=RiskType.choices), min_length=1, max_length=MAX_RISK_TYPES
    )
    identified_on = serializers.DateField(required=False)
    direct = serializers.BooleanField(
        required=False, default=False, help_text="县级直接确定（须填写 opinion 作为理由）"
    )


class RejectInput(serializers.Serializer):
    opinion = serializers.CharField(max_length=1000, help_text="不予纳入理由（必填）")
    category = serializers.ChoiceField(
        choices=RejectionCategory.choices,
        default=RejectionCategory.OTHER,
        help_text="未纳入原因类别（告知农户的类别；默认 OTHER 其他原因）",
    )


# -- views ---------------------------------------------------------------------------------------
class LeadViewSet(ScopedAPIViewMixin, viewsets.ReadOnlyModelViewSet[Lead]):
    """预警线索：列表（分页、过滤）、详情（成员身份证号脱敏）与审核操作（核实、审核、确定、不予纳入）。"""

    queryset = Lead.objects.all()
    lookup_value_regex = ID_REGEX
    filterset_class = LeadFilter

    def get_queryset(self) -> QuerySet[Lead]:
        qs = lead_queue(user=self.request.user, filters=QueueFilters(state="ALL", sort="-raised"))
        if self.action == "retrieve":
            qs = qs.defer(None).prefetch_related(*members_prefetch(path="household__"), "targets")
        return qs

    def get_serializer_class(self) -> Any:
        return LeadDetailSerializer if self.action == "retrieve" else LeadListSerializer

    def _transition(self, request: Request, pk: str | None, run: Any) -> Response:
        """Run the service; its refusals answer through ``fanpin.web.errors`` (404 / 403 / 409 / 400)."""
        lead = run(int(pk or 0))
        lead = (
            self.get_queryset()
            .defer(None)
            .prefetch_related(*members_prefetch(path="household__"), "targets")
            .get(pk=lead.pk)
        )
        return Response(LeadDetailSerializer(lead).data)

    def _check_role(self, name: str) -> None:
        if not review.LEAD_WORKFLOW.may_ever(self.request.user, name):
            raise PermissionDenied("您的角色不能执行此操作。")

    def _parse(self, serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
        s = serializer_class(data=request.data)
        s.is_valid(raise_exception=True)
        return dict(s.validated_data)

    @extend_schema(request=VerifyInput, responses=LeadDetailSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request: Request, pk: str | None = None) -> Response:
        self._ensure_visible(pk)
        self._check_role("verify")
        d = self._parse(VerifyInput, request)
        v = review.Verification(
            home_checked_on=d["home_checked_on"],
            consent_signed=d["consent_signed"],
            appraisal_on=d["appraisal_on"],
            appraisal_outcome=d["appraisal_outcome"],
            publicity_start=d["publicity_start"],
            publicity_end=d["publicity_end"],
        )
        return self._transition(
            request,
            pk,
            lambda i: review.lead_verify(lead_id=i, actor=request.user, opinion=d["opinion"], verification=v),
        )

    @extend_schema(request=OpinionInput, responses=LeadDetailSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str | None = None) -> Response:
        self._ensure_visible(pk)
        self._check_role("review")
        d = self._parse(OpinionInput, request)
        return self._transition(
            request, pk, lambda i: review.lead_review(lead_id=i, actor=request.user, opinion=d["opinion"])
        )

    @extend_schema(request=ConfirmInput, responses=LeadDetailSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        self._ensure_visible(pk)
        data: Any = request.data
        direct = str(data.get("direct", "")).lower() in ("true", "1")
        self._check_role("confirm_direct" if direct else "confirm")
        d = self._parse(ConfirmInput, request)
        decision = review.Decision(
            category=d["category"], risk_types=d["risk_types"], identified_on=d.get("identified_on")
        )
        if d["direct"]:
            return self._transition(
                request,
                pk,
                lambda i: review.lead_confirm_direct(
                    lead_id=i, actor=request.user, decision=decision, reason=d["opinion"]
                ),
            )
        return self._transition(
            request,
            pk,
            lambda i: review.lead_confirm(lead_id=i, actor=request.user, decision=decision, opinion=d["opinion"]),
        )

    @extend_schema(request=RejectInput, responses=LeadDetailSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        self._ensure_visible(pk)
        self._check_role("reject")
        d = self._parse(RejectInput, request)
        return self._transition(
            request,
            pk,
            lambda i: review.lead_reject(lead_id=i, actor=request.user, reason=d["opinion"], category=d["category"]),
        )

    def _ensure_visible(self, pk: str | None) -> None:
        number = ascii_int(pk)
        if number is None or not self.get_queryset().filter(pk=number).exists():
            raise ObjectOutOfScope("线索")


class TargetViewSet(ScopedAPIViewMixin, viewsets.ReadOnlyModelViewSet[MonitoringTarget]):
    # the description (the browsable API, the OpenAPI schema) names the targets with the glossary: below

    queryset = MonitoringTarget.objects.all()
    lookup_value_regex = ID_REGEX
    filterset_class = TargetFilter
    serializer_class = TargetSerializer

    def get_queryset(self) -> QuerySet[MonitoringTarget]:
        return targets_in_scope(user=self.request.user)


TargetViewSet.__doc__ = format_lazy("{}：列表（分页、过滤）与详情。", term_lazy("target"))  # type: ignore[assignment]
