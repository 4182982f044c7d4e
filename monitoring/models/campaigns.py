"""回头看 and yearly 信息采集 campaigns (SPEC §5.6).

The county starts a campaign over a set of households (all active targets, all 脱贫户 of chosen
villages, or households whose latest per-capita income is below k × the monitoring line); each
household becomes a ``CampaignTask`` for its village; a visit or a data update (an edit or an
import that changes the household) completes it.  ``village_code`` is copied onto the task so that
completion per village and township is one grouped count, and so that tasks are region-scoped
without a join.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from fanpin.core.scoping import ScopedQuerySet


class CampaignKind(models.TextChoices):
    REVISIT = "REVISIT", "回头看"
    COLLECTION = "COLLECTION", "信息采集"


class CampaignSelection(models.TextChoices):
    ALL_TARGETS = "ALL_TARGETS", "全部监测中的对象"
    EXITED_IN_VILLAGES = "EXITED_IN_VILLAGES", "所选村的全部脱贫户"
    NEAR_LINE = "NEAR_LINE", "人均收入低于监测标准一定倍数的农户"


class CampaignState(models.TextChoices):
    OPEN = "OPEN", "进行中"
    CLOSED = "CLOSED", "已结束"


class TaskState(models.TextChoices):
    OPEN = "OPEN", "待完成"
    DONE = "DONE", "已完成"


class TaskDoneVia(models.TextChoices):
    NONE = "", "—"
    VISIT = "VISIT", "走访"
    DATA_UPDATE = "DATA_UPDATE", "数据更新"


class CampaignQuerySet(ScopedQuerySet["Campaign"]):
    # A campaign belongs to its county: users of the county and above see it through this path;
    # township and village users see their county's campaigns through
    # ``monitoring.selectors.campaigns.campaigns_visible`` (and only their own tasks in them).
    region_path = "county_id"
    personal_data = False


class Campaign(models.Model):
    Kind = CampaignKind
    Selection = CampaignSelection
    State = CampaignState

    county = models.ForeignKey(
        "monitoring.Region",
        verbose_name="县",
        on_delete=models.PROTECT,
        related_name="campaigns",
        limit_choices_to={"level": "COUNTY"},
    )
    kind = models.CharField("类型", max_length=12, choices=CampaignKind.choices)
    name = models.CharField("名称", max_length=80)
    year = models.PositiveSmallIntegerField("年度")
    selection = models.CharField("范围", max_length=20, choices=CampaignSelection.choices)
    # EXITED_IN_VILLAGES: the 12-digit village codes chosen
    villages = models.JSONField("所选村", default=list, blank=True)
    # NEAR_LINE: k, households whose latest per-capita income < k × the line of that income's year
    line_factor = models.DecimalField("监测标准倍数", max_digits=4, decimal_places=2, null=True, blank=True)
    started_on = models.DateField("开始日期")
    due_on = models.DateField("完成期限")
    state = models.CharField("状态", max_length=8, choices=CampaignState.choices, default=CampaignState.OPEN)
    task_count = models.PositiveIntegerField("农户数", default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发起人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("发起时间", auto_now_add=True)
    closed_on = models.DateField("结束日期", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="结束人",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    # The start form's one-time token: a double submit finds the campaign already started.
    client_uuid = models.UUIDField("表单编号", null=True, blank=True, unique=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = "回头看/信息采集活动"
        verbose_name_plural = "回头看/信息采集活动"
        ordering = ["-started_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=CampaignKind.values), name="campaign_kind_valid"),
            models.CheckConstraint(
                condition=Q(selection__in=CampaignSelection.values), name="campaign_selection_valid"
            ),
            models.CheckConstraint(condition=Q(state__in=CampaignState.values), name="campaign_state_valid"),
            models.CheckConstraint(condition=Q(due_on__gte=F("started_on")), name="campaign_due_after_start"),
            models.CheckConstraint(condition=Q(year__gte=2000, year__lte=2100), name="campaign_year_range"),
            models.CheckConstraint(
                condition=Q(selection=CampaignSelection.NEAR_LINE, line_factor__gte=1, line_factor__lte=5)
                | ~Q(selection=CampaignSelection.NEAR_LINE) & Q(line_factor__isnull=True),
                name="campaign_line_factor_iff_near_line",
            ),
            models.CheckConstraint(
                condition=Q(state=CampaignState.CLOSED, closed_on__isnull=False)
                | Q(state=CampaignState.OPEN, closed_on__isnull=True),
                name="campaign_closed_on_iff_closed",
            ),
            models.UniqueConstraint(fields=["county", "year", "name"], name="campaign_unique_name_per_county_year"),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.name}"


class CampaignTaskQuerySet(ScopedQuerySet["CampaignTask"]):
    region_path = "village_code"


class CampaignTask(models.Model):
    State = TaskState
    DoneVia = TaskDoneVia

    campaign = models.ForeignKey(Campaign, verbose_name="活动", on_delete=models.CASCADE, related_name="tasks")
    household = models.ForeignKey(
        "monitoring.Household", verbose_name="农户", on_delete=models.CASCADE, related_name="campaign_tasks"
    )
    # The household's village when the campaign started (fast grouping and scoping; a household
    # that moves later stays the task of the village it was given to).
    village_code = models.CharField("村级区划代码", max_length=12)
    state = models.CharField("状态", max_length=8, choices=TaskState.choices, default=TaskState.OPEN)
    done_on = models.DateField("完成日期", null=True, blank=True)
    done_via = models.CharField("完成方式", max_length=12, choices=TaskDoneVia.choices, blank=True, default="")
    visit = models.ForeignKey(
        "monitoring.Visit",
        verbose_name="走访记录",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="campaign_tasks",
    )
    # null: completed by the system (an import run by a command) or not done yet
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="完成人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = CampaignTaskQuerySet.as_manager()

    class Meta:
        verbose_name = "活动任务"
        verbose_name_plural = "活动任务"
        ordering = ["campaign_id", "village_code", "household_id"]
        indexes = [
            models.Index(fields=["campaign", "village_code", "state"], name="campaign_task_village_state"),
            models.Index(fields=["household", "state"], name="campaign_task_household_state"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "household"], name="campaign_task_one_per_household"),
            models.CheckConstraint(condition=Q(state__in=TaskState.values), name="campaign_task_state_valid"),
            models.CheckConstraint(condition=Q(done_via__in=TaskDoneVia.values), name="campaign_task_done_via_valid"),
            models.CheckConstraint(
                condition=Q(state=TaskState.DONE, done_on__isnull=False) & ~Q(done_via="")
                | Q(state=TaskState.OPEN, done_on__isnull=True, done_via="", visit__isnull=True),
                name="campaign_task_done_fields_iff_done",
            ),
            models.CheckConstraint(
                condition=Q(visit__isnull=True) | Q(done_via=TaskDoneVia.VISIT),
                name="campaign_task_visit_only_via_visit",
            ),
            models.CheckConstraint(condition=Q(village_code__regex=r"^[0-9]{12}$"), name="campaign_task_village_code"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.household_id}"
