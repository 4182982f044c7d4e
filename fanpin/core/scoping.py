"""Region scoping: the one mechanism that decides which rows a user may see (SPEC §1).

A user sees the data of their region and of the regions below it, never beside or above it.
Region codes are hierarchical (``PP CC DD TTT VVV``), so "below" is a prefix test on the 12-digit
village code that every scoped row reaches through ``region_path`` (written as a range of codes,
see ``ScopedQuerySet.within``).

* ``ScopedQuerySet.for_user(user)`` is the queryset method; it denies by default (anonymous users,
  users without a role or region, department users for household data get nothing).
* ``RegionScopedViewMixin`` / ``ScopedAPIViewMixin`` / ``RegionScopedAdminMixin`` apply it to
  pages, the API and the admin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import connection, models

from fanpin.core.masking import free_text_for, free_text_mask, user_sees_full_id
from fanpin.core.roles import Role

if TYPE_CHECKING:
    from fanpin.core.models import User

_M = TypeVar("_M", bound=models.Model)

# Number of leading code digits that identify a region of each level.
LEVEL_PREFIX_LENGTH: dict[str, int] = {
    "PROVINCE": 2,
    "CITY": 4,
    "COUNTY": 6,
    "TOWNSHIP": 9,
    "VILLAGE": 12,
}

# Roles that never see household-level data, whatever their region (SPEC §1: a department user sees
# only the match results of its own submissions).
ROLES_WITHOUT_HOUSEHOLD_DATA = frozenset({Role.DEPT})


def out_of_scope_message(what: str = "对象") -> str:
    """The one sentence for a row that does not exist or lies outside the user's region."""
    return f"{what}不存在或不在您的管辖范围内。"


class ObjectOutOfScope(PermissionDenied):
    """The object does not exist or is outside the user's region (``what``: 线索, 农户, ...).

    Pages and the API answer 404 with ``out_of_scope_message`` (``fanpin.web.errors``): the same
    answer as for an id that exists nowhere, so nobody learns which rows exist beside or above
    their region.
    """

    def __init__(self, what: str = "对象") -> None:
        self.what = what
        super().__init__(out_of_scope_message(what))


def code_prefix(code: str) -> str:
    """The part of a 12-digit code that its descendants share (``520000000000`` → ``52``)."""
    from fanpin.core.regions import region_level_of

    return code[: LEVEL_PREFIX_LENGTH[region_level_of(code)]]


def sees_everything(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
        and (user.is_superuser or user.role == Role.ADMIN)
    )


def user_region_prefix(user: Any) -> str | None:
    """The code prefix of the user's scope; ``""`` means everything, ``None`` means nothing."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return None
    if sees_everything(user):
        return ""
    region_id = getattr(user, "region_id", None)
    if not region_id or not user.role:
        return None
    return code_prefix(region_id)


class ScopedQuerySet(models.QuerySet[_M]):
    """A queryset whose rows belong to a region through ``region_path`` (a lookup to a code)."""

    region_path: ClassVar[str] = ""
    personal_data: ClassVar[bool] = True
    # Rows that users without household data (department users) see only when they own them:
    # a lookup to the owning user (e.g. an import job's ``created_by``); "" = no such restriction.
    owner_path: ClassVar[str] = ""

    def for_user(self, user: User | Any) -> ScopedQuerySet[_M]:
        prefix = user_region_prefix(user)
        if prefix is None:
            return self.none()
        without_household_data = getattr(user, "role", None) in ROLES_WITHOUT_HOUSEHOLD_DATA and not sees_everything(
            user
        )
        if without_household_data and self.personal_data:
            return self.none()
        scoped = self if prefix == "" else self.within(prefix)
        if without_household_data and self.owner_path:
            return scoped.filter(**{self.owner_path: user})
        return scoped

    def within(self, prefix: str) -> ScopedQuerySet[_M]:
        """Rows whose region code starts with ``prefix`` (a region and everything below it).

        Region codes are 12 digits (database check on ``Region.code``; the ``region_code`` columns
        are copied from it), so "starts with 5201" is the range ``520100000000``–``520199999999``.
        A range, unlike ``LIKE '5201%'``, is served by any plain b-tree index whatever the
        database's collation, including composite ones that also give the list's order
        (``household_village_no``: the scoped household list is a range scan, not a walk).
        """
        if not self.region_path:
            raise NotImplementedError(f"{type(self).__name__} has no region_path")
        if len(prefix) == 12:
            return self.filter(**{self.region_path: prefix})
        return self.filter(
            **{f"{self.region_path}__gte": prefix.ljust(12, "0"), f"{self.region_path}__lte": prefix.ljust(12, "9")}
        )


def scoped_queryset(model: type[_M], user: Any) -> models.QuerySet[_M]:
    """``model``'s default manager, scoped to ``user`` (every scoped model uses ScopedQuerySet)."""
    qs = model._default_manager.all()
    if not isinstance(qs, ScopedQuerySet):
        raise TypeError(f"{model.__name__} is not region-scoped")
    return qs.for_user(user)


