from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q

from fanpin.roles import Department, Role
from fanpin.scoping import ScopedQuerySet


class UserQuerySet(ScopedQuerySet["User"]):
    region_path = "region__code"
    personal_data = False


class FanpinUserManager(UserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    def create_superuser(
        self, username: str, email: str | None = None, password: str | None = None, **extra: Any
    ) -> User:
        extra.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra)


class User(AbstractUser):
    """A user of one role in exactly one region (SPEC §1); administrators may have none."""

    Role = Role
    Department = Department

    role = models.CharField("角色", max_length=16, choices=Role.choices)
    region = models.ForeignKey(
        "monitoring.Region",
        verbose_name="所属行政区划",
        on_delete=models.PROTECT,
        related_name="users",
        null=True,
        blank=True,
    )
    department = models.CharField("行业部门", max_length=32, choices=Department.choices, blank=True)
    full_name = models.CharField("姓名", max_length=64, blank=True)
    phone = models.CharField("联系电话", max_length=32, blank=True)

    objects = FanpinUserManager()  # type: ignore[misc]

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="user_role_valid"),
            models.CheckConstraint(
                condition=Q(department="") | Q(department__in=Department.values),
                name="user_department_valid",
            ),
            models.CheckConstraint(
                condition=Q(role=Role.ADMIN) | Q(region__isnull=False),
                name="user_region_required_unless_admin",
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.DEPT) | ~Q(department=""),
                name="user_dept_has_department",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN


class AppendOnlyError(Exception):
    """Audit rows are never changed or deleted."""


class AuditEntryQuerySet(ScopedQuerySet["AuditEntry"]):
    region_path = "region_code"

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("审计记录只能追加，不能修改。")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("审计记录只能追加，不能删除。")


class AuditEntry(models.Model):
    """An append-only row for every state change (who, when, what, from, to, why)."""

    actor = models.ForeignKey(
        "fanpin.User",
        verbose_name="操作人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    object_type = models.CharField("对象类型", max_length=32)
    object_id = models.CharField("对象编号", max_length=64)
    region_code = models.CharField("区划代码", max_length=12, db_index=True)
    action = models.CharField("操作", max_length=32)
    from_state = models.CharField("原状态", max_length=32, blank=True)
    to_state = models.CharField("新状态", max_length=32, blank=True)
    reason = models.TextField("意见/原因", blank=True)
    data = models.JSONField("详情", default=dict, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.object_type}#{self.object_id} {self.action}"

    # Append-only guards (PostgreSQL also refuses UPDATE/DELETE with a trigger, migration 0003).
    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("审计记录只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("审计记录只能追加，不能删除。")
