from django.contrib import admin

from fanpin.scoping import RegionScopedAdminMixin
from monitoring.models import AnnualIncome, Household, Member, MonitoringLine, Region, RigidExpenditure, Visit


@admin.register(Region)
class RegionAdmin(RegionScopedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent", "is_deep_poverty"]
    list_filter = ["level", "is_deep_poverty"]
    search_fields = ["code", "name"]
    readonly_fields = ["level", "parent"]

    def has_add_permission(self, request, *args):  # type: ignore[no-untyped-def]
        # Regions are created through the import (level and parent follow from the code).
        return False


class MemberInline(admin.TabularInline):
    model = Member
    extra = 0
    fields = ["name", "relation", "health", "disability_grade", "labor", "schooling", "employment"]
    show_change_link = True


@admin.register(Household)
class HouseholdAdmin(RegionScopedAdminMixin, admin.ModelAdmin):
    list_display = ["household_no", "village", "household_type", "exit_year"]
    list_filter = ["household_type"]
    search_fields = ["household_no"]
    list_select_related = ["village"]
    raw_id_fields = ["village"]
    inlines = [MemberInline]


@admin.register(Member)
class MemberAdmin(RegionScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "household", "relation", "health", "labor"]
    list_filter = ["relation", "health", "labor"]
    search_fields = ["name", "household__household_no"]
    list_select_related = ["household"]
    raw_id_fields = ["household"]
    exclude = ["id_number"]  # never shown unmasked in the admin list or form


@admin.register(AnnualIncome)
class AnnualIncomeAdmin(RegionScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "household",
        "year",
        "family_size",
        "wage_income",
        "business_income",
        "property_income",
        "transfer_income",
    ]
    list_filter = ["year"]
    search_fields = ["household__household_no"]
    list_select_related = ["household"]
    raw_id_fields = ["household"]


@admin.register(RigidExpenditure)
class RigidExpenditureAdmin(RegionScopedAdminMixin, admin.ModelAdmin):
    list_display = ["household", "category", "occurred_on", "amount", "reimbursed"]
    list_filter = ["category"]
    search_fields = ["household__household_no"]
    list_select_related = ["household"]
    raw_id_fields = ["household", "member"]


@admin.register(MonitoringLine)
class MonitoringLineAdmin(admin.ModelAdmin):
    """Read-only here: lines are set with the service (validation and audit), not edited in place."""

    list_display = ["year", "province", "poverty_line", "multiplier", "line", "source", "updated_at"]
    list_filter = ["year"]

    def has_module_permission(self, request):  # type: ignore[no-untyped-def]
        return bool(request.user.is_active and request.user.is_staff)

    def has_view_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return bool(request.user.is_active and request.user.is_staff)

    def has_add_permission(self, request, *args):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Visit)
class VisitAdmin(RegionScopedAdminMixin, admin.ModelAdmin):
    """Read-only until the visit pages arrive (cadres record visits there)."""

    list_display = ["household", "visited_on", "visitors", "risk_flag", "income_change"]
    list_filter = ["risk_flag", "income_change"]
    search_fields = ["household__household_no"]
    list_select_related = ["household"]

    def has_add_permission(self, request, *args):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
