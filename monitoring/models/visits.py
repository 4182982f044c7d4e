"""走访记录 (visit records), minimal: what risk elimination (SPEC §5) reads.

The cadres' visit pages, offline sync and the VISIT lead source build on this in a later issue.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from fanpin.scoping import ScopedQuerySet

# The 两不愁三保障 checklist: field name → label, in the SPEC's order.
CHECKLIST_FIELDS: tuple[tuple[str, str], ...] = (
    ("food_secure", "不愁吃"),
    ("clothing_secure", "不愁穿"),
    ("education_secure", "义务教育有保障"),
    ("medical_secure", "基本医疗有保障"),
    ("housing_secure", "住房安全有保障"),
    ("water_secure", "饮水安全有保障"),
)


class IncomeChange(models.TextChoices):
    NONE = "NONE", "无变化"
    DECREASED = "DECREASED", "减少"
    SHARPLY_DECREASED = "SHARPLY_DECREASED", "大幅减少"


class VisitQuerySet(ScopedQuerySet["Visit"]):
    region_path = "household__village__code"


class Visit(models.Model):
    IncomeChange = IncomeChange

    household = models.ForeignKey(
        "monitoring.Household", verbose_name="农户", on_delete=models.CASCADE, related_name="visits"
    )
    visited_on = models.DateField("走访日期")
    visitors = models.CharField("走访人", max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    food_secure = models.BooleanField("不愁吃", default=True)
    clothing_secure = models.BooleanField("不愁穿", default=True)
    education_secure = models.BooleanField("义务教育有保障", default=True)
    medical_secure = models.BooleanField("基本医疗有保障", default=True)
    housing_secure = models.BooleanField("住房安全有保障", default=True)
    water_secure = models.BooleanField("饮水安全有保障", default=True)
    events = models.JSONField("发现事项", default=list, blank=True)
    income_change = models.CharField("收入变化", max_length=20, choices=IncomeChange.choices, default=IncomeChange.NONE)
    risk_flag = models.BooleanField("发现返贫致贫风险", default=False)
    notes = models.TextField("备注", blank=True)
    client_uuid = models.UUIDField("客户端编号", unique=True, null=True, blank=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = "走访记录"
        verbose_name_plural = "走访记录"
        ordering = ["-visited_on", "-id"]
        indexes = [models.Index(fields=["household", "visited_on"], name="visit_household_date")]
        constraints = [
            models.CheckConstraint(
                condition=Q(income_change__in=IncomeChange.values), name="visit_income_change_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.visited_on}"

    @property
    def all_secure(self) -> bool:
        """Every 两不愁三保障 item secured."""
        return all(getattr(self, name) for name, _label in CHECKLIST_FIELDS)

    @property
    def checklist(self) -> list[tuple[str, bool]]:
        return [(label, bool(getattr(self, name))) for name, label in CHECKLIST_FIELDS]
