"""监测对象 pages (the label comes from fanpin.core.terms): list (filters, export) and one target with its history."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.generic import ListView

from fanpin.core.roles import Permission, effective_role, role_can
from fanpin.core.scoping import ObjectOutOfScope, RegionScopedViewMixin
from fanpin.core.terms import term
from fanpin.web.errors import form_error_lines
from fanpin.web.mixins import PermissionRequiredMixin
from monitoring.forms_review import TargetFilterForm
from monitoring.models import ExportKind, MonitoringTarget
from monitoring.selectors.accounting import accounting_panel_of_target
from monitoring.selectors.followups import follow_up_of_target
from monitoring.selectors.leads import (
    RISK_LABELS,
    SOURCE_LABELS,
    labels_joined,
    target_audit_trail,
    target_detail,
    targets_in_scope,
)
from monitoring.services.exports_leads import targets_export
from monitoring.views.exports import kind_names, xlsx_or_job
from monitoring.views.leads import _require


class TargetListView(LoginRequiredMixin, PermissionRequiredMixin, RegionScopedViewMixin, ListView):
    model = MonitoringTarget
    permission = Permission.VIEW_HOUSEHOLDS
    template_name = "monitoring/target_list.html"
    paginate_by = 50

    def get_queryset(self) -> Any:
        self.form = TargetFilterForm(self.request.GET or None, user=self.request.user)
        filters = self.form.filters()
        if filters is None:  # the form shows why
            return MonitoringTarget.objects.none()
        return targets_in_scope(user=self.request.user, **filters)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            form=self.form,
            querystring=query.urlencode(),
            active_nav="targets",
            may_export=role_can(effective_role(self.request.user), Permission.EXPORT_DATA),
        )
        return context


target_list_view = TargetListView.as_view()


@login_required
@require_GET
def target_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Permission.VIEW_HOUSEHOLDS)
    try:
        target = target_detail(user=request.user, pk=pk)
    except MonitoringTarget.DoesNotExist:
        raise ObjectOutOfScope(term("target")) from None
    context = {
        "target": target,
        "risk_labels": labels_joined(target.risk_types, RISK_LABELS),
        "source_labels": labels_joined(target.sources, SOURCE_LABELS),
        "audit": target_audit_trail(target=target),
        "accounting": accounting_panel_of_target(target=target),  # 家庭收支核算 kept at confirmation
        "follow_up": follow_up_of_target(target=target),  # 绿色通道待补办 (None: nothing owed)
        # the 帮扶计划 page lets in the roles that see households (assistance.views.plans.TargetPlanView)
        "may_see_plan": role_can(effective_role(request.user), Permission.VIEW_HOUSEHOLDS),
        "active_nav": "targets",
    }
    return render(request, "monitoring/target_detail.html", context)


@login_required
@require_GET
def targets_export_view(request: HttpRequest) -> HttpResponseBase:
    _require(request, Permission.EXPORT_DATA)
    form = TargetFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    if filters is None:  # a filter the list could not read: refused, as the lead and household exports
        raise ValidationError(form_error_lines(form))
    return xlsx_or_job(
        request,
        kind=ExportKind.TARGETS,
        filters=filters,
        write=lambda out: targets_export(user=request.user, output=out, filters=filters),
        **kind_names(ExportKind.TARGETS),
    )
