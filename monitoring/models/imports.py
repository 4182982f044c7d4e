"""ImportJob: one row per import (browser or command) with its progress and outcome."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from fanpin.core.scoping import ScopedQuerySet


class ImportKind(models.TextChoices):
    REGIONS = "regions", "行政区划"
    HOUSEHOLDS = "households", "农户"
    MEMBERS = "members", "家庭成员"
    INCOMES = "incomes", "年度收入"
    EXPENDITURES = "expenditures", "刚性支出"
    ALERTS = "alerts", "部门预警"
    MEDICAL = "medical", "医保结算数据"
    ASSISTANCE_ROSTER = "assistance_roster", "民政救助名单"


class ImportStatus(models.TextChoices):
    UPLOADED = "UPLOADED", "已上传"
    PREVIEWING = "PREVIEWING", "校验中"
    INVALID = "INVALID", "校验未通过"
    VALIDATED = "VALIDATED", "校验通过，待确认"
    QUEUED = "QUEUED", "排队中"
    RUNNING = "RUNNING", "导入中"
    SUCCEEDED = "SUCCEEDED", "导入完成"
    FAILED = "FAILED", "导入失败"


class ImportJobQuerySet(ScopedQuerySet["ImportJob"]):
    region_path = "region_code"
    personal_data = False
    owner_path = "created_by"  # a department user sees only its own uploads


class ImportJob(models.Model):
    Kind = ImportKind
    Status = ImportStatus

    kind = models.CharField("数据类型", max_length=24, choices=ImportKind.choices)
    file = models.FileField("文件", upload_to="imports/%Y/%m/", blank=True)
    file_name = models.CharField("文件名", max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="导入人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The importer's region (empty for administrators and commands): scopes who sees the job.
    region_code = models.CharField("区划代码", max_length=12, blank=True, db_index=True)
    dry_run = models.BooleanField("试运行", default=False)
    status = models.CharField("状态", max_length=12, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    total_rows = models.PositiveIntegerField("数据行数", default=0)
    progress = models.PositiveSmallIntegerField("进度（%）", default=0)
    created_count = models.PositiveIntegerField("新增", default=0)
    updated_count = models.PositiveIntegerField("更新", default=0)
    unchanged_count = models.PositiveIntegerField("未变化", default=0)
    error_count = models.PositiveIntegerField("错误数", default=0)
    errors = models.JSONField("错误明细", default=list, blank=True)
    preview = models.JSONField("预览", default=dict, blank=True)
    extra = models.JSONField("其他统计", default=dict, blank=True)
    message = models.TextField("结果说明", blank=True)
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = "数据导入"
        verbose_name_plural = "数据导入"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ImportKind.values), name="import_job_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=ImportStatus.values), name="import_job_status_valid"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="import_job_progress_percent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name}"

    @property
    def finished(self) -> bool:
        return self.status in (
            ImportStatus.SUCCEEDED,
            ImportStatus.FAILED,
            ImportStatus.INVALID,
            ImportStatus.VALIDATED,
        )
