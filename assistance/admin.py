from typing import Any

from django.contrib import admin

from assistance.models import Measure
from fanpin.core.scoping import AnswerableLookupsAdminMixin


@admin.register(Measure)
class MeasureAdmin(AnswerableLookupsAdminMixin, admin.ModelAdmin):
    """The catalogue: administrators add measures (and may deactivate one); staff may look."""

    list_display = ["name", "code", "category", "kind", "risk_types", "is_active", "sort_order"]
    list_filter = ["category", "kind", "is_active"]
    search_fields = ["name", "code"]

    def has_module_permission(self, request: Any) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_view_permission(self, request: Any, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_add_permission(self, request: Any) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False  # measures in use are protected; deactivate instead
