"""Screening: the stored rule parameters (one row) and the run records (SPEC §4)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from fanpin.core.scoping import ScopedQuerySet
from monitoring.models.screening_rules import RATIO, rule_parameter


def _rule_parameter_field(name: str) -> models.DecimalField:  # type: ignore[type-arg]
    p = rule_parameter(name)
    assert p.unit == RATIO  # the columns hold four decimals
    return models.DecimalField(p.label, default=p.default, help_text=p.help_text, max_digits=6, decimal_places=4)


class ScreeningParameters(models.Model):
    """规则参数: the numbers of SPEC §4 an administrator may change (exactly one row, id 1).

    Seeded with the SPEC's defaults by migration 0003; changed only through
    ``monitoring.services.parameters.screening_parameters_set`` (audited).
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    # The parameters of the built-in rules have columns (with check constraints below); label,
    # help and default are the rule declaration's (monitoring.models.screening_rules).
    spike_ratio = _rule_parameter_field("spike_ratio")
    drop_ratio = _rule_parameter_field("drop_ratio")
    drop_line_multiple = _rule_parameter_field("drop_line_multiple")
    # Parameters of rules declared later, without a column of their own: name → value (a string of
    # the decimal), validated by the declaration in ``screening_parameters_set``.
    rule_values = models.JSONField("其他规则参数", default=dict, blank=True)
    scale_cap_normal = models.DecimalField(
        "监测规模上限（一般地区）", default=Decimal("0.0500"), max_digits=6, decimal_places=4
    )
    scale_cap_deep = models.DecimalField(
        "监测规模上限（深度贫困地区）", default=Decimal("0.1000"), max_digits=6, decimal_places=4
    )
    scale_floor = models.DecimalField("监测规模下限", default=Decimal("0.0100"), max_digits=6, decimal_places=4)
    # 医保 settlement extracts: out-of-pocket cost from which a 大额医疗支出 alert is raised.
    medical_alert_supported = models.DecimalField(
        "大额医疗支出预警线（脱贫户、监测对象）", default=Decimal("5000.00"), max_digits=12, decimal_places=2
    )
    medical_alert_general = models.DecimalField(
        "大额医疗支出预警线（其他人员）", default=Decimal("20000.00"), max_digits=12, decimal_places=2
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="修改人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = "筛查规则参数"
        verbose_name_plural = "筛查规则参数"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="screening_parameters_singleton"),
            models.CheckConstraint(condition=Q(spike_ratio__gt=0), name="screening_spike_ratio_positive"),
            models.CheckConstraint(condition=Q(drop_ratio__gt=0, drop_ratio__lt=1), name="screening_drop_ratio_range"),
            models.CheckConstraint(condition=Q(drop_line_multiple__gt=0), name="screening_drop_multiple_positive"),
            models.CheckConstraint(
                condition=Q(medical_alert_supported__gt=0, medical_alert_general__gt=0),
                name="screening_medical_alert_positive",
            ),
            models.CheckConstraint(
                condition=Q(scale_floor__gte=0)
                & Q(scale_floor__lt=models.F("scale_cap_normal"))
                & Q(scale_cap_normal__lte=models.F("scale_cap_deep"))
                & Q(scale_cap_deep__lte=1),
                name="screening_scale_bounds_ordered",
            ),
        ]

    def __str__(self) -> str:
        return "筛查规则参数"


class RunTrigger(models.TextChoices):
    MANUAL = "MANUAL", "页面手动"
    COMMAND = "COMMAND", "命令行"
    SCHEDULE = "SCHEDULE", "定时任务"
    IMPORT = "IMPORT", "数据导入后"


class RunStatus(models.TextChoices):
    PENDING = "PENDING", "排队中"
    RUNNING = "RUNNING", "运行中"
    SUCCEEDED = "SUCCEEDED", "已完成"
    FAILED = "FAILED", "失败"


FINISHED_RUN_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED)


class ScreeningRunQuerySet(ScopedQuerySet["ScreeningRun"]):
    region_path = "region__code"
    personal_data = False


class ScreeningRun(models.Model):
    """One screening of a region for a year.  A county run does the work in one transaction; a run
    of a larger region has one child run per county and gathers their summaries.

    ``summary``: ``{"households": n, "rules": {rule: {"fired", "raised", "refreshed",
    "skipped_target", "skipped_rejected", "missing"}}, "leads": {"raised", "refreshed",
    "skipped_target", "skipped_rejected"}, "line": "8700.00" | null}``.
    """

    Trigger = RunTrigger
    Status = RunStatus

    region = models.ForeignKey(
        "monitoring.Region", verbose_name="筛查范围", on_delete=models.PROTECT, related_name="screening_runs"
    )
    year = models.PositiveSmallIntegerField("年度")
    parent = models.ForeignKey(
        "self", verbose_name="上级批次", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    trigger = models.CharField("发起方式", max_length=10, choices=RunTrigger.choices)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发起人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField("状态", max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    counties_total = models.PositiveIntegerField("县数", default=1)
    counties_done = models.PositiveIntegerField("已完成县数", default=0)
    households = models.PositiveIntegerField("筛查户数", default=0)
    leads_raised = models.PositiveIntegerField("新增线索", default=0)
    leads_refreshed = models.PositiveIntegerField("更新线索", default=0)
    summary = models.JSONField("汇总", default=dict, blank=True)
    error = models.TextField("错误信息", blank=True)

    objects = ScreeningRunQuerySet.as_manager()

    class Meta:
        verbose_name = "筛查批次"
        verbose_name_plural = "筛查批次"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["region", "year"], name="screening_run_region_year")]
        constraints = [
            models.CheckConstraint(condition=Q(trigger__in=RunTrigger.values), name="screening_run_trigger_valid"),
            models.CheckConstraint(condition=Q(status__in=RunStatus.values), name="screening_run_status_valid"),
            models.CheckConstraint(condition=Q(year__gte=2000, year__lte=2100), name="screening_run_year_range"),
            models.CheckConstraint(
                condition=Q(counties_done__lte=models.F("counties_total")), name="screening_run_done_le_total"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["SUCCEEDED", "FAILED"], finished_at__isnull=False)
                | Q(status__in=["PENDING", "RUNNING"], finished_at__isnull=True),
                name="screening_run_finished_iff_final",
            ),
            # a province's or city's run has one run per county (the batch finds a lead's run by it)
            models.UniqueConstraint(
                fields=["parent", "region"], condition=Q(parent__isnull=False), name="screening_run_one_per_county"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}年 {self.region_id} {self.get_status_display()}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_RUN_STATUSES
