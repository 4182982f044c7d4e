"""帮扶措施目录 (the assistance catalogue, SPEC §5): seeded by a data migration; administrators add."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class MeasureCategory(models.TextChoices):
    INDUSTRY = "INDUSTRY", "产业帮扶"
    EMPLOYMENT = "EMPLOYMENT", "就业帮扶"
    FINANCE = "FINANCE", "金融帮扶"
    HEALTH = "HEALTH", "健康帮扶"
    EDUCATION = "EDUCATION", "教育帮扶"
    HOUSING_WATER = "HOUSING_WATER", "住房饮水"
    SOCIAL_SECURITY = "SOCIAL_SECURITY", "综合保障"
    MOTIVATION = "MOTIVATION", "扶志扶智"
    SOCIAL_AID = "SOCIAL_AID", "社会帮扶"


class MeasureKind(models.TextChoices):
    DEVELOPMENTAL = "DEVELOPMENTAL", "开发式"
    PROTECTIVE = "PROTECTIVE", "保障性"


# 产业/就业/金融 are developmental (开发式); the rest protective (保障性).
DEVELOPMENTAL_CATEGORIES = ("INDUSTRY", "EMPLOYMENT", "FINANCE")


class Measure(models.Model):
    Category = MeasureCategory
    Kind = MeasureKind

    code = models.CharField("编码", max_length=40, unique=True, help_text="大写英文编码，如 MICROCREDIT")
    name = models.CharField("措施名称", max_length=64, unique=True)
    category = models.CharField("类别", max_length=20, choices=MeasureCategory.choices)
    kind = models.CharField("性质", max_length=16, choices=MeasureKind.choices)
    risk_types = models.JSONField("针对的风险类型", default=list, blank=True, help_text="风险类型编码列表")
    is_active = models.BooleanField("启用", default=True)
    sort_order = models.PositiveSmallIntegerField("排序", default=100)

    class Meta:
        verbose_name = "帮扶措施（目录）"
        verbose_name_plural = "帮扶措施目录"
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(category__in=MeasureCategory.values), name="measure_category_valid"),
            models.CheckConstraint(condition=Q(kind__in=MeasureKind.values), name="measure_kind_valid"),
            models.CheckConstraint(condition=Q(code__regex=r"^[A-Z][A-Z0-9_]*$"), name="measure_code_upper"),
            # The kind follows from the category (SPEC §5).
            models.CheckConstraint(
                condition=Q(kind="DEVELOPMENTAL", category__in=DEVELOPMENTAL_CATEGORIES)
                | Q(kind="PROTECTIVE") & ~Q(category__in=DEVELOPMENTAL_CATEGORIES),
                name="measure_kind_matches_category",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_developmental(self) -> bool:
        return self.kind == MeasureKind.DEVELOPMENTAL
