"""Admin of the working-day calendar and the provinces' procedure settings (SPEC §5.6):
administrators only; every save and delete goes through the audited services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from fanpin.core.roles import Role, effective_role
from fanpin.core.scoping import AnswerableLookupsAdminMixin
from monitoring.models.calendar import CalendarDay, CalendarDayKind, ProcedureLimit, ProcedureSetting
from monitoring.services.calendar import calendar_day_delete, calendar_day_save
from monitoring.services.procedure import procedure_limit_delete, procedure_limit_save, procedure_setting_save


class AdministratorsOnlyMixin:
    def _admin(self, request: Any) -> bool:
        return bool(request.user.is_active and effective_role(request.user) == Role.ADMIN)

    def has_module_permission(self, request: Any) -> bool:
        return self._admin(request)

    def has_view_permission(self, request: Any, obj: Any = None) -> bool:
        return self._admin(request)

    def has_add_permission(self, request: Any, *args: Any) -> bool:
        return self._admin(request)

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return self._admin(request)

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return self._admin(request)


class CalendarDayForm(forms.ModelForm):
    class Meta:
        model = CalendarDay
        fields = ["day", "kind", "name", "sample"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, kind = data.get("day"), data.get("kind")
        if day is not None and kind == CalendarDayKind.WORKDAY and day.weekday() < 5:
            self.add_error("kind", f"{day:%Y-%m-%d} 是工作日（周一至周五），不需要标为调休上班。")
        return data


@admin.register(CalendarDay)
class CalendarDayAdmin(AdministratorsOnlyMixin, AnswerableLookupsAdminMixin, admin.ModelAdmin):
    form = CalendarDayForm
    list_display = ["day", "kind", "name", "sample", "updated_at"]
    list_filter = ["kind", "sample"]
    date_hierarchy = "day"
    actions: list[Any] = []  # the bulk delete would skip the audit

    def save_model(self, request: Any, obj: CalendarDay, form: Any, change: bool) -> None:
        calendar_day_save(actor=request.user, day=obj)

    def delete_model(self, request: Any, obj: CalendarDay) -> None:
        calendar_day_delete(actor=request.user, day=obj)


class ProcedureLimitForm(forms.ModelForm):
    class Meta:
        model = ProcedureLimit
        fields = ["province_code", "step", "days", "unit"]

    def clean_days(self) -> int:
        days = self.cleaned_data["days"]
        if not 1 <= days <= 365:
            raise forms.ValidationError("时限应为 1–365 之间的整数。")
        return int(days)


@admin.register(ProcedureLimit)
class ProcedureLimitAdmin(AdministratorsOnlyMixin, AnswerableLookupsAdminMixin, admin.ModelAdmin):
    form = ProcedureLimitForm
    list_display = ["province_code", "step", "days", "unit", "updated_by", "updated_at"]
    list_filter = ["step", "unit"]
    actions: list[Any] = []

    def save_model(self, request: Any, obj: ProcedureLimit, form: Any, change: bool) -> None:
        procedure_limit_save(actor=request.user, limit=obj)

    def delete_model(self, request: Any, obj: ProcedureLimit) -> None:
        procedure_limit_delete(actor=request.user, limit=obj)


@admin.register(ProcedureSetting)
class ProcedureSettingAdmin(AdministratorsOnlyMixin, AnswerableLookupsAdminMixin, admin.ModelAdmin):
    list_display = ["province_code", "announce_rejections", "updated_by", "updated_at"]
    fields = ["province_code", "announce_rejections"]
    actions: list[Any] = []

    def save_model(self, request: Any, obj: ProcedureSetting, form: Any, change: bool) -> None:
        procedure_setting_save(actor=request.user, setting=obj)
