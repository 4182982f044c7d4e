"""Pages: 风险消除 candidates and proposals; propose with the 入户核实, 民主评议 and 公示 (village),
review after the 公示 (township), decide (county); the village's elimination 公示名单 (page, xlsx)."""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from assistance.forms import ActForm
from assistance.models import OPEN_PROPOSAL_STATES, EliminationProposal, ProposalState
from assistance.selectors.elimination import (
    elimination_candidates,
    elimination_criteria,
    elimination_proposal_detail,
    elimination_proposals,
)
from assistance.selectors.elimination_steps import (
    VILLAGE_STEPS,
    Step,
    elimination_deadlines,
    elimination_deadlines_many,
    elimination_publicity_rows,
    elimination_publicity_village,
    elimination_publicity_villages,
    elimination_step,
    elimination_step_condition,
    step_label,
)
from assistance.services.elimination import (
    ELIMINATION_WORKFLOW,
    elimination_act,
    elimination_appraisal_record,
    elimination_home_check_record,
    elimination_propose,
    elimination_publicity_record,
    review_refusal,
)
from assistance.services.elimination_publicity import elimination_publicity_xlsx
from assistance.views.common import paginate
from assistance.views.elimination_forms import AppraisalForm, HomeCheckForm, ProposeStepsForm, PublicityForm
from fanpin.core.models import AuditEntry
from fanpin.core.roles import Permission, effective_role, role_can
from fanpin.core.scoping import ObjectOutOfScope
from fanpin.core.terms import term
from fanpin.web.errors import error_messages, form_errors_add
from fanpin.web.mixins import PermissionRequiredMixin
from monitoring.models import MonitoringTarget
from monitoring.models.visits import CHECKLIST_FIELDS
from monitoring.views.exports import XLSX, attachment, dated_names


