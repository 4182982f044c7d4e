from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from monitoring.models.households import MONEY


class MonitoringLine(models.Model):
    """监测标准 for a year: national (no province) or a province's own, never lower (SPEC §2).

    ``line`` is the effective figure that screening compares with: an explicit published figure,
    or ``poverty_line × multiplier`` computed when it was set.
    """

    year = models.PositiveSmallIntegerField("年度")
    province = models.ForeignKey(
        "monitoring.Region",
        verbose_name="省份",
        on_delete=models.PROTECT,
        related_name="monitoring_lines",
        null=True,
        blank=True,
        limit_choices_to={"level": "PROVINCE"},
        help_text="为空表示全国标准",
    )
    poverty_line = models.DecimalField("扶贫标准", null=True, blank=True, **MONEY)
    multiplier = models.DecimalField("倍数", max_digits=4, decimal_places=2, null=True, blank=True)
    line = models.DecimalField("监测标准（元/人·年）", **MONEY)
    source = models.CharField("依据", max_length=300, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="设置人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField("设置时间", auto_now=True)

    class Meta:
        verbose_name = "监测标准"
        verbose_name_plural = "监测标准"
        ordering = ["-year", "province_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["year"], condition=Q(province__isnull=True), name="line_one_national_per_year"
            ),
            models.UniqueConstraint(
                fields=["year", "province"],
                condition=Q(province__isnull=False),
                name="line_one_per_province_year",
            ),
            models.CheckConstraint(condition=Q(line__gt=0), name="line_positive"),
            models.CheckConstraint(condition=Q(year__gte=2000, year__lte=2100), name="line_year_range"),
            models.CheckConstraint(
                condition=Q(poverty_line__isnull=True, multiplier__isnull=True)
                | Q(poverty_line__gt=0, multiplier__gt=0),
                name="line_poverty_line_with_multiplier",
            ),
        ]

    def __str__(self) -> str:
        scope = self.province.name if self.province_id and self.province else "全国"
        return f"{self.year}年 {scope} {self.line} 元"