class RegionScopedViewMixin:
    """For Django class-based views: ``get_queryset`` is scoped; outside the scope answers 404."""

    model: type[models.Model]
    request: Any

    def get_base_queryset(self) -> models.QuerySet[Any]:
        return self.model._default_manager.all()

    def get_queryset(self) -> models.QuerySet[Any]:
        qs = self.get_base_queryset()
        if not isinstance(qs, ScopedQuerySet):
            raise TypeError(f"{type(self).__name__}: queryset is not region-scoped")
        return qs.for_user(self.request.user)


class ScopedAPIViewMixin(RegionScopedViewMixin):
    """Same rule for DRF views (ViewSets call ``get_queryset``; detail lookups 404 outside)."""

    queryset: models.QuerySet[Any] | None = None

    def get_base_queryset(self) -> models.QuerySet[Any]:
        if self.queryset is not None:
            return self.queryset.all()
        return super().get_base_queryset()


def _free_text_column(model: Any, name: str) -> Any:
    """A change-list column showing the field ``name`` masked (``free_text_mask``)."""

    def column(obj: Any) -> Any:
        return free_text_mask(getattr(obj, name) or "")

    column.short_description = model._meta.get_field(name).verbose_name  # type: ignore[attr-defined]
    column.admin_order_field = name  # type: ignore[attr-defined]
    return column


class AnswerableLookupsAdminMixin:
    """For every ModelAdmin: lookups typed into a list's address that would fail while the list
    renders (``_lookup_answerable``; JSON containment where the database has none) are refused
    with a 400, as Django refuses lookups it does not allow."""

    def lookup_allowed(self, lookup: str, value: str, request: Any = None) -> bool:
        if self._json_contains_unsupported(lookup) or not _lookup_answerable(lookup, value):
            return False
        return bool(super().lookup_allowed(lookup, value, request))  # type: ignore[misc]

    def _json_contains_unsupported(self, lookup: str) -> bool:
        """``?data__note__contains=…`` on a database without JSON containment (SQLite)."""
        parts = lookup.split("__")
        if connection.features.supports_json_field_contains or parts[-1] not in ("contains", "contained_by"):
            return False
        try:
            field = self.model._meta.get_field(parts[0])  # type: ignore[attr-defined]
        except FieldDoesNotExist:
            return False
        return isinstance(field, models.JSONField)