class EliminationListView(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission = Permission.VIEW_HOUSEHOLDS

    def get(self, request: HttpRequest) -> HttpResponse:
        show_all = request.GET.get("all") == "1"
        # the home page's 待办 links: ?proposable=1 (village), ?state=PROPOSED / REVIEWED (township, county)
        proposable = not show_all and request.GET.get("proposable") == "1"
        state = request.GET.get("state", "")
        states = [state] if state in OPEN_PROPOSAL_STATES else list(OPEN_PROPOSAL_STATES)
        # ?step=TOWNSHIP (公示 ended: the township's 待办), ?step=VILLAGE (the village's own steps)
        step = request.GET.get("step", "")
        steps = VILLAGE_STEPS if step == "VILLAGE" else (step,) if step in Step.LABELS else ()
        today = timezone.localdate()
        assessments = elimination_candidates(user=request.user, today=today, include_all=show_all)
        if proposable:
            assessments = [a for a in assessments if a.open_proposal is None]
        chosen = elimination_proposals(user=request.user).filter(state__in=states)
        if steps:
            chosen = chosen.filter(elimination_step_condition(steps=steps, today=today))
        proposals = list(chosen.order_by("proposed_at", "id"))
        if steps:
            state_label = "、".join(step_label(s) for s in steps)
        else:
            state_label = ProposalState(state).label if state in OPEN_PROPOSAL_STATES else ""
        deadlines = elimination_deadlines_many(proposals=proposals, today=today)
        context = {
            "assessments": assessments,
            **paginate(request, assessments),
            "show_all": show_all,
            "proposable": proposable,
            "proposal_state": state_label,
            "today": today,
            "proposals": [
                (
                    p,
                    ELIMINATION_WORKFLOW.available(p, request.user),
                    step_label(elimination_step(p, today=today)),
                    deadlines[p.pk],
                )
                for p in proposals
            ],
            "publicity_villages": elimination_publicity_villages(user=request.user, today=today),
            "may_propose": role_can(effective_role(request.user), Permission.PROPOSE_ELIMINATION),
            "active_nav": "elimination",
        }
        return render(request, "assistance/elimination_list.html", context)


class ProposeView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """GET: the 入户核实 form beside the criteria; POST: propose."""

    permission = Permission.PROPOSE_ELIMINATION

    def _target(self, request: HttpRequest, pk: int) -> MonitoringTarget:
        target = (
            MonitoringTarget.objects.for_user(request.user)
            .select_related("household__village__parent")
            .filter(pk=pk)
            .first()
        )
        if target is None:
            raise ObjectOutOfScope(term("target"))
        return target

    def _render(self, request: HttpRequest, target: MonitoringTarget, form: ProposeStepsForm) -> HttpResponse:
        today = timezone.localdate()
        assessment = elimination_criteria(target=target, today=today)
        context = {
            "target": target,
            "assessment": assessment,
            "form": form,
            "today": today,
            "active_nav": "elimination",
        }
        return render(request, "assistance/elimination_propose.html", context, status=400 if form.errors else 200)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        target = self._target(request, pk)
        form = ProposeStepsForm(initial={"checked_on": timezone.localdate(), "method": "ASSISTED"})
        return self._render(request, target, form)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        target = self._target(request, pk)
        form = ProposeStepsForm(request.POST)
        if not form.is_valid():
            return self._render(request, target, form)
        try:
            proposal = elimination_propose(
                actor=request.user,
                target_id=target.pk,
                method=form.cleaned_data["method"],
                opinion=form.cleaned_data["opinion"],
                home_check=form.home_check(),
            )
        except ValidationError as exc:
            form_errors_add(form, exc)
            return self._render(request, target, form)
        messages.success(request, "已提议风险消除（已记录入户核实），请组织民主评议。")
        return HttpResponseRedirect(reverse("assistance:proposal_detail", args=[proposal.pk]))


def _detail_context(request: HttpRequest, proposal: EliminationProposal, **forms: Any) -> dict[str, Any]:
    today = timezone.localdate()
    target = proposal.target
    history = AuditEntry.objects.filter(object_type="elimination", object_id=str(proposal.pk)).select_related("actor")
    step = elimination_step(proposal, today=today)
    village_may = role_can(effective_role(request.user), Permission.PROPOSE_ELIMINATION)
    transitions = [t for t in ELIMINATION_WORKFLOW.available(proposal, request.user) if t.name != "appraisal_reject"]
    notes = []
    if any(t.name == "review" for t in transitions):
        refusal = review_refusal(proposal, today=today)
        if refusal:
            notes.append(refusal)
    checklist = [(label, proposal.home_checklist.get(name)) for name, label in CHECKLIST_FIELDS]
    bound = [f for f in forms.values() if f is not None and f.errors]
    step_errors = [str(e) for f in bound for e in f.non_field_errors()] + [
        f"{f[name].label}：{e}" for f in bound for name, errors in f.errors.items() if name != "__all__" for e in errors
    ]
    return {
        "proposal": proposal,
        "target": target,
        "today": today,
        "step": step,
        "step_label": step_label(step),
        "steps": Step,
        "checklist": checklist,
        "deadlines": elimination_deadlines(proposal=proposal, today=today),
        "assessment": elimination_criteria(target=target, today=today)
        if target.status == MonitoringTarget.Status.ACTIVE
        else None,
        "transitions": transitions,
        "notes": notes,
        "step_errors": step_errors,
        "village_may": village_may and proposal.state == ProposalState.PROPOSED,
        "home_check_form": forms.get("home_check_form") or HomeCheckForm(initial={"checked_on": today}),
        "appraisal_form": forms.get("appraisal_form") or AppraisalForm(initial={"appraisal_on": today}),
        "publicity_form": forms.get("publicity_form") or PublicityForm(initial={"start": today}),
        "history": list(history.order_by("at", "id")),
        "active_nav": "elimination",
    }


def _proposal(request: HttpRequest, pk: int) -> EliminationProposal:
    try:
        return elimination_proposal_detail(user=request.user, pk=pk)
    except EliminationProposal.DoesNotExist:
        raise ObjectOutOfScope("风险消除申请") from None


class ProposalDetailView(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission = Permission.VIEW_HOUSEHOLDS

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        proposal = _proposal(request, pk)
        return render(request, "assistance/proposal_detail.html", _detail_context(request, proposal))


class _StepView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """POST one village step; errors next to the fields on the proposal page (400)."""

    permission = Permission.PROPOSE_ELIMINATION
    form_class: type[Any]
    form_name: str
    done: str

    def run(self, request: HttpRequest, pk: int, form: Any) -> EliminationProposal:
        raise NotImplementedError

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        proposal = _proposal(request, pk)
        form = self.form_class(request.POST)
        if form.is_valid():
            try:
                self.run(request, pk, form)
            except ValidationError as exc:
                form_errors_add(form, exc)
            else:
                messages.success(request, self.done)
                return HttpResponseRedirect(reverse("assistance:proposal_detail", args=[pk]))
        proposal = _proposal(request, pk)
        context = _detail_context(request, proposal, **{self.form_name: form})
        return render(request, "assistance/proposal_detail.html", context, status=400)


class HomeCheckView(_StepView):
    form_class = HomeCheckForm
    form_name = "home_check_form"
    done = "已补录入户核实，请组织民主评议。"

    def run(self, request: HttpRequest, pk: int, form: Any) -> EliminationProposal:
        return elimination_home_check_record(actor=request.user, pk=pk, home_check=form.home_check())


class AppraisalView(_StepView):
    form_class = AppraisalForm
    form_name = "appraisal_form"
    done = "已登记民主评议。"

    def run(self, request: HttpRequest, pk: int, form: Any) -> EliminationProposal:
        d = form.cleaned_data
        return elimination_appraisal_record(
            actor=request.user, pk=pk, appraisal_on=d["appraisal_on"], outcome=d["outcome"], reason=d["reason"]
        )


class PublicityRecordView(_StepView):
    form_class = PublicityForm
    form_name = "publicity_form"
    done = "已登记村内公示；公示结束后报乡镇审核。"

    def run(self, request: HttpRequest, pk: int, form: Any) -> EliminationProposal:
        d = form.cleaned_data
        return elimination_publicity_record(actor=request.user, pk=pk, start=d["start"], end=d["end"])


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


class PublicityView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """The village's 风险消除 公示名单 (printable): name, village, persons, category, method, reason."""

    permission = Permission.VIEW_HOUSEHOLDS

    def get(self, request: HttpRequest, code: str) -> HttpResponse:
        village = elimination_publicity_village(user=request.user, code=code)
        if village is None:
            raise ObjectOutOfScope("村")
        today = timezone.localdate()
        rows = elimination_publicity_rows(user=request.user, village_code=village.code, today=today)
        context = {"village": village, "rows": rows, "today": today, "active_nav": "elimination"}
        return render(request, "assistance/elimination_publicity.html", context)


class PublicityXlsxView(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission = Permission.VIEW_HOUSEHOLDS

    def get(self, request: HttpRequest, code: str) -> HttpResponse:
        village = elimination_publicity_village(user=request.user, code=code)
        if village is None:
            raise ObjectOutOfScope("村")
        buffer = io.BytesIO()
        elimination_publicity_xlsx(user=request.user, village_code=village.code, output=buffer)
        filename, fallback = dated_names(f"风险消除公示名单-{village.name}", f"elimination-publicity-{village.code}")
        return attachment(HttpResponse(buffer.getvalue(), content_type=XLSX), filename=filename, fallback=fallback)


elimination_list = EliminationListView.as_view()
propose = ProposeView.as_view()
proposal_detail = ProposalDetailView.as_view()
proposal_act = ProposalActView.as_view()
home_check = HomeCheckView.as_view()
appraisal = AppraisalView.as_view()
publicity_record = PublicityRecordView.as_view()
publicity = PublicityView.as_view()
publicity_xlsx = PublicityXlsxView.as_view()
