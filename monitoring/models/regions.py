from __future__ import annotations

from django.db import models
from django.db.models import Q

from fanpin.core.regions import RegionLevel
from fanpin.core.scoping import ScopedQuerySet


class RegionQuerySet(ScopedQuerySet["Region"]):
    region_path = "code"
    personal_data = False


class Region(models.Model):
    """行政区划: 12-digit code, level derived from the code, parent, deep-poverty flag."""

    Level = RegionLevel

    code = models.CharField("区划代码", max_length=12, primary_key=True)
    name = models.CharField("名称", max_length=64)
    level = models.CharField("级别", max_length=8, choices=RegionLevel.choices, editable=False)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级区划",
        on_delete=models.PROTECT,
        related_name="children",
        null=True,
        blank=True,
        editable=False,
    )
    is_deep_poverty = models.BooleanField("深度贫困地区", default=False)

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[0-9]{12}$"), name="region_code_12_digits"),
            models.CheckConstraint(condition=Q(level__in=RegionLevel.values), name="region_level_valid"),
            # The level must be the one the code says (SPEC §2).
            models.CheckConstraint(
                condition=(
                    Q(level=RegionLevel.PROVINCE, code__endswith="0000000000")
                    | Q(level=RegionLevel.CITY, code__endswith="00000000") & ~Q(code__endswith="0000000000")
                    | Q(level=RegionLevel.COUNTY, code__endswith="000000") & ~Q(code__endswith="00000000")
                    | Q(level=RegionLevel.TOWNSHIP, code__endswith="000") & ~Q(code__endswith="000000")
                    | Q(level=RegionLevel.VILLAGE) & ~Q(code__endswith="000")
                ),
                name="region_level_matches_code",
            ),
            models.CheckConstraint(
                condition=Q(level=RegionLevel.PROVINCE, parent__isnull=True)
                | ~Q(level=RegionLevel.PROVINCE) & Q(parent__isnull=False),
                name="region_parent_unless_province",
            ),
            models.CheckConstraint(
                condition=Q(is_deep_poverty=False) | Q(level=RegionLevel.COUNTY),
                name="region_deep_poverty_only_county",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"
