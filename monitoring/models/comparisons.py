"""信息比对 (SPEC §5.6): with the household's consent on file, the county compares the
household with other registers — a list administrators edit (``ComparisonSource``) — and records
one current result per lead and source (``DataComparison``): 无异常 / 有异常, a note, and for 有异常
the county's written judgement (研判意见) before 乡镇审核 may go on.

Re-recording changes the one row; the history is in the audit rows (``data_comparison``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from fanpin.core.scoping import ScopedQuerySet


class ComparisonSource(models.Model):
    """A register compared against (公安车辆, 不动产登记, …); seeded by migration 0032."""

    code = models.CharField("代码", max_length=30, unique=True)
    name = models.CharField("名称", max_length=50)
    active = models.BooleanField("启用", default=True)
    order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "信息比对来源"
        verbose_name_plural = "信息比对来源"
        ordering = ["order", "code"]
        constraints = [
            # stored codes are upper-case codes (the architecture's rule; the admin form checks the
            # form), never empty; names never empty
            models.CheckConstraint(condition=~Q(code=""), name="comparison_source_code_present"),
            models.CheckConstraint(condition=~Q(name=""), name="comparison_source_name_present"),
        ]

    def __str__(self) -> str:
        return self.name


class ComparisonResult(models.TextChoices):
    NO_ISSUE = "NO_ISSUE", "无异常"
    ISSUE = "ISSUE", "有异常"


class DataComparisonQuerySet(ScopedQuerySet["DataComparison"]):
    region_path = "lead__village__code"


class DataComparison(models.Model):
    Result = ComparisonResult

    lead = models.ForeignKey(
        "monitoring.Lead",
        verbose_name="线索",
        on_delete=models.CASCADE,
        related_name="comparisons",
        db_index=False,  # comparison_one_per_lead_source (lead, source) serves every lead lookup
    )
    source = models.ForeignKey(
        ComparisonSource, verbose_name="比对来源", on_delete=models.PROTECT, related_name="comparisons"
    )
    compared_on = models.DateField("比对日期")
    result = models.CharField("比对结果", max_length=10, choices=ComparisonResult.choices)
    note = models.TextField("比对说明", blank=True, default="")
    judgement = models.TextField("研判意见", blank=True, default="")
    judged_at = models.DateTimeField("研判时间", null=True, blank=True)
    judged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="研判人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    recorded_at = models.DateTimeField("录入时间")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )

    objects = DataComparisonQuerySet.as_manager()

    class Meta:
        verbose_name = "信息比对结果"
        verbose_name_plural = "信息比对结果"
        ordering = ["lead", "source__order", "source__code"]
        constraints = [
            models.UniqueConstraint(fields=["lead", "source"], name="comparison_one_per_lead_source"),
            models.CheckConstraint(condition=Q(result__in=ComparisonResult.values), name="comparison_result_valid"),
            # a written judgement belongs to 有异常 only
            models.CheckConstraint(
                condition=Q(result="ISSUE") | Q(judgement=""), name="comparison_judgement_only_on_issue"
            ),
            # a judgement has its time; no judgement, no time and no judge
            models.CheckConstraint(
                condition=(Q(judgement="") & Q(judged_at__isnull=True) & Q(judged_by__isnull=True))
                | (~Q(judgement="") & Q(judged_at__isnull=False)),
                name="comparison_judged_at_iff_judgement",
            ),
            # 有异常 says what was found
            models.CheckConstraint(condition=~Q(result="ISSUE") | ~Q(note=""), name="comparison_issue_has_note"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.source_id} {self.get_result_display()}"

    @property
    def awaits_judgement(self) -> bool:
        return self.result == ComparisonResult.ISSUE and not self.judgement
