"""风险消除: village proposal → township review → county confirmation (SPEC §5, §5.6).

Since 2021 elimination follows identification's steps (SPEC §5.6): the village proposes with an
入户核实 (date, visitors, the 两不愁三保障 + 饮水 checklist, optionally a 12-month 家庭收支核算), records
the 民主评议 (不同意 ends the proposal) and the 村内公示 (≥ 5 days, inclusive); the township reviews
only after the 公示 has ended; the county decides.  The village's steps are fields of the proposal
(state ``PROPOSED``); proposals made before them have no home check and must record it first.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from fanpin.core.scoping import ScopedQuerySet


class ProposalState(models.TextChoices):
    PROPOSED = "PROPOSED", "村级已提议"
    REVIEWED = "REVIEWED", "乡镇已审核"
    CONFIRMED = "CONFIRMED", "县级已确认"
    REJECTED = "REJECTED", "未通过"


OPEN_PROPOSAL_STATES = (ProposalState.PROPOSED, ProposalState.REVIEWED)


class ProposalMethod(models.TextChoices):
    ASSISTED = "ASSISTED", "帮扶消除"
    NATURAL = "NATURAL", "自然消除"


class EliminationAppraisal(models.TextChoices):
    """民主评议结果 of a 风险消除 proposal."""

    NONE = "", "—"
    AGREED = "AGREED", "同意"
    DISAGREED = "DISAGREED", "不同意"


MIN_ELIMINATION_PUBLICITY_DAYS = 5  # 公示 at least 5 days, counted inclusively (start … end)


class EliminationProposalQuerySet(ScopedQuerySet["EliminationProposal"]):
    region_path = "target__household__village__code"

    def open(self) -> EliminationProposalQuerySet:
        return self.filter(state__in=OPEN_PROPOSAL_STATES)


class EliminationProposal(models.Model):
    State = ProposalState
    Method = ProposalMethod

    target = models.ForeignKey(
        "monitoring.MonitoringTarget",
        verbose_name="监测对象",
        on_delete=models.CASCADE,
        related_name="elimination_proposals",
    )
    state = models.CharField("状态", max_length=12, choices=ProposalState.choices, default=ProposalState.PROPOSED)
    method = models.CharField("消除方式", max_length=10, choices=ProposalMethod.choices)
    criteria = models.JSONField("提议时的消除条件", default=list, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="提议人", on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField("提议时间")
    opinion = models.TextField("提议意见", blank=True)
    decided_at = models.DateTimeField("决定时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="决定人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    rejection_reason = models.TextField("未通过原因", blank=True)
    # 入户核实 (recorded with the proposal; absent on proposals made before the steps existed)
    home_checked_on = models.DateField("入户核实日期", null=True, blank=True)
    home_visitors = models.CharField("核实人员", max_length=200, blank=True, default="")
    home_checklist = models.JSONField("两不愁三保障及饮水安全核实", default=dict, blank=True)
    home_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="核实录入人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # the optional 12-month 家庭收支核算 of the home check (the 12 months up to its date)
    accounting_family_size = models.PositiveSmallIntegerField("核算家庭人口数", null=True, blank=True)
    accounting_wage_income = models.DecimalField(
        "核算工资性收入", max_digits=14, decimal_places=2, null=True, blank=True
    )
    accounting_business_income = models.DecimalField(
        "核算生产经营净收入", max_digits=14, decimal_places=2, null=True, blank=True
    )
    accounting_property_income = models.DecimalField(
        "核算财产净收入", max_digits=14, decimal_places=2, null=True, blank=True
    )
    accounting_transfer_income = models.DecimalField(
        "核算转移净收入", max_digits=14, decimal_places=2, null=True, blank=True
    )
    # 民主评议
    appraisal_on = models.DateField("民主评议日期", null=True, blank=True)
    appraisal_outcome = models.CharField(
        "民主评议结果", max_length=10, choices=EliminationAppraisal.choices, blank=True, default=""
    )
    # 村内公示
    publicity_start = models.DateField("公示开始日期", null=True, blank=True)
    publicity_end = models.DateField("公示结束日期", null=True, blank=True)
    # 乡镇审核
    reviewed_at = models.DateTimeField("乡镇审核时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = EliminationProposalQuerySet.as_manager()

    class Meta:
        verbose_name = "风险消除申请"
        verbose_name_plural = "风险消除申请"
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["target"],
                condition=Q(state__in=["PROPOSED", "REVIEWED"]),
                name="elimination_one_open_per_target",
            ),
            models.CheckConstraint(condition=Q(state__in=ProposalState.values), name="elimination_state_valid"),
            models.CheckConstraint(condition=Q(method__in=ProposalMethod.values), name="elimination_method_valid"),
            models.CheckConstraint(
                condition=Q(state__in=["CONFIRMED", "REJECTED"], decided_at__isnull=False)
                | Q(state__in=["PROPOSED", "REVIEWED"], decided_at__isnull=True),
                name="elimination_decided_at_iff_final",
            ),
            models.CheckConstraint(
                condition=~Q(state="REJECTED") | ~Q(rejection_reason=""),
                name="elimination_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(appraisal_outcome__in=EliminationAppraisal.values),
                name="elimination_appraisal_outcome_valid",
            ),
            models.CheckConstraint(
                condition=Q(appraisal_on__isnull=True) | Q(home_checked_on__isnull=False),
                name="elimination_appraisal_after_home_check",
            ),
            models.CheckConstraint(
                condition=Q(appraisal_on__isnull=True, appraisal_outcome="")
                | Q(appraisal_on__isnull=False, appraisal_outcome__in=["AGREED", "DISAGREED"]),
                name="elimination_appraisal_date_iff_outcome",
            ),
            models.CheckConstraint(
                condition=Q(publicity_start__isnull=True, publicity_end__isnull=True)
                | Q(
                    publicity_start__isnull=False,
                    publicity_end__gte=models.F("publicity_start"),
                    appraisal_outcome="AGREED",
                    appraisal_on__lte=models.F("publicity_start"),
                ),
                name="elimination_publicity_after_agreed_appraisal",
            ),
            models.CheckConstraint(
                condition=Q(accounting_family_size__isnull=True) | Q(accounting_family_size__gte=1),
                name="elimination_accounting_family_size_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target_id} {self.get_method_display()} {self.get_state_display()}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_PROPOSAL_STATES

    @property
    def has_accounting(self) -> bool:
        return self.accounting_family_size is not None

    @property
    def accounting_income(self) -> Decimal | None:
        """The 核算 window's total income (the four types), or ``None`` without a 核算."""
        if not self.has_accounting:
            return None
        return sum(
            (
                getattr(self, name) or Decimal("0.00")
                for name in (
                    "accounting_wage_income",
                    "accounting_business_income",
                    "accounting_property_income",
                    "accounting_transfer_income",
                )
            ),
            Decimal("0.00"),
        )
