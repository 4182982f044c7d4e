"""风险消除: village proposal → township review → county confirmation (SPEC §5)."""

from __future__ import annotations

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
        ]

    def __str__(self) -> str:
        return f"{self.target_id} {self.get_method_display()} {self.get_state_display()}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_PROPOSAL_STATES
