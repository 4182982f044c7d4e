"""Pages: the plan list, one target's plan (recommendation, checks, measures), measure list, 帮扶未落实."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import ListView

from assistance.forms import (
    MeasureAddForm,
    MeasureEditForm,
    MeasureFilterForm,
    MeasureProgressForm,
    PlanFilterForm,
    ProposeForm,
)
from assistance.models import TargetMeasure
from assistance.selectors.continuing import (
    CLOSING_STATUSES,
    CONTINUING_MEASURE_NAMES,
    measures_closable,
    measures_continuing,
)
from assistance.selectors.elimination import elimination_criteria, elimination_proposals
from assistance.selectors.plans import (
    plan_rows,
    target_measures_in_scope,
    target_plan_detail,
    targets_unassisted,
)
from assistance.selectors.recommendation import (
    labor_capacity_from_flags,
    measures_recommend,
    plan_check,
    plan_measures,
)
from assistance.services.measures import (
    DETAIL_FIELDS,
    MEASURE_WORKFLOW,
    measure_add,
    measure_status_set,
    measure_update,
)
from assistance.views.common import paginate
from fanpin.core.roles import Permission, effective_role, role_can
from fanpin.core.scoping import ObjectOutOfScope
from fanpin.core.terms import term
from fanpin.web.errors import error_messages, form_errors_add
from fanpin.web.mixins import PermissionRequiredMixin
from monitoring.models import MonitoringTarget, RiskType


class PlanListView(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission = Permission.VIEW_HOUSEHOLDS

    def get(self, request: HttpRequest) -> HttpResponse:
        form = PlanFilterForm(request.GET or None, user=request.user)
        filters = {"region_code": "", "flag": ""}
        if form.is_bound and form.is_valid():
            filters = {"region_code": form.cleaned_data["village"], "flag": form.cleaned_data["flag"]}
        today = timezone.localdate()
        # a village the form cannot read (two of that name, outside the scope): the form says why, nothing listed
        rows = [] if form.is_bound and form.errors else plan_rows(user=request.user, today=today, **filters)
        context = {
            "form": form,
            "rows": rows,
            **paginate(request, rows),
            "unassisted_count": targets_unassisted(user=request.user, today=today).count(),
            "active_nav": "assistance",
        }
        return render(request, "assistance/plan_list.html", context)


def _target_context(request: HttpRequest, pk: int, add_form: MeasureAddForm | None = None) -> dict[str, Any]:
    try:
        target = target_plan_detail(user=request.user, pk=pk)
    except MonitoringTarget.DoesNotExist:
        raise ObjectOutOfScope(term("target")) from None
    role = effective_role(request.user)
    capacity = labor_capacity_from_flags(
        has_full_labor=target.has_full_labor,  # type: ignore[attr-defined]
        has_weak_labor=target.has_weak_labor,  # type: ignore[attr-defined]
    )
    measures = list(target.measures.all())  # type: ignore[attr-defined]
    today = timezone.localdate()
    active = target.status == MonitoringTarget.Status.ACTIVE
    may_plan = role_can(role, Permission.PLAN_ASSISTANCE) and active
    # after 风险消除 only the measures that go on are still recorded (assistance.selectors.continuing)
    continuing = measures_continuing(target=target, measures=measures)
    recordable = {tm.pk for tm in measures} if active else {tm.pk for tm in continuing}
    # the others left open at the elimination may only be closed (已完成 / 已终止)
    closable = {tm.pk for tm in measures_closable(target=target, measures=measures)}
    if may_plan and add_form is None:
        add_form = MeasureAddForm(initial={"start_on": today})
    risk_labels = dict(RiskType.choices)
    return {
        "target": target,
        "household": target.household,
        "risk_labels": [risk_labels.get(r, r) for r in target.risk_types or []],
        "labor_capacity": capacity,
        "recommendation": measures_recommend(labor_capacity=capacity, risk_types=target.risk_types or []),
        "check": plan_check(
            labor_capacity=capacity, risk_types=target.risk_types or [], measures=plan_measures(measures)
        ),
        "measures": [
            (
                tm,
                [
                    t
                    for t in MEASURE_WORKFLOW.available(tm, request.user)
                    if tm.pk in recordable or (tm.pk in closable and t.target in CLOSING_STATUSES)
                ],
                tm.pk in recordable or tm.pk in closable,
                tm.pk in closable,
            )
            for tm in measures
        ],
        "continuing": continuing,
        "continuing_names": CONTINUING_MEASURE_NAMES,
        "may_plan": may_plan,
        "may_edit": role_can(role, Permission.PLAN_ASSISTANCE),
        "may_record": role_can(role, Permission.RECORD_PROGRESS),
        "add_form": add_form if may_plan else None,
        "progress_form": MeasureProgressForm(),
        "assessment": elimination_criteria(target=target, today=today)
        if target.status == MonitoringTarget.Status.ACTIVE
        else None,
        "may_propose": role_can(role, Permission.PROPOSE_ELIMINATION),
        "propose_form": ProposeForm(),
        "proposals": list(elimination_proposals(user=request.user).filter(target=target)),
        "active_nav": "assistance",
    }


class TargetPlanView(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission = Permission.VIEW_HOUSEHOLDS

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return render(request, "assistance/target_plan.html", _target_context(request, pk))


class MeasureAddView(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission = Permission.PLAN_ASSISTANCE

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = MeasureAddForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                item = measure_add(
                    actor=request.user,
                    target_id=pk,
                    measure_id=data["measure"].pk,
                    responsible_name=data["responsible_name"],
                    responsible_unit=data["responsible_unit"],
                    responsible_phone=data["responsible_phone"],
                    start_on=data["start_on"],
                    end_on=data["end_on"],
                    amount=data["amount"],
                    amount_kind=data["amount_kind"] or "",
                    progress_notes=data["progress_notes"],
                )
            except ValidationError as exc:
                form_errors_add(form, exc)
            else:
                messages.success(request, f"已添加帮扶措施“{item.measure.name}”。")
                return HttpResponseRedirect(reverse("assistance:target_plan", args=[pk]) + "#measures")
        context = _target_context(request, pk, add_form=form)
        return render(request, "assistance/target_plan.html", context)


class MeasureProgressView(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission = Permission.RECORD_PROGRESS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = TargetMeasure.objects.for_user(request.user).filter(pk=pk).values("target_id").first()
        if item is None:
            raise ObjectOutOfScope("帮扶措施")
        form = MeasureProgressForm(request.POST)
        if not form.is_valid():
            messages.error(request, "请选择状态。")
        else:
            try:
                saved = measure_status_set(
                    actor=request.user, pk=pk, status=form.cleaned_data["status"], note=form.cleaned_data["note"]
                )
            except ValidationError as exc:
                for message in error_messages(exc):
                    messages.error(request, message)
            else:
                messages.success(request, f"已更新“{saved.measure.name}”：{saved.get_status_display()}。")
        return HttpResponseRedirect(reverse("assistance:target_plan", args=[item["target_id"]]) + "#measures")


class MeasureEditView(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission = Permission.PLAN_ASSISTANCE
    template_name = "assistance/measure_edit.html"

    def _item(self, pk: int) -> TargetMeasure:
        item = (
            TargetMeasure.objects.for_user(self.request.user)
            .select_related("measure", "target", "target__household")
            .filter(pk=pk)
            .first()
        )
        if item is None:
            raise ObjectOutOfScope("帮扶措施")
        return item

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = self._item(pk)
        form = MeasureEditForm(initial={name: getattr(item, name) for name in DETAIL_FIELDS})
        return render(request, self.template_name, {"item": item, "form": form, "active_nav": "assistance"})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = self._item(pk)
        form = MeasureEditForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                measure_update(
                    actor=request.user,
                    pk=pk,
                    responsible_name=data["responsible_name"],
                    responsible_unit=data["responsible_unit"],
                    responsible_phone=data["responsible_phone"],
                    start_on=data["start_on"],
                    end_on=data["end_on"],
                    amount=data["amount"],
                    amount_kind=data["amount_kind"] or "",
                )
            except ValidationError as exc:
                form_errors_add(form, exc)
            else:
                messages.success(request, f"已保存“{item.measure.name}”的修改。")
                return HttpResponseRedirect(reverse("assistance:target_plan", args=[item.target_id]) + "#measures")
        return render(request, self.template_name, {"item": item, "form": form, "active_nav": "assistance"})


class MeasureListView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    permission = Permission.VIEW_HOUSEHOLDS
    template_name = "assistance/measure_list.html"
    paginate_by = 50

    def get_queryset(self) -> Any:
        self.form = MeasureFilterForm(self.request.GET or None, user=self.request.user)
        filters: dict[str, str] = {}
        if self.form.is_bound and self.form.is_valid():
            data = self.form.cleaned_data
            filters = {
                "search": data["q"],
                "region_code": data["village"],
                "category": data["category"],
                "status": data["status"],
            }
        if self.form.is_bound and self.form.errors:  # the form says why; nothing listed
            return target_measures_in_scope(user=self.request.user).none()
        return target_measures_in_scope(user=self.request.user, **filters)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update({"form": self.form, "querystring": query.urlencode(), "active_nav": "assistance"})
        return context


class UnassistedView(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission = Permission.VIEW_HOUSEHOLDS

    def get(self, request: HttpRequest) -> HttpResponse:
        today = timezone.localdate()
        targets = list(targets_unassisted(user=request.user, today=today))
        for target in targets:
            target.days_since = (today - target.identified_on).days  # type: ignore[attr-defined]
        return render(
            request, "assistance/unassisted.html", {"targets": targets, "today": today, "active_nav": "assistance"}
        )


plan_list = PlanListView.as_view()
target_plan = TargetPlanView.as_view()
measure_add_view = MeasureAddView.as_view()
measure_progress = MeasureProgressView.as_view()
measure_edit = MeasureEditView.as_view()
measure_list = MeasureListView.as_view()
unassisted = UnassistedView.as_view()
