"""监测对象 (monitoring targets), minimal: what screening (SPEC 4.3) and the scale check (4.4) need.

The confirmation workflow (``monitoring.services.review``), the measures and risk elimination
(``assistance``) build on it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from fanpin.core.scoping import ScopedQuerySet
from monitoring.models.leads import TargetCategory


class TargetStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "监测中"
    ELIMINATED = "ELIMINATED", "风险消除"


class EliminationMethod(models.TextChoices):
    NONE = "", "—"
    ASSISTED = "ASSISTED", "帮扶消除"
    NATURAL = "NATURAL", "自然消除"


class MonitoringTargetQuerySet(ScopedQuerySet["MonitoringTarget"]):
    region_path = "household__village__code"

    def active(self) -> MonitoringTargetQuerySet:
        return self.filter(status=TargetStatus.ACTIVE)


class MonitoringTarget(models.Model):
    Status = TargetStatus
    Category = TargetCategory
    EliminationMethod = EliminationMethod

    household = models.ForeignKey(
        "monitoring.Household", verbose_name="农户", on_delete=models.PROTECT, related_name="targets"
    )
    lead = models.ForeignKey(
        "monitoring.Lead",
        verbose_name="来源线索",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="targets",
    )
    category = models.CharField("监测对象类别", max_length=20, choices=TargetCategory.choices)
    risk_types = models.JSONField("风险类型", default=list)
    identified_on = models.DateField("识别日期")
    status = models.CharField("状态", max_length=12, choices=TargetStatus.choices, default=TargetStatus.ACTIVE)
    elimination_method = models.CharField(
        "消除方式", max_length=10, choices=EliminationMethod.choices, blank=True, default=""
    )
    eliminated_on = models.DateField("风险消除日期", null=True, blank=True)
    sources = models.JSONField("线索来源", default=list, blank=True)
    confirmed_at = models.DateTimeField("确定时间", null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="确定人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    direct = models.BooleanField("县级直接确定", default=False)

    objects = MonitoringTargetQuerySet.as_manager()

    class Meta:
        verbose_name = "监测对象"
        verbose_name_plural = "监测对象"
        ordering = ["-identified_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"], condition=Q(status="ACTIVE"), name="target_one_active_per_household"
            ),
            # A lead becomes at most one target, whatever two users do at once.
            models.UniqueConstraint(fields=["lead"], condition=Q(lead__isnull=False), name="target_one_per_lead"),
            models.CheckConstraint(condition=Q(category__in=TargetCategory.values), name="target_category_valid"),
            models.CheckConstraint(condition=Q(status__in=TargetStatus.values), name="target_status_valid"),
            models.CheckConstraint(
                condition=Q(elimination_method__in=EliminationMethod.values), name="target_elimination_method_valid"
            ),
            # 风险消除 records its method and date; an active target has neither.
            models.CheckConstraint(
                condition=Q(status="ACTIVE", elimination_method="", eliminated_on__isnull=True)
                | Q(status="ELIMINATED", eliminated_on__isnull=False) & ~Q(elimination_method=""),
                name="target_elimination_iff_eliminated",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.get_category_display()} {self.get_status_display()}"
