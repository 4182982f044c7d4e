from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q

from fanpin.core.roles import Department, Role
from fanpin.core.scoping import ScopedQuerySet


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
    region_code = models.CharField("区划代码", max_length=12)
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
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            # Region scoping reads code ranges (``ScopedQuerySet.within``): a plain b-tree serves them;
            # ``db_index`` would add a second, ``varchar_pattern_ops`` index for LIKE that nothing
            # uses — written for every audit row (one per lead a screening run raises).
            models.Index(fields=["region_code"], name="audit_region"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.object_type}#{self.object_id} {self.action}"

    # Append-only guards (PostgreSQL also refuses UPDATE/DELETE with a trigger, migration 0003).
    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("审计记录只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("审计记录只能追加，不能删除。")


class AccessLogQuerySet(ScopedQuerySet["AccessLog"]):
    region_path = "region_code"

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("访问日志只能追加，不能修改。")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("访问日志只能追加，不能删除。")


class AccessLog(models.Model):
    """Who looked at or took personal data: unmasked 身份证号 views and exports (append-only)."""

    class Action(models.TextChoices):
        VIEW_ID = "VIEW_ID", "查看完整身份证号"
        EXPORT = "EXPORT", "导出个人数据"

    actor = models.ForeignKey(
        "fanpin.User", verbose_name="操作人", on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    action = models.CharField("操作", max_length=16, choices=Action.choices)
    what = models.CharField("内容", max_length=200)
    object_id = models.CharField("对象编号", max_length=64, blank=True)
    region_code = models.CharField("区划代码", max_length=12)
    row_count = models.PositiveIntegerField("行数", default=0)
    ip_address = models.GenericIPAddressField("IP 地址", null=True, blank=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        verbose_name = "个人数据访问日志"
        verbose_name_plural = "个人数据访问日志"
        ordering = ["-at", "-id"]
        # One plain b-tree for the region's code ranges, as ``AuditEntry`` (no LIKE index).
        indexes = [models.Index(fields=["region_code"], name="accesslog_region")]
        constraints = [
            models.CheckConstraint(condition=Q(action__in=["VIEW_ID", "EXPORT"]), name="accesslog_action_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.get_action_display()} {self.what}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("访问日志只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("访问日志只能追加，不能删除。")


class ApiTokenQuerySet(ScopedQuerySet["ApiToken"]):
    region_path = "user__region__code"
    personal_data = False


class ApiToken(models.Model):
    """A token for another system (a department's).  Only the SHA-256 of the key is stored; the key is
    shown once.  The token acts as its own service account (``user``), whose role, region and
    department are the token's scope, so every scoping rule applies to it unchanged."""

    name = models.CharField("名称", max_length=64)
    key_hash = models.CharField("密钥摘要", max_length=64, unique=True)
    key_prefix = models.CharField("密钥前缀", max_length=8)
    user = models.OneToOneField(
        "fanpin.User", verbose_name="服务账号", on_delete=models.PROTECT, related_name="api_token"
    )
    created_by = models.ForeignKey(
        "fanpin.User", verbose_name="创建人", on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    last_used_at = models.DateTimeField("最后使用时间", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(key_hash__regex=r"^[0-9a-f]{64}$"), name="apitoken_hash_format"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
