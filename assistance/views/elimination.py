"""Pages: 风险消除 candidates and proposals; propose (village), review (township), confirm (county)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from assistance.forms import ActForm, ProposeForm
from assistance.models import OPEN_PROPOSAL_STATES, EliminationProposal, ProposalState
from assistance.selectors.elimination import (
    elimination_candidates,
    elimination_criteria,
    elimination_proposal_detail,
    elimination_proposals,
)
from assistance.services.elimination import ELIMINATION_WORKFLOW, elimination_act, elimination_propose
from assistance.views.common import paginate
from fanpin.core.models import AuditEntry
from fanpin.core.roles import Permission, effective_role, role_can
from fanpin.core.scoping import ObjectOutOfScope
from fanpin.core.terms import term
from fanpin.web.errors import error_messages
from fanpin.web.mixins import PermissionRequiredMixin
from monitoring.models import MonitoringTarget


class EliminationListView(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission = Permission.VIEW_HOUSEHOLDS

    def get(self, request: HttpRequest) -> HttpResponse:
        show_all = request.GET.get("all") == "1"
        # the home page's 待办 links: ?proposable=1 (village), ?state=PROPOSED / REVIEWED (township, county)
        proposable = not show_all and request.GET.get("proposable") == "1"
        state = request.GET.get("state", "")
        states = [state] if state in OPEN_PROPOSAL_STATES else list(OPEN_PROPOSAL_STATES)
        today = timezone.localdate()
        assessments = elimination_candidates(user=request.user, today=today, include_all=show_all)
        if proposable:
            assessments = [a for a in assessments if a.open_proposal is None]
        proposals = list(
            elimination_proposals(user=request.user).filter(state__in=states).order_by("proposed_at", "id")
        )
        context = {
            "assessments": assessments,
            **paginate(request, assessments),
            "show_all": show_all,
            "proposable": proposable,
            "proposal_state": ProposalState(state).label if state in OPEN_PROPOSAL_STATES else "",
            "today": today,
            "proposals": [(p, ELIMINATION_WORKFLOW.available(p, request.user)) for p in proposals],
            "may_propose": role_can(effective_role(request.user), Permission.PROPOSE_ELIMINATION),
            "propose_form": ProposeForm(),
            "active_nav": "elimination",
        }
        return render(request, "assistance/elimination_list.html", context)


class ProposeView(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission = Permission.PROPOSE_ELIMINATION

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = ProposeForm(request.POST)
        back = reverse("assistance:elimination_list")
        if not form.is_valid():
            if not MonitoringTarget.objects.for_user(request.user).filter(pk=pk).exists():
                raise ObjectOutOfScope(term("target"))
            messages.error(request, "请选择消除方式（帮扶消除或自然消除）。")
            return HttpResponseRedirect(back)
        try:
            proposal = elimination_propose(
                actor=request.user,
                target_id=pk,
                method=form.cleaned_data["method"],
                opinion=form.cleaned_data["opinion"],
            )
        except ValidationError as exc:
            for message in error_messages(exc):
                messages.error(request, message)
            return HttpResponseRedirect(back)
        messages.success(request, "已提议风险消除，等待乡镇审核。")
        return HttpResponseRedirect(reverse("assistance:proposal_detail", args=[proposal.pk]))


class ProposalDetailView(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission = Permission.VIEW_HOUSEHOLDS

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        try:
            proposal = elimination_proposal_detail(user=request.user, pk=pk)
        except EliminationProposal.DoesNotExist:
            raise ObjectOutOfScope("风险消除申请") from None
        target = proposal.target
        history = AuditEntry.objects.filter(object_type="elimination", object_id=str(proposal.pk)).select_related(
            "actor"
        )
        context = {
            "proposal": proposal,
            "target": target,
            "assessment": elimination_criteria(target=target, today=timezone.localdate())
            if target.status == MonitoringTarget.Status.ACTIVE
            else None,
            "transitions": ELIMINATION_WORKFLOW.available(proposal, request.user),
            "history": list(history.order_by("at", "id")),
            "active_nav": "elimination",
        }
        return render(request, "assistance/proposal_detail.html", context)


class ProposalActView(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission = Permission.DECIDE_ELIMINATION

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not EliminationProposal.objects.for_user(request.user).filter(pk=pk).exists():
            raise ObjectOutOfScope("风险消除申请")
        back = reverse("assistance:proposal_detail", args=[pk])
        form = ActForm(request.POST)
        if not form.is_valid():
            messages.error(request, "请选择操作。")
            return HttpResponseRedirect(back)
        try:
            proposal = elimination_act(
                actor=request.user, pk=pk, name=form.cleaned_data["name"], opinion=form.cleaned_data["opinion"]
            )
        except ValidationError as exc:
            for message in error_messages(exc):
                messages.error(request, message)
            return HttpResponseRedirect(back)
        messages.success(request, f"已完成：{proposal.get_state_display()}。")
        return HttpResponseRedirect(back)


elimination_list = EliminationListView.as_view()
propose = ProposeView.as_view()
proposal_detail = ProposalDetailView.as_view()
proposal_act = ProposalActView.as_view()
