"""民政 rosters (SPEC §2.1, §6 ``assistance_roster``): a person's social-assistance status — 低保, 特困,
低保边缘 or 刚性支出困难 — with its start and end dates and monthly amount, as 民政 sent it.

One row per roster line, keyed like SPEC §6 (身份证号 + 救助类别 + 开始日期) within the submitting
unit (the submitter's region, ``scope_code``, as department alerts).  A line is matched by 身份证号
to a member inside the submitter's scope; an unmatched line is kept (未匹配) for the county, never
dropped.  A household's status is derived from its members' current matched lines
(``monitoring.selectors.rosters``).  Writes: ``monitoring.services.rosters``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from fanpin.core.scoping import ScopedQuerySet
from monitoring.models.alerts import AlertStatus


class AssistanceCategory(models.TextChoices):
    """救助类别 of a 民政 roster line (农村低收入人口)."""

    SUBSISTENCE = "SUBSISTENCE", "低保"
    DESTITUTE = "DESTITUTE", "特困"
    NEAR_SUBSISTENCE = "NEAR_SUBSISTENCE", "低保边缘"
    RIGID_HARDSHIP = "RIGID_HARDSHIP", "刚性支出困难"


# 兜底 categories: a target 'covered' by 民政 has one of these (the dashboard's work list).
SAFETY_NET_CATEGORIES = (AssistanceCategory.SUBSISTENCE, AssistanceCategory.DESTITUTE)


class RosterUnmatchedReason(models.TextChoices):
    NONE = "", "—"
    NAME_MISMATCH = "NAME_MISMATCH", "姓名与身份证号不符"


class AssistanceEntryQuerySet(ScopedQuerySet["AssistanceEntry"]):
    # The matched member's village code, or (未匹配) the submitter's region: like DepartmentAlert.
    region_path = "region_code"


class AssistanceEntry(models.Model):
    Category = AssistanceCategory
    Status = AlertStatus

    id_number = models.CharField("身份证号", max_length=18)
    name = models.CharField("姓名", max_length=64)
    category = models.CharField("救助类别", max_length=16, choices=AssistanceCategory.choices)
    start_date = models.DateField("开始日期")
    end_date = models.DateField("结束日期", null=True, blank=True)
    monthly_amount = models.DecimalField("月救助金额", max_digits=12, decimal_places=2, null=True, blank=True)
    member = models.ForeignKey(
        "monitoring.Member",
        verbose_name="匹配成员",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assistance_entries",
    )
    status = models.CharField("匹配状态", max_length=12, choices=AlertStatus.choices)
    # Why a line is 未匹配 when its 身份证号 was found (a different name: never matched, a typo
    # must not give 低保 to another family); empty otherwise.
    unmatched_reason = models.CharField(
        "未匹配原因", max_length=16, choices=RosterUnmatchedReason.choices, blank=True, default=""
    )
    region_code = models.CharField("区划代码", max_length=12, blank=True, db_index=True)
    # The submitting unit: 民政 of this region (empty: administrators and commands).
    scope_code = models.CharField("报送单位区划", max_length=12, blank=True, default="")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="提交人",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The roster row that last wrote it: an upload's job and row number (empty for the API).
    source_job = models.ForeignKey(
        "monitoring.ImportJob",
        verbose_name="来源导入",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    source_row = models.PositiveIntegerField("来源行号", null=True, blank=True)
    created_at = models.DateTimeField("导入时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = AssistanceEntryQuerySet.as_manager()

    class Meta:
        verbose_name = "民政救助名单"
        verbose_name_plural = "民政救助名单"
        ordering = ["-start_date", "id"]
        indexes = [models.Index(fields=["member", "start_date"], name="assistance_entry_member_start")]
        constraints = [
            # SPEC §6's key within the submitting unit: one unit's lines never meet another's.
            models.UniqueConstraint(
                fields=["scope_code", "id_number", "category", "start_date"], name="assistance_entry_unique_key"
            ),
            models.CheckConstraint(
                condition=Q(category__in=AssistanceCategory.values), name="assistance_entry_category_valid"
            ),
            models.CheckConstraint(condition=Q(status__in=AlertStatus.values), name="assistance_entry_status_valid"),
            models.CheckConstraint(
                condition=Q(status=AlertStatus.MATCHED, member__isnull=False)
                | Q(status=AlertStatus.UNMATCHED, member__isnull=True),
                name="assistance_entry_status_matches_member",
            ),
            models.CheckConstraint(
                condition=Q(unmatched_reason__in=RosterUnmatchedReason.values),
                name="assistance_entry_unmatched_reason_valid",
            ),
            models.CheckConstraint(
                condition=Q(unmatched_reason="") | Q(status=AlertStatus.UNMATCHED),
                name="assistance_entry_reason_only_unmatched",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="assistance_entry_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(monthly_amount__isnull=True) | Q(monthly_amount__gte=0),
                name="assistance_entry_amount_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(id_number__regex=r"^[0-9]{17}[0-9X]$"), name="assistance_entry_id_number_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.get_category_display()} {self.start_date}"
