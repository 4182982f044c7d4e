"""预警线索 (leads): a household that a source says may need monitoring (SPEC §3, §5).

Sources and suggested risk types are JSON lists of the upper-case codes below, rules fired of the
codes of the screening rules (``monitoring.models.screening_rules``), validated by the services that
write them; evidence is ``{source code: {...}}`` — for
``SCREENING`` ``{"year": Y, "run": id, "rules": {rule code: {figures}}}``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from fanpin.core.scoping import ScopedQuerySet


class LeadState(models.TextChoices):
    NEW = "NEW", "待核实"
    VERIFIED = "VERIFIED", "村级已核实"
    REVIEWED = "REVIEWED", "乡镇已审核"
    CONFIRMED = "CONFIRMED", "县级已确定"
    REJECTED = "REJECTED", "未纳入"


OPEN_LEAD_STATES = (LeadState.NEW, LeadState.VERIFIED, LeadState.REVIEWED)
FINAL_LEAD_STATES = (LeadState.CONFIRMED, LeadState.REJECTED)


class LeadSource(models.TextChoices):
    SCREENING = "SCREENING", "系统筛查"
    SELF_APPLICATION = "SELF_APPLICATION", "农户申报"
    VISIT = "VISIT", "走访排查"
    DEPARTMENT_ALERT = "DEPARTMENT_ALERT", "部门预警"
    # a household's appeal (申诉) against a 未纳入 decision: a new lead the county decides
    APPEAL = "APPEAL", "申诉"


class RejectionCategory(models.TextChoices):
    """未纳入原因类别: what the household is told (the written reason stays with the staff)."""

    INCOME_ABOVE_LINE = "INCOME_ABOVE_LINE", "家庭收入高于监测标准"
    NO_RISK = "NO_RISK", "经核实无返贫致贫风险"
    DATA_CHECK = "DATA_CHECK", "信息比对发现不符合条件"
    NO_CONSENT = "NO_CONSENT", "未签署承诺授权"
    APPRAISAL = "APPRAISAL", "民主评议未通过"
    DUPLICATE = "DUPLICATE", "重复申报"
    OTHER = "OTHER", "其他原因"


class TargetCategory(models.TextChoices):
    """监测对象类别 (also a lead's suggested category)."""

    UNSTABLE_EXITED = "UNSTABLE_EXITED", "脱贫不稳定户"
    EDGE_AT_RISK = "EDGE_AT_RISK", "边缘易致贫户"
    SUDDEN_HARDSHIP = "SUDDEN_HARDSHIP", "突发严重困难户"


class RiskType(models.TextChoices):
    """风险类型, in the SPEC's order (suggestions are capped at 5 in this order)."""

    ILLNESS = "ILLNESS", "因病"
    DISABILITY = "DISABILITY", "因残"
    EDUCATION = "EDUCATION", "因学"
    DISASTER = "DISASTER", "因灾"
    ACCIDENT = "ACCIDENT", "因意外事故"
    EPIDEMIC = "EPIDEMIC", "因疫"
    INDUSTRY_FAILURE = "INDUSTRY_FAILURE", "因产业项目失败"
    UNSTABLE_EMPLOYMENT = "UNSTABLE_EMPLOYMENT", "因务工就业不稳"
    LACK_OF_LABOR = "LACK_OF_LABOR", "缺劳动力"
    HOUSING = "HOUSING", "住房安全"
    DRINKING_WATER = "DRINKING_WATER", "饮水安全"
    OTHER = "OTHER", "其他"


MAX_RISK_TYPES = 5
MIN_PUBLICITY_DAYS = 5  # 公示 at least 5 days, counted inclusively (start … end)


class AppraisalOutcome(models.TextChoices):
    """民主评议结果."""

    NONE = "", "—"
    AGREED = "AGREED", "同意纳入"
    DISAGREED = "DISAGREED", "不同意纳入"


class LeadQuerySet(ScopedQuerySet["Lead"]):
    # the lead's own copy of its household's village: a province's queue counts its leads without
    # reading every household (docs/decisions/2026-12-04-village-code-on-leads.md)
    region_path = "village__code"

    def open(self) -> LeadQuerySet:
        return self.filter(state__in=OPEN_LEAD_STATES)


class Lead(models.Model):
    State = LeadState
    Source = LeadSource
    Category = TargetCategory

    household = models.ForeignKey(
        "monitoring.Household",
        verbose_name="农户",
        on_delete=models.CASCADE,
        related_name="leads",
        db_index=False,  # lead_household_state (household, state) serves every household lookup
    )
    # Always the household's village (every writer copies it; a household moved by an import takes
    # its leads along in the same transaction: monitoring.services.lead_village).
    village = models.ForeignKey(
        "monitoring.Region",
        verbose_name="村",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # lead_village_state
        editable=False,
    )
    state = models.CharField("状态", max_length=12, choices=LeadState.choices, default=LeadState.NEW)
    sources = models.JSONField("线索来源", default=list)
    rules_fired = models.JSONField("触发规则", default=list, blank=True)
    evidence = models.JSONField("依据", default=dict, blank=True)
    suggested_category = models.CharField(
        "建议类别", max_length=20, choices=TargetCategory.choices, blank=True, default=""
    )
    suggested_risk_types = models.JSONField("建议风险类型", default=list, blank=True)
    year = models.PositiveSmallIntegerField("年度")
    raised_at = models.DateTimeField("发现时间")
    refreshed_at = models.DateTimeField("依据更新时间", null=True, blank=True)
    last_run = models.ForeignKey(
        "monitoring.ScreeningRun",
        verbose_name="最近筛查批次",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # never queried by run; one index fewer on every screening insert
    )
    # What screening last wrote into this lead — its rules, evidence, category and risk types — as
    # an md5 of the texts the evaluation builds; a run that finds the same digest writes nothing.
    screening_digest = models.CharField("筛查依据摘要", max_length=32, blank=True, db_default="", editable=False)
    decided_at = models.DateTimeField("决定时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="决定人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    rejection_reason = models.TextField("未纳入原因", blank=True)
    # db_default: screening inserts leads with set-based SQL that names only its own columns.
    rejection_category = models.CharField(
        "未纳入原因类别", max_length=20, choices=RejectionCategory.choices, blank=True, db_default=""
    )
    # 申诉: the rejected lead this lead appeals against (the household's appeal, or a cadre's for it).
    appeal_of = models.ForeignKey(
        "self",
        verbose_name="申诉的原线索",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="appeals",
        db_index=False,  # ``lead_appeal_of``: only the few leads that are appeals are indexed
    )

    # 村级核实 (SPEC §5): home check, consent, democratic appraisal, public posting.
    verified_at = models.DateTimeField("核实时间", null=True, blank=True)
    home_checked_on = models.DateField("入户核实日期", null=True, blank=True)
    consent_signed = models.BooleanField("农户承诺授权", null=True, blank=True)
    # db_default: screening inserts leads with set-based SQL that names only its own columns.
    consent_scan = models.FileField("承诺授权书扫描件", upload_to="consent/%Y/%m/", blank=True, db_default="")
    appraisal_on = models.DateField("民主评议日期", null=True, blank=True)
    appraisal_outcome = models.CharField(
        "民主评议结果", max_length=10, choices=AppraisalOutcome.choices, blank=True, db_default=""
    )
    publicity_start = models.DateField("公示开始日期", null=True, blank=True)
    publicity_end = models.DateField("公示结束日期", null=True, blank=True)
    # 办理时限 (SPEC §5.6): the day the village 受理 the lead (its first step) and the township's
    # review time; both null on leads written before they were recorded.
    accepted_on = models.DateField("受理日期", null=True, blank=True)
    reviewed_at = models.DateTimeField("乡镇审核时间", null=True, blank=True)

    objects = LeadQuerySet.as_manager()

    class Meta:
        verbose_name = "预警线索"
        verbose_name_plural = "预警线索"
        ordering = ["-raised_at", "-id"]
        indexes = [
            models.Index(fields=["household", "state"], name="lead_household_state"),
            models.Index(fields=["village", "state"], name="lead_village_state"),
            models.Index(fields=["state", "-raised_at"], name="lead_state_raised"),
            # The queue's default order (oldest first) over all states: page 1 walks this index and
            # probes each lead's household for the region, instead of sorting the region's leads.
            models.Index(fields=["raised_at", "id"], name="lead_raised"),
            # A lead's appeals (``Lead.appeals``, the 申诉 status, SET_NULL when a lead is deleted).
            # Partial: a screening run writes thousands of leads that appeal nothing, and an index of
            # every row's NULL would be written for each of them.
            models.Index(fields=["appeal_of"], condition=Q(appeal_of__isnull=False), name="lead_appeal_of"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(state__in=["NEW", "VERIFIED", "REVIEWED"]),
                name="lead_one_open_per_household",
            ),
            models.CheckConstraint(condition=Q(state__in=LeadState.values), name="lead_state_valid"),
            models.CheckConstraint(
                condition=Q(suggested_category="") | Q(suggested_category__in=TargetCategory.values),
                name="lead_suggested_category_valid",
            ),
            models.CheckConstraint(condition=Q(year__gte=2000, year__lte=2100), name="lead_year_range"),
            # A decision (confirmed or rejected) has a time; an open lead has none.
            models.CheckConstraint(
                condition=Q(state__in=["CONFIRMED", "REJECTED"], decided_at__isnull=False)
                | Q(state__in=["NEW", "VERIFIED", "REVIEWED"], decided_at__isnull=True),
                name="lead_decided_at_iff_final",
            ),
            models.CheckConstraint(
                condition=~Q(state="REJECTED") | ~Q(rejection_reason=""),
                name="lead_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(rejection_category="") | Q(rejection_category__in=RejectionCategory.values),
                name="lead_rejection_category_valid",
            ),
            # One appeal per rejected lead at a time: a second one waits until the first is decided.
            models.UniqueConstraint(
                fields=["appeal_of"],
                condition=Q(appeal_of__isnull=False, state__in=["NEW", "VERIFIED", "REVIEWED"]),
                name="lead_one_open_appeal_per_lead",
            ),
            models.CheckConstraint(condition=~Q(appeal_of=models.F("id")), name="lead_appeal_not_itself"),
            models.CheckConstraint(
                condition=Q(appraisal_outcome__in=AppraisalOutcome.values), name="lead_appraisal_outcome_valid"
            ),
            # A lead at the township or county step went through village verification.
            models.CheckConstraint(
                condition=~Q(state__in=["VERIFIED", "REVIEWED"]) | Q(verified_at__isnull=False),
                name="lead_verified_has_time",
            ),
            models.CheckConstraint(
                condition=Q(publicity_start__isnull=True, publicity_end__isnull=True)
                | Q(publicity_start__isnull=False, publicity_end__gte=models.F("publicity_start")),
                name="lead_publicity_period_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.year} {self.get_state_display()}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_LEAD_STATES
