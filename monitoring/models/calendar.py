"""The working-day calendar and the procedure's time limits (SPEC §5.6).

Working days are Monday–Friday, except the holidays stored here, plus the 调休 working weekends
stored here. The calendar is data: administrators edit it and import it from xlsx each year; the demo
ships a sample year marked ``sample``. Time limits are set per province (``ProcedureLimit``), falling
back to the national defaults of ``DEFAULT_STEP_LIMITS``; other procedure settings of a province are
one ``ProcedureSetting`` row (absent: the defaults).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class CalendarDayKind(models.TextChoices):
    HOLIDAY = "HOLIDAY", "法定节假日"
    WORKDAY = "WORKDAY", "调休上班"


class CalendarDay(models.Model):
    """A day that is not what its weekday says: a holiday on a weekday, or a 调休 working weekend."""

    Kind = CalendarDayKind

    day = models.DateField("日期", unique=True)
    kind = models.CharField("类型", max_length=8, choices=CalendarDayKind.choices)
    name = models.CharField("名称", max_length=40, blank=True, default="")
    sample = models.BooleanField("示例数据（非官方公布）", default=False)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = "节假日与调休"
        verbose_name_plural = "节假日与调休"
        ordering = ["day"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=CalendarDayKind.values), name="calendar_day_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.get_kind_display()} {self.name}".strip()


class CalendarPreviewStatus(models.TextChoices):
    PENDING = "PENDING", "待确认"
    INVALID = "INVALID", "有错误，不能导入"
    APPLIED = "APPLIED", "已导入"
    CANCELLED = "CANCELLED", "已取消"


class CalendarImportPreview(models.Model):
    """An uploaded year's calendar, parsed and checked but not written: what 确认导入 applies.

    ``rows`` is the parsed sheet (``[["2027-01-01", "HOLIDAY", "元旦"], ...]``), ``digest`` its
    SHA-256; ``base_digest`` is the SHA-256 of the year's stored days when the preview was made
    (``monitoring.selectors.calendar_imports.calendar_year_digest``): a confirm after anything changed
    that year is refused. Cancelled previews keep no rows.
    """

    Status = CalendarPreviewStatus

    year = models.PositiveSmallIntegerField("年度")
    file_name = models.CharField("文件名", max_length=255, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    status = models.CharField(
        "状态", max_length=10, choices=CalendarPreviewStatus.choices, default=CalendarPreviewStatus.PENDING
    )
    rows = models.JSONField("解析结果", default=list, blank=True)
    errors = models.JSONField("错误明细", default=list, blank=True)
    error_count = models.PositiveIntegerField("错误数", default=0)
    digest = models.CharField("解析结果摘要", max_length=64)
    base_digest = models.CharField("预览时已有安排的摘要", max_length=64)
    decided_at = models.DateTimeField("确认或取消时间", null=True, blank=True)

    class Meta:
        verbose_name = "节假日导入预览"
        verbose_name_plural = "节假日导入预览"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CalendarPreviewStatus.values), name="calendar_preview_status_valid"
            ),
            models.CheckConstraint(condition=Q(year__gte=2000, year__lte=2100), name="calendar_preview_year_range"),
            models.CheckConstraint(
                condition=~Q(status=CalendarPreviewStatus.APPLIED) | Q(error_count=0),
                name="calendar_preview_applied_without_errors",
            ),
            models.CheckConstraint(
                condition=~Q(status=CalendarPreviewStatus.INVALID) | Q(error_count__gt=0),
                name="calendar_preview_invalid_has_errors",
            ),
            models.CheckConstraint(
                condition=Q(
                    decided_at__isnull=True,
                    status__in=[CalendarPreviewStatus.PENDING, CalendarPreviewStatus.INVALID],
                )
                | Q(
                    decided_at__isnull=False,
                    status__in=[CalendarPreviewStatus.APPLIED, CalendarPreviewStatus.CANCELLED],
                ),
                name="calendar_preview_decided_when_done",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} 年节假日导入预览 {self.file_name}".strip()


class ProcedureStep(models.TextChoices):
    """The steps that have a time limit. Identification: 受理 → 入户核实 → 信息比对 → 评议公示 →
    乡镇审核 → 县级审定 (and the whole procedure); elimination has its own steps; the green channel's
    follow-up owes the skipped ones."""

    ACCEPT = "ACCEPT", "受理"
    HOME_CHECK = "HOME_CHECK", "入户核实"
    COMPARISON = "COMPARISON", "信息比对"
    APPRAISAL_PUBLICITY = "APPRAISAL_PUBLICITY", "民主评议和公示"
    TOWNSHIP_REVIEW = "TOWNSHIP_REVIEW", "乡镇审核"
    COUNTY_DECISION = "COUNTY_DECISION", "县级审定"
    WHOLE = "WHOLE", "识别全流程"
    ELIMINATION_PUBLICITY = "ELIMINATION_PUBLICITY", "风险消除评议公示"
    ELIMINATION_TOWNSHIP = "ELIMINATION_TOWNSHIP", "风险消除乡镇审核"
    ELIMINATION_COUNTY = "ELIMINATION_COUNTY", "风险消除县级审定"
    FOLLOW_UP = "FOLLOW_UP", "绿色通道补办程序"
    CAMPAIGN = "CAMPAIGN", "回头看/信息采集任务"


class DayUnit(models.TextChoices):
    WORKING = "WORKING", "工作日"
    CALENDAR = "CALENDAR", "自然日"


# National defaults (examples of local rules in SPEC §5.6); a province overrides any of them.
DEFAULT_STEP_LIMITS: dict[str, tuple[int, str]] = {
    ProcedureStep.ACCEPT: (2, DayUnit.WORKING),
    ProcedureStep.HOME_CHECK: (3, DayUnit.WORKING),
    ProcedureStep.COMPARISON: (5, DayUnit.WORKING),
    ProcedureStep.APPRAISAL_PUBLICITY: (5, DayUnit.WORKING),
    ProcedureStep.TOWNSHIP_REVIEW: (3, DayUnit.WORKING),
    ProcedureStep.COUNTY_DECISION: (3, DayUnit.WORKING),
    ProcedureStep.WHOLE: (15, DayUnit.WORKING),
    ProcedureStep.ELIMINATION_PUBLICITY: (5, DayUnit.WORKING),
    ProcedureStep.ELIMINATION_TOWNSHIP: (3, DayUnit.WORKING),
    ProcedureStep.ELIMINATION_COUNTY: (3, DayUnit.WORKING),
    ProcedureStep.FOLLOW_UP: (15, DayUnit.WORKING),
    ProcedureStep.CAMPAIGN: (20, DayUnit.WORKING),
}


class ProcedureLimit(models.Model):
    """A province's time limit for one step (absent: the national default)."""

    Step = ProcedureStep
    Unit = DayUnit

    province_code = models.CharField("省级区划代码", max_length=12)
    step = models.CharField("环节", max_length=24, choices=ProcedureStep.choices)
    days = models.PositiveSmallIntegerField("时限")
    unit = models.CharField("计算方式", max_length=8, choices=DayUnit.choices, default=DayUnit.WORKING)
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
        verbose_name = "办理时限"
        verbose_name_plural = "办理时限"
        ordering = ["province_code", "step"]
        constraints = [
            models.UniqueConstraint(fields=["province_code", "step"], name="procedure_limit_one_per_step"),
            models.CheckConstraint(condition=Q(step__in=ProcedureStep.values), name="procedure_limit_step_valid"),
            models.CheckConstraint(condition=Q(unit__in=DayUnit.values), name="procedure_limit_unit_valid"),
            models.CheckConstraint(condition=Q(days__gte=1, days__lte=365), name="procedure_limit_days_range"),
            models.CheckConstraint(
                condition=Q(province_code__regex=r"^[0-9]{2}0{10}$"), name="procedure_limit_province_code"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.province_code} {self.get_step_display()} {self.days} {self.get_unit_display()}"


class ProcedureSetting(models.Model):
    """A province's procedure settings other than time limits (absent: the defaults)."""

    province_code = models.CharField("省级区划代码", max_length=12, unique=True)
    # 不予纳入 decisions are listed on the 公告 only where the province asks for it.
    announce_rejections = models.BooleanField("公告包含不予纳入的农户", default=False)
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
        verbose_name = "省级程序设置"
        verbose_name_plural = "省级程序设置"
        constraints = [
            models.CheckConstraint(
                condition=Q(province_code__regex=r"^[0-9]{2}0{10}$"), name="procedure_setting_province_code"
            ),
        ]

    def __str__(self) -> str:
        return self.province_code
