"""帮扶计划: the measures applied to one monitoring target, with 帮扶责任人, dates, amount, status."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from fanpin.core.scoping import ScopedQuerySet
from monitoring.models.households import MONEY


class MeasureStatus(models.TextChoices):
    PLANNED = "PLANNED", "计划中"
    IN_PROGRESS = "IN_PROGRESS", "实施中"
    COMPLETED = "COMPLETED", "已完成"
    TERMINATED = "TERMINATED", "已终止"


# A measure "counts" for elimination when it is being carried out or done.
EFFECTIVE_STATUSES = (MeasureStatus.IN_PROGRESS, MeasureStatus.COMPLETED)


class AmountKind(models.TextChoices):
    NONE = "", "—"
    FUNDS = "FUNDS", "资金"
    LOAN = "LOAN", "贷款"
    SUBSIDY = "SUBSIDY", "补贴"


class TargetMeasureQuerySet(ScopedQuerySet["TargetMeasure"]):
    region_path = "target__household__village__code"


class TargetMeasure(models.Model):
    Status = MeasureStatus
    AmountKind = AmountKind

    target = models.ForeignKey(
        "monitoring.MonitoringTarget", verbose_name="监测对象", on_delete=models.CASCADE, related_name="measures"
    )
    measure = models.ForeignKey(
        "assistance.Measure", verbose_name="帮扶措施", on_delete=models.PROTECT, related_name="applications"
    )
    responsible_name = models.CharField("帮扶责任人", max_length=64)
    responsible_unit = models.CharField("责任人单位", max_length=100)
    responsible_phone = models.CharField("责任人电话", max_length=32)
    start_on = models.DateField("开始日期")
    end_on = models.DateField("结束日期", null=True, blank=True)
    amount = models.DecimalField("金额", null=True, blank=True, **MONEY)
    amount_kind = models.CharField("金额类型", max_length=8, choices=AmountKind.choices, blank=True, default="")
    status = models.CharField("状态", max_length=12, choices=MeasureStatus.choices, default=MeasureStatus.PLANNED)
    progress_notes = models.TextField("进展情况", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="录入人", on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = TargetMeasureQuerySet.as_manager()

    class Meta:
        verbose_name = "帮扶措施（落实）"
        verbose_name_plural = "帮扶措施（落实）"
        ordering = ["target_id", "start_on", "id"]
        indexes = [models.Index(fields=["target", "status"], name="target_measure_status")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=MeasureStatus.values), name="target_measure_status_valid"),
            models.CheckConstraint(
                condition=Q(amount_kind__in=AmountKind.values), name="target_measure_amount_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="target_measure_amount_non_negative"
            ),
            # An amount says what it is (funds, loan or subsidy); no kind without an amount.
            models.CheckConstraint(
                condition=Q(amount__isnull=True, amount_kind="") | Q(amount__isnull=False) & ~Q(amount_kind=""),
                name="target_measure_amount_kind_iff_amount",
            ),
            models.CheckConstraint(
                condition=Q(end_on__isnull=True) | Q(end_on__gte=F("start_on")),
                name="target_measure_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target_id} {self.measure_id} {self.get_status_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in (MeasureStatus.PLANNED, MeasureStatus.IN_PROGRESS)
