from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from fanpin.core.models import AccessLog, AuditEntry, User
from fanpin.core.scoping import RegionScopedAdminMixin


@admin.register(User)
class UserAdmin(RegionScopedAdminMixin, BaseUserAdmin):
    list_display = ["username", "full_name", "role", "region", "department", "is_active", "last_login"]
    list_filter = ["role", "is_active", "department"]
    search_fields = ["username", "full_name"]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("角色与区划", {"fields": ("role", "region", "department", "full_name", "phone")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        ("角色与区划", {"fields": ("role", "region", "department", "full_name")}),
    )

    # Only administrators manage users.
    def _superuser(self, request) -> bool:  # type: ignore[no-untyped-def]
        return bool(request.user.is_active and request.user.is_superuser)

    def has_module_permission(self, request):  # type: ignore[no-untyped-def]
        return self._superuser(request)

    def has_view_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return self._superuser(request)

    def has_add_permission(self, request, *args):  # type: ignore[no-untyped-def]
        return self._superuser(request)

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return self._superuser(request)


@admin.register(AuditEntry)
class AuditEntryAdmin(RegionScopedAdminMixin, admin.ModelAdmin):
    """Append-only: nobody adds, changes or deletes audit rows through the admin."""

    list_display = ["at", "actor", "object_type", "object_id", "action", "from_state", "to_state"]
    list_filter = ["object_type", "action"]
    search_fields = ["object_id", "reason"]
    free_text_fields = ("reason", "data")
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request, *args):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(AccessLog)
class AccessLogAdmin(RegionScopedAdminMixin, admin.ModelAdmin):
    """Administrators search who saw or exported personal data; nobody changes the log."""

    list_display = ["at", "actor", "action", "what", "row_count", "region_code", "ip_address"]
    list_filter = ["action"]
    search_fields = ["what", "actor__username", "actor__full_name", "region_code", "object_id"]
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AccessLog._meta.fields]

    def has_module_permission(self, request):  # type: ignore[no-untyped-def]
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return bool(request.user.is_active and request.user.is_superuser)

    def has_add_permission(self, request, *args):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
