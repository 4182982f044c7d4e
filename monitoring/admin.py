from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from fanpin.core.idcard import id_number_mask, phone_mask
from fanpin.core.regions import region_level_of, region_parent_code
from fanpin.core.scoping import AnswerableLookupsAdminMixin, RegionScopedAdminMixin, sees_everything
from monitoring.models import AnnualIncome, Household, Member, MonitoringLine, Region, RigidExpenditure, Visit
from monitoring.models.comparisons import ComparisonSource
from monitoring.selectors.comparisons import source_switch_off_refusal
from monitoring.services.comparisons import SOURCE_CODE, SOURCE_CODE_MESSAGE, comparison_source_save
from monitoring.services.regions import region_code_validate, region_upsert

from . import admin_calendar  # noqa: F401  (the calendar and the provinces' 办理时限)

# Fields whose values the admin never shows, filters or searches by: the changelist accepts any lookup
# on a model's own fields in its query string (``?phone__startswith=138``), which would tell a user the
# hidden digits one by one.
PERSONAL_FIELDS = frozenset({"id_number", "phone"})


class RegistryReadOnlyAdminMixin:
    """Registry data (households, members, incomes, expenditures, visits) is read-only in the admin for
    everybody, administrators too: it changes through the import (checks, audit of personal data,
    screening of the county afterwards) and the pages, never by editing a row in place
    (docs/decisions/2026-12-03-registry-read-only-in-admin.md)."""

    def has_add_permission(self, request: Any, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def lookup_allowed(self, lookup: str, value: str, request: Any = None) -> bool:
        if set(lookup.split("__")) & PERSONAL_FIELDS:
            return False
        return super().lookup_allowed(lookup, value, request)  # type: ignore[misc]


class RegionAdminForm(forms.ModelForm):
    """Administrators add a region (its code fixes level and parent) or rename / flag one; the code of
    an existing region never changes (the field is read-only on the change page)."""

    class Meta:
        model = Region
        fields = ["code", "name", "is_deep_poverty"]

    def clean_code(self) -> str:
        return region_code_validate(self.cleaned_data["code"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        code = self.instance.code if self.instance.pk and "code" not in self.fields else cleaned.get("code")
        if not code:
            return cleaned
        level = region_level_of(code)
        parent_code = region_parent_code(code)
        if "code" in self.fields and parent_code and not Region.objects.filter(code=parent_code).exists():
            self.add_error("code", f"上级区划 {parent_code} 不存在，请先添加上级区划。")
        if cleaned.get("is_deep_poverty") and level != Region.Level.COUNTY:
            self.add_error(
                "is_deep_poverty",
                ValidationError(f"只有县级区划可以标记为深度贫困地区（{code} 是{Region.Level(level).label}级）。"),
            )
        return cleaned


@admin.register(Region)
class RegionAdmin(RegionScopedAdminMixin, admin.ModelAdmin):
    """Everybody with the admin sees the regions of their scope; only administrators add or change one."""

    form = RegionAdminForm
    list_display = ["code", "name", "level", "parent", "is_deep_poverty"]
    list_filter = ["level", "is_deep_poverty"]
    search_fields = ["code", "name"]

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        # A region's code is its identity (households, users and scopes hang on it): never changed.
        return ["code", "level", "parent"] if obj is not None else ["level", "parent"]

    def has_add_permission(self, request: Any, *args: Any) -> bool:
        return sees_everything(request.user) and super().has_add_permission(request, *args)

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return sees_everything(request.user) and super().has_change_permission(request, obj)

    def save_model(self, request: Any, obj: Region, form: Any, change: bool) -> None:
        region, _created = region_upsert(code=obj.code, name=obj.name, is_deep_poverty=obj.is_deep_poverty)
        obj.level, obj.parent_id = region.level, region.parent_id


class MemberInline(admin.TabularInline):
    model = Member
    extra = 0
    fields = [
        "name",
        "relation",
        "health",
        "disability_grade",
        "labor",
        "schooling",
        "employment",
        "status",
        "departed_on",
    ]
    show_change_link = True

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Household)
class HouseholdAdmin(RegistryReadOnlyAdminMixin, RegionScopedAdminMixin, admin.ModelAdmin):
    list_display = ["household_no", "village", "household_type", "exit_year", "phone_masked"]
    list_filter = ["household_type"]
    search_fields = ["household_no"]
    list_select_related = ["village"]
    fields = readonly_fields = ("household_no", "village", "household_type", "exit_year", "phone_masked", "address")
    free_text_fields = ("address",)
    inlines = [MemberInline]

    @admin.display(description="联系电话")
    def phone_masked(self, obj: Household) -> str:
        return phone_mask(obj.phone) or "—"


@admin.register(Member)
class MemberAdmin(RegistryReadOnlyAdminMixin, RegionScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "household", "relation", "health", "labor", "status", "departed_on"]
    list_filter = ["status", "relation", "health", "labor"]
    search_fields = ["name", "household__household_no"]
    list_select_related = ["household"]
    exclude = ["id_number"]  # never shown unmasked in the admin list or form
    readonly_fields = ["id_number_masked"]

    @admin.display(description="身份证号")
    def id_number_masked(self, obj: Member) -> str:
        return id_number_mask(obj.id_number)


@admin.register(AnnualIncome)
class AnnualIncomeAdmin(RegistryReadOnlyAdminMixin, RegionScopedAdminMixin, admin.ModelAdmin):
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
class RigidExpenditureAdmin(RegistryReadOnlyAdminMixin, RegionScopedAdminMixin, admin.ModelAdmin):
    list_display = ["household", "category", "occurred_on", "amount", "reimbursed"]
    list_filter = ["category"]
    search_fields = ["household__household_no"]
    list_select_related = ["household"]
    raw_id_fields = ["household", "member"]
    free_text_fields = ("note",)


@admin.register(MonitoringLine)
class MonitoringLineAdmin(AnswerableLookupsAdminMixin, admin.ModelAdmin):
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
class VisitAdmin(RegistryReadOnlyAdminMixin, RegionScopedAdminMixin, admin.ModelAdmin):
    """Read-only: cadres record visits on their pages (monitoring.services.visits)."""

    list_display = ["household", "visited_on", "visitors", "risk_flag", "income_change"]
    list_filter = ["risk_flag", "income_change"]
    search_fields = ["household__household_no"]
    list_select_related = ["household"]
    free_text_fields = ("visitors", "notes")


class ComparisonSourceForm(forms.ModelForm):
    class Meta:
        model = ComparisonSource
        fields = ["code", "name", "active", "order"]

    def clean_code(self) -> str:
        code = str(self.cleaned_data.get("code") or "").strip().upper()
        if not SOURCE_CODE.match(code):
            raise ValidationError(SOURCE_CODE_MESSAGE)
        return code

    def clean_active(self) -> bool:
        active = bool(self.cleaned_data.get("active"))
        if not active and self.instance.pk and "active" in self.changed_data:
            refusal = source_switch_off_refusal(source_id=self.instance.pk)
            if refusal:
                raise ValidationError(refusal)
        return active


@admin.register(ComparisonSource)
class ComparisonSourceAdmin(AnswerableLookupsAdminMixin, admin.ModelAdmin):
    """信息比对来源: administrators add, rename, reorder or switch off a source (audited by
    ``comparison_source_save``); never deleted (its recorded results keep it: switch it off)."""

    form = ComparisonSourceForm
    list_display = ["order", "code", "name", "active"]
    list_display_links = ["code"]
    list_filter = ["active"]

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        return ["code"] if obj is not None else []  # the code is what the API and the audit rows name

    def has_module_permission(self, request: Any) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_view_permission(self, request: Any, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_add_permission(self, request: Any, *args: Any) -> bool:
        return sees_everything(request.user)

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return sees_everything(request.user)

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def save_model(self, request: Any, obj: ComparisonSource, form: Any, change: bool) -> None:
        comparison_source_save(actor=request.user, source=obj, changed=list(form.changed_data))
