"""/api/v1/eliminations/: 风险消除 proposals (list, detail with steps and deadlines) and every step —
propose with the 入户核实, 补录入户核实, 民主评议, 公示, 乡镇审核, 县级审定, 退回 — the same services and
rules as the pages; refusals answer through ``fanpin.web.errors`` (404 / 403 / 409 / 400)."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from assistance.models import EliminationAppraisal, EliminationProposal, ProposalMethod, ProposalState
from assistance.selectors.elimination import elimination_proposals
from assistance.selectors.elimination_steps import elimination_deadlines, elimination_step
from assistance.services.elimination import (
    ELIMINATION_WORKFLOW,
    HomeCheck,
    elimination_act,
    elimination_appraisal_record,
    elimination_home_check_record,
    elimination_propose,
    elimination_publicity_record,
)
from fanpin.core.masking import FreeTextMasked
from fanpin.core.roles import Permission, effective_role, role_can
from fanpin.core.scoping import ObjectOutOfScope, ScopedAPIViewMixin
from fanpin.core.typed import ascii_int
from fanpin.web.api import ID_REGEX
from monitoring.models.visits import CHECKLIST_FIELDS
from monitoring.selectors.calendar import WorkingCalendar, step_limits_by_province


class EliminationSerializer(FreeTextMasked, serializers.ModelSerializer[EliminationProposal]):
    free_text_fields = ("home_visitors", "rejection_reason")
    household_no = serializers.CharField(source="target.household.household_no", read_only=True)
    village = serializers.CharField(source="target.household.village_id", read_only=True)
    step = serializers.SerializerMethodField(help_text="当前环节代码（HOME_CHECK … CONFIRMED / REJECTED）")
    deadlines = serializers.SerializerMethodField(help_text="各环节办理时限：起算日、截止日、办结日、是否逾期")

    class Meta:
        model = EliminationProposal
        fields = [
            "id",
            "target",
            "household_no",
            "village",
            "state",
            "step",
            "method",
            "proposed_at",
            "home_checked_on",
            "home_visitors",
            "home_checklist",
            "accounting_family_size",
            "accounting_wage_income",
            "accounting_business_income",
            "accounting_property_income",
            "accounting_transfer_income",
            "appraisal_on",
            "appraisal_outcome",
            "publicity_start",
            "publicity_end",
            "reviewed_at",
            "decided_at",
            "rejection_reason",
            "criteria",
            "deadlines",
        ]
        read_only_fields = fields

    def get_step(self, obj: EliminationProposal) -> str:
        return elimination_step(obj, today=timezone.localdate())

    def get_deadlines(self, obj: EliminationProposal) -> list[dict[str, Any]]:
        c = cast(dict[str, Any], self.context)  # one calendar and one set of limits per response
        if "calendar" not in c:
            today = timezone.localdate()
            c.update(today=today, calendar=WorkingCalendar.load(around=today), limits=step_limits_by_province())
        found = elimination_deadlines(proposal=obj, today=c["today"], calendar=c["calendar"], limits=c["limits"])
        return [
            {
                "step": d.step,
                "start": d.start,
                "due": d.due,
                "done_on": d.done_on,
                "overdue": d.overdue,
                "status": d.status,
            }
            for d in found
        ]


class HomeCheckInput(serializers.Serializer):
    checked_on = serializers.DateField(help_text="入户核实日期")
    visitors = serializers.CharField(max_length=200, help_text="核实人员")
    checklist = serializers.DictField(
        child=serializers.BooleanField(),
        help_text="两不愁三保障及饮水安全：" + "、".join(f"{name}（{label}）" for name, label in CHECKLIST_FIELDS),
    )
    family_size = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=30, help_text="12 个月收支核算：家庭人口数"
    )
    wage_income = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)
    business_income = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)
    property_income = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)
    transfer_income = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)


class ProposeInput(HomeCheckInput):
    target = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="监测对象 id")
    method = serializers.ChoiceField(choices=ProposalMethod.choices)
    opinion = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class AppraisalInput(serializers.Serializer):
    appraisal_on = serializers.DateField()
    outcome = serializers.ChoiceField(
        choices=[(EliminationAppraisal.AGREED.value, "同意"), (EliminationAppraisal.DISAGREED.value, "不同意")]
    )
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class PublicityInput(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class EliminationOpinionInput(serializers.Serializer):
    opinion = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


def _home_check(d: dict[str, Any]) -> HomeCheck:
    return HomeCheck(
        checked_on=d["checked_on"],
        visitors=d["visitors"],
        checklist=dict(d["checklist"]),
        family_size=d.get("family_size"),
        wage_income=d.get("wage_income"),
        business_income=d.get("business_income"),
        property_income=d.get("property_income"),
        transfer_income=d.get("transfer_income"),
    )


class EliminationViewSet(ScopedAPIViewMixin, viewsets.ReadOnlyModelViewSet[EliminationProposal]):
    """风险消除申请：列表、详情（环节、办理时限）与各环节操作（村级提议并入户核实、补录入户核实、民主评议、公示；乡镇审核；县级审定；退回）。"""

    queryset = EliminationProposal.objects.all()
    lookup_value_regex = ID_REGEX
    serializer_class = EliminationSerializer

    def get_queryset(self) -> QuerySet[EliminationProposal]:
        qs = elimination_proposals(user=self.request.user).order_by("-proposed_at", "-id")
        state = self.request.query_params.get("state", "")
        return qs.filter(state=state) if state in ProposalState.values else qs

    def _parse(self, cls: type[serializers.Serializer], request: Request) -> dict[str, Any]:
        s = cls(data=request.data)
        s.is_valid(raise_exception=True)
        return dict(s.validated_data)

    def _ensure_visible(self, pk: str | None) -> int:
        number = ascii_int(pk)
        if number is None or not self.get_queryset().filter(pk=number).exists():
            raise ObjectOutOfScope("风险消除申请")
        return number

    def _village(self) -> None:
        if not role_can(effective_role(self.request.user), Permission.PROPOSE_ELIMINATION):
            raise PermissionDenied("您的角色不能办理风险消除的村级环节。")

    def _answer(self, proposal: EliminationProposal) -> Response:
        return Response(EliminationSerializer(self.get_queryset().get(pk=proposal.pk)).data)

    @extend_schema(request=ProposeInput, responses=EliminationSerializer)
    @action(detail=False, methods=["post"])
    def propose(self, request: Request) -> Response:
        self._village()
        d = self._parse(ProposeInput, request)
        proposal = elimination_propose(
            actor=request.user,
            target_id=d["target"],
            method=d["method"],
            opinion=d["opinion"],
            home_check=_home_check(d),
        )
        return self._answer(proposal)

    @extend_schema(request=HomeCheckInput, responses=EliminationSerializer)
    @action(detail=True, methods=["post"], url_path="home-check")
    def home_check(self, request: Request, pk: str | None = None) -> Response:
        i = self._ensure_visible(pk)
        self._village()
        d = self._parse(HomeCheckInput, request)
        return self._answer(elimination_home_check_record(actor=request.user, pk=i, home_check=_home_check(d)))

    @extend_schema(request=AppraisalInput, responses=EliminationSerializer)
    @action(detail=True, methods=["post"])
    def appraisal(self, request: Request, pk: str | None = None) -> Response:
        i = self._ensure_visible(pk)
        self._village()
        d = self._parse(AppraisalInput, request)
        return self._answer(
            elimination_appraisal_record(
                actor=request.user, pk=i, appraisal_on=d["appraisal_on"], outcome=d["outcome"], reason=d["reason"]
            )
        )

    @extend_schema(request=PublicityInput, responses=EliminationSerializer)
    @action(detail=True, methods=["post"])
    def publicity(self, request: Request, pk: str | None = None) -> Response:
        i = self._ensure_visible(pk)
        self._village()
        d = self._parse(PublicityInput, request)
        return self._answer(elimination_publicity_record(actor=request.user, pk=i, start=d["start"], end=d["end"]))

    def _act(self, request: Request, pk: str | None, name: str) -> Response:
        i = self._ensure_visible(pk)
        if not ELIMINATION_WORKFLOW.may_ever(request.user, name):
            raise PermissionDenied("您的角色不能执行此操作。")
        d = self._parse(EliminationOpinionInput, request)
        return self._answer(elimination_act(actor=request.user, pk=i, name=name, opinion=d["opinion"]))

    @extend_schema(request=EliminationOpinionInput, responses=EliminationSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, "review")

    @extend_schema(request=EliminationOpinionInput, responses=EliminationSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, "confirm")

    @extend_schema(request=EliminationOpinionInput, responses=EliminationSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, pk, "reject")