class RegionScopedAdminMixin(AnswerableLookupsAdminMixin):
    """For ModelAdmin: non-superusers see and edit only rows inside their region.

    Staff roles (see ``Permission.ADMIN_SITE``) may view; only administrators add, change and
    delete (county staff change data through the pages and imports, which check, audit and screen).
    Foreign-key choices are scoped the same way.
    """

    # Free text typed by households, cadres and staff (notes, reasons, an address): shown with
    # 身份证号-like and phone-like runs masked, and never searched, for the roles that do not see full
    # IDs (a search would confirm a hidden digit), as the pages show it (``free_text_for``).
    free_text_fields: tuple[str, ...] = ()

    def get_queryset(self, request: Any) -> models.QuerySet[Any]:
        qs = super().get_queryset(request)  # type: ignore[misc]
        if not isinstance(qs, ScopedQuerySet):
            raise TypeError(f"{type(self).__name__}: admin queryset is not region-scoped")
        return qs.for_user(request.user)

    def _free_text_hidden(self, request: Any) -> bool:
        return bool(self.free_text_fields) and not user_sees_full_id(request.user)

    def _names_free_text(self, lookup: str) -> bool:
        return any(part in self.free_text_fields for part in lookup.lstrip("^=@").split("__"))

    def get_object(self, request: Any, object_id: str, from_field: str | None = None) -> Any:
        obj = super().get_object(request, object_id, from_field)  # type: ignore[misc]
        if obj is not None and self._free_text_hidden(request):
            # shown only: a role that may change the row sees full numbers (an instance masked here
            # must never reach a save)
            if self.has_change_permission(request, obj):
                raise PermissionDenied("可以修改此记录的角色应能查看完整号码。")
            for name in self.free_text_fields:
                setattr(obj, name, free_text_for(request.user, getattr(obj, name)))
        return obj

    def get_list_display(self, request: Any) -> Any:
        columns = list(super().get_list_display(request))  # type: ignore[misc]
        if not self._free_text_hidden(request):
            return columns
        model = self.model  # type: ignore[attr-defined]
        return [_free_text_column(model, name) if name in self.free_text_fields else name for name in columns]

    def get_search_fields(self, request: Any) -> Any:
        fields = super().get_search_fields(request)  # type: ignore[misc]
        if not self._free_text_hidden(request):
            return fields
        return [name for name in fields if not self._names_free_text(name)]

    def lookup_allowed(self, lookup: str, value: str, request: Any = None) -> bool:
        # ``?notes__contains=1381234`` in the address would find the rows whose text holds digits the
        # page masks: one hidden digit at a time
        if request is not None and self._free_text_hidden(request) and self._names_free_text(lookup):
            return False
        return bool(super().lookup_allowed(lookup, value, request))  # type: ignore[misc]

    def formfield_for_foreignkey(self, db_field: Any, request: Any, **kwargs: Any) -> Any:
        related = db_field.remote_field.model._default_manager.all()
        if isinstance(related, ScopedQuerySet):
            kwargs["queryset"] = related.for_user(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def _role_may(self, request: Any, roles: frozenset[str]) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        return bool(user.is_superuser or user.role in roles)

    def has_module_permission(self, request: Any) -> bool:
        return self._role_may(request, frozenset({Role.ADMIN, Role.COUNTY, Role.TOWNSHIP}))

    def has_view_permission(self, request: Any, obj: Any = None) -> bool:
        return self._role_may(request, frozenset({Role.ADMIN, Role.COUNTY, Role.TOWNSHIP}))

    def has_add_permission(self, request: Any, *args: Any) -> bool:
        return self._role_may(request, frozenset({Role.ADMIN}))

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return self._role_may(request, frozenset({Role.ADMIN}))

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)


# Lookups typed into an admin list's address that the list's own filters never send, and that fail
# while the list renders (500) instead of being refused: a range needs two values, a regular
# expression may not compile, containment is for JSON and arrays (an attack on the county's admin
# found 234 such 500s). Refused (400) with the rest of the lookups a role may not use.
_REFUSED_LOOKUPS = frozenset({"range", "regex", "iregex", "contained_by", "overlap", "search"})
# date parts the date hierarchy sends, with the values a date can have (``?at__year=1`` overflowed)
_DATE_PART_BOUNDS = {"year": (1900, 2200), "month": (1, 12), "day": (1, 31)}


def _lookup_answerable(lookup: str, value: object) -> bool:
    last = lookup.split("__")[-1]
    if last in _REFUSED_LOOKUPS:
        return False
    bounds = _DATE_PART_BOUNDS.get(last)
    if bounds is None:
        return True
    values = value if isinstance(value, list | tuple) else [value]
    for item in values:
        text = str(item).strip()
        if not (text.isascii() and text.isdigit() and bounds[0] <= int(text) <= bounds[1]):
            return False
    return True
