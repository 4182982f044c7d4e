from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.views.generic import DetailView, ListView

from fanpin.masking import MaskingMixin
from fanpin.roles import Permission
from fanpin.scoping import RegionScopedViewMixin
from fanpin.views_mixins import PermissionRequiredMixin
from monitoring.forms import HouseholdFilterForm
from monitoring.models import Household, Region
from monitoring.selectors.households import household_detail, household_income_rows, households_in_scope


class HouseholdListView(LoginRequiredMixin, PermissionRequiredMixin, RegionScopedViewMixin, ListView):
    model = Household
    permission = Permission.VIEW_HOUSEHOLDS
    template_name = "monitoring/household_list.html"
    paginate_by = 50

    def get_form(self) -> HouseholdFilterForm:
        villages = list(
            Region.objects.for_user(self.request.user)
            .filter(level=Region.Level.VILLAGE)
            .select_related("parent")
            .order_by("code")
        )
        return HouseholdFilterForm(self.request.GET or None, villages=villages)

    def get_queryset(self) -> Any:
        self.form = self.get_form()
        filters: dict[str, str] = {}
        if self.form.is_bound and self.form.is_valid():
            filters = {
                "search": self.form.cleaned_data["q"],
                "village_code": self.form.cleaned_data["village"],
                "household_type": self.form.cleaned_data["household_type"],
            }
        return households_in_scope(user=self.request.user, **filters)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["form"] = self.form
        query = self.request.GET.copy()
        query.pop("page", None)
        context["querystring"] = query.urlencode()
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
            raise Http404("农户不存在或不在您的管辖范围内。") from None

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["income_rows"] = household_income_rows(household=self.object)
        return context


household_list = HouseholdListView.as_view()
household_detail_view = HouseholdDetailView.as_view()
