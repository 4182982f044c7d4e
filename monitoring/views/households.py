from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.views import View
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView

from fanpin.core.masking import user_sees_full_id
from fanpin.core.roles import Permission, effective_role, role_can
from fanpin.core.scoping import ObjectOutOfScope, RegionScopedViewMixin
from fanpin.core.workflow import TransitionNotAllowed
from fanpin.web.errors import error_text
from fanpin.web.mixins import MaskingMixin, PermissionRequiredMixin, client_ip, permission_require
from monitoring.forms import HouseholdFilterForm
from monitoring.models import Household, Member
from monitoring.selectors.household_changes import household_pending_changes_count
from monitoring.selectors.households import (
    household_detail,
    household_income_rows,
    households_in_scope,
    member_household_id,
)
from monitoring.services.members import member_restore
from monitoring.services.personal_data import id_number_search_record, member_id_number_reveal

SEARCH_COUNT_CAP = 10_000  # a search's total is counted up to here ("超过 10,000 户")


class HouseholdListPaginator(Paginator):
    """The household list's pages.  With ``cap`` set (a search), the total is counted only up to
    ``cap`` + 1 rows: a term that most of a province matches (a common surname) is then a walk of
    the list's index that stops there, not a count of a million households."""

    cap: int | None = None

    @cached_property
    def count(self) -> int:
        rows: QuerySet[Household] = self.object_list  # type: ignore[assignment]  # the view's queryset
        return (rows if self.cap is None else rows[: self.cap + 1]).count()

    @property
    def capped(self) -> bool:
        return self.cap is not None and self.count > self.cap


class HouseholdListView(LoginRequiredMixin, PermissionRequiredMixin, RegionScopedViewMixin, ListView):
    model = Household
    permission = Permission.VIEW_HOUSEHOLDS
    template_name = "monitoring/household_list.html"
    paginate_by = 50
    paginator_class = HouseholdListPaginator
    searching = False

    def get_form(self) -> HouseholdFilterForm:
        return HouseholdFilterForm(self.request.GET or None, user=self.request.user)

    def get_queryset(self) -> Any:
        self.form = self.get_form()
        filters: dict[str, str] = {}
        if self.form.is_bound and not self.form.is_valid():
            # a filter the page could not read (a village outside the scope, a name several villages
            # share): the error under the field and no rows, never every household as if unfiltered
            return households_in_scope(user=self.request.user).none()
        if self.form.is_bound:
            filters = {
                "search": self.form.cleaned_data["q"],
                "region_code": self.form.cleaned_data["village"],  # a village or a wider region: its area
                "household_type": self.form.cleaned_data["household_type"],
            }
            id_number_search_record(
                user=self.request.user, search=filters["search"], ip_address=client_ip(self.request)
            )
            self.searching = bool(filters["search"])
        return households_in_scope(user=self.request.user, **filters)

    def get_paginator(self, *args: Any, **kwargs: Any) -> HouseholdListPaginator:
        paginator = HouseholdListPaginator(*args, **kwargs)
        if self.searching:
            paginator.cap = SEARCH_COUNT_CAP
        return paginator

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["form"] = self.form
        query = self.request.GET.copy()
        query.pop("page", None)
        context["querystring"] = query.urlencode()
        context["can_export"] = role_can(effective_role(self.request.user), Permission.EXPORT_DATA)
        # the full-number export (with its 用途) is offered only to roles that may see full numbers
        context["can_export_full"] = context["can_export"] and user_sees_full_id(self.request.user)
        return context

    def get_template_names(self) -> list[str]:
        if self.request.headers.get("HX-Request"):
            return ["monitoring/_household_table.html"]
        return [self.template_name]


class HouseholdDetailView(LoginRequiredMixin, PermissionRequiredMixin, MaskingMixin, RegionScopedViewMixin, DetailView):
    model = Household
    permission = Permission.VIEW_HOUSEHOLDS
    template_name = "monitoring/household_detail.html"
    context_object_name = "household"

    def get_object(self, queryset: Any = None) -> Household:
        try:
            return household_detail(user=self.request.user, pk=self.kwargs["pk"])
        except Household.DoesNotExist:
            raise ObjectOutOfScope("农户") from None

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["income_rows"] = household_income_rows(household=self.object)
        context["can_unmask"] = user_sees_full_id(self.request.user)
        context["pending_changes"] = household_pending_changes_count(user=self.request.user, household=self.object)
        context["can_restore"] = role_can(effective_role(self.request.user), Permission.DECIDE_HOUSEHOLD_CHANGES)
        return context


household_list = HouseholdListView.as_view()
household_detail_view = HouseholdDetailView.as_view()


class MemberIdNumberView(LoginRequiredMixin, PermissionRequiredMixin, RegionScopedViewMixin, View):
    """POST: show one member's full 身份证号 (roles that need it), written to the access log."""

    model = Member
    permission = Permission.VIEW_FULL_ID
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        member = get_object_or_404(self.get_queryset().select_related("household"), pk=pk)
        member_id_number_reveal(
            member=member,
            actor=request.user,  # type: ignore[arg-type]
            ip_address=client_ip(request),
        )
        # the full number with a 隐藏 button that puts the masked one back without a request (static/js/id-reveal.js)
        return render(request, "monitoring/_id_revealed.html", {"m": member})


member_id_number = MemberIdNumberView.as_view()


@login_required
@require_POST
def member_restore_view(request: HttpRequest, pk: int) -> HttpResponse:
    """恢复在册: the county puts a member whose death or removal was accepted by mistake back in the
    registry (reason required). Out of scope 404, another role 403, in the registry already 409;
    no reason: back to the household page with the message."""
    permission_require(request, Permission.VIEW_HOUSEHOLDS)
    try:
        member = member_restore(actor=request.user, member_id=pk, reason=str(request.POST.get("reason", "")))
    except TransitionNotAllowed:
        raise
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        household_id = member_household_id(user=request.user, member_id=pk)
        return redirect(reverse("monitoring:household_detail", args=[household_id]))
    messages.success(request, f"已恢复{member.name}在册。")
    return redirect(reverse("monitoring:household_detail", args=[member.household_id]))
