"""Browser exports of large lists run as jobs (SPEC §7: long work shows progress, can be left and
come back to, and the result waits on its own page)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from fanpin.core.scoping import ScopedQuerySet


class ExportKind(models.TextChoices):
    HOUSEHOLDS = "households", "农户信息"
    LEADS = "leads", "预警线索"
    TARGETS = "targets", "监测对象"


class ExportStatus(models.TextChoices):
    QUEUED = "QUEUED", "排队中"
    RUNNING = "RUNNING", "导出中"
    SUCCEEDED = "SUCCEEDED", "已完成"
    FAILED = "FAILED", "导出失败"


class ExportJobQuerySet(ScopedQuerySet["ExportJob"]):
    region_path = "region_code"
    personal_data = False


class ExportJob(models.Model):
    """One export a user started; only that user sees it and downloads its file."""

    Kind = ExportKind
    Status = ExportStatus

    kind = models.CharField("导出内容", max_length=16, choices=ExportKind.choices)
    filters = models.JSONField("筛选条件", default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="导出人", on_delete=models.PROTECT, related_name="+"
    )
    region_code = models.CharField("区划代码", max_length=12, blank=True, db_index=True)
    status = models.CharField("状态", max_length=12, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    expected_rows = models.PositiveIntegerField("预计行数", default=0)
    row_count = models.PositiveIntegerField("导出行数", default=0)
    file = models.FileField("文件", upload_to="exports/%Y/%m/", blank=True)
    message = models.TextField("结果说明", blank=True)
    created_at = models.DateTimeField("发起时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        verbose_name = "数据导出"
        verbose_name_plural = "数据导出"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="export_job_owner_recent")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ExportKind.values), name="export_job_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=ExportStatus.values), name="export_job_status_valid"),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING])
                | Q(finished_at__isnull=False, status__in=[ExportStatus.SUCCEEDED, ExportStatus.FAILED]),
                name="export_job_finished_iff_final",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in (ExportStatus.SUCCEEDED, ExportStatus.FAILED)
