"""Household changes reviewed by the county (SPEC §2.1): 分户, 合户, a member moving to
another household, a change of 户类型, a death or removal.

A member import (or, later, a cadre's form) never writes such a change itself: it proposes a
``HouseholdChange`` that waits (``PENDING``) until the county accepts it (applied then, in one
transaction) or rejects it with a reason.  ``before`` and ``after`` keep the values side by side
as they were when proposed; the service checks ``before`` against the registry when it applies.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from fanpin.core.scoping import ScopedQuerySet


class ChangeKind(models.TextChoices):
    SPLIT = "SPLIT", "分户"
    MERGE = "MERGE", "合户"
    MOVE = "MOVE", "成员迁移"
    TYPE = "TYPE", "户类型变更"
    REMOVAL = "REMOVAL", "死亡或注销"


# The kinds that move one member into another household (applied alike: household and 与户主关系).
MOVE_KINDS = (ChangeKind.SPLIT.value, ChangeKind.MERGE.value, ChangeKind.MOVE.value)


class ChangeState(models.TextChoices):
    PENDING = "PENDING", "待审核"
    ACCEPTED = "ACCEPTED", "已同意"
    REJECTED = "REJECTED", "已驳回"


class ChangeSource(models.TextChoices):
    IMPORT = "IMPORT", "数据导入"
    FORM = "FORM", "村干部填报"


class HouseholdChangeQuerySet(ScopedQuerySet["HouseholdChange"]):
    # the village of the household the change starts from (a move's origin)
    region_path = "region_code"

    def pending(self) -> HouseholdChangeQuerySet:
        return self.filter(state=ChangeState.PENDING)  # type: ignore[return-value]


class HouseholdChange(models.Model):
    Kind = ChangeKind
    State = ChangeState
    Source = ChangeSource

    kind = models.CharField("变更类型", max_length=8, choices=ChangeKind.choices)
    state = models.CharField("状态", max_length=8, choices=ChangeState.choices, default=ChangeState.PENDING)
    household = models.ForeignKey(
        "monitoring.Household", verbose_name="农户", on_delete=models.CASCADE, related_name="changes"
    )
    # a move's destination (分户, 合户, 成员迁移); empty for the other kinds
    target_household = models.ForeignKey(
        "monitoring.Household",
        verbose_name="迁入农户",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="incoming_changes",
    )
    # SET_NULL: a member is deleted only with their household (an accepted death or removal keeps
    # the member, 死亡/注销, since 2026-12-04; changes accepted before that lost theirs)
    member = models.ForeignKey(
        "monitoring.Member",
        verbose_name="家庭成员",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="changes",
    )
    region_code = models.CharField("区划代码", max_length=12, db_index=True)
    before = models.JSONField("变更前", default=dict)
    after = models.JSONField("变更后", default=dict)
    source = models.CharField("来源", max_length=8, choices=ChangeSource.choices)
    import_job = models.ForeignKey(
        "monitoring.ImportJob",
        verbose_name="来源导入",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="提出人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    proposed_at = models.DateTimeField("提出时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decision_reason = models.CharField("审核意见", max_length=500, blank=True)

    objects = HouseholdChangeQuerySet.as_manager()

    class Meta:
        verbose_name = "农户变更"
        verbose_name_plural = "农户变更"
        ordering = ["-proposed_at", "-id"]
        indexes = [models.Index(fields=["state", "region_code"], name="household_change_state_region")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ChangeKind.values), name="household_change_kind_valid"),
            models.CheckConstraint(condition=Q(state__in=ChangeState.values), name="household_change_state_valid"),
            models.CheckConstraint(condition=Q(source__in=ChangeSource.values), name="household_change_source_valid"),
            models.CheckConstraint(
                condition=Q(region_code__regex=r"^[0-9]{12}$"), name="household_change_region_code_format"
            ),
            # a move names its destination (another household); a death or removal none; a pending
            # move or removal its member (removals accepted before 2026-12-04 deleted theirs); 户类型 no member
            models.CheckConstraint(
                condition=~Q(kind__in=MOVE_KINDS)
                | Q(target_household__isnull=False) & ~Q(target_household=models.F("household")),
                name="household_change_move_has_destination",
            ),
            models.CheckConstraint(
                condition=~Q(kind=ChangeKind.REMOVAL) | Q(target_household__isnull=True),
                name="household_change_removal_no_destination",
            ),
            models.CheckConstraint(
                condition=~Q(state=ChangeState.PENDING, kind__in=[*MOVE_KINDS, ChangeKind.REMOVAL.value])
                | Q(member__isnull=False),
                name="household_change_pending_member_change_has_member",
            ),
            models.CheckConstraint(
                condition=~Q(kind=ChangeKind.TYPE) | Q(member__isnull=True, target_household__isnull=True),
                name="household_change_type_has_no_member",
            ),
            # decided ⇔ not pending; a rejection carries its reason
            models.CheckConstraint(
                condition=Q(state=ChangeState.PENDING, decided_at__isnull=True)
                | ~Q(state=ChangeState.PENDING) & Q(decided_at__isnull=False),
                name="household_change_decided_iff_not_pending",
            ),
            models.CheckConstraint(
                condition=~Q(state=ChangeState.REJECTED) | ~Q(decision_reason=""),
                name="household_change_rejection_has_reason",
            ),
            # one pending change of each sort per member (any move counts as one sort) and per household
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(state=ChangeState.PENDING, kind__in=MOVE_KINDS),
                name="household_change_one_pending_move_per_member",
            ),
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(state=ChangeState.PENDING, kind=ChangeKind.REMOVAL),
                name="household_change_one_pending_removal_per_member",
            ),
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(state=ChangeState.PENDING, kind=ChangeKind.TYPE),
                name="household_change_one_pending_type_per_household",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.household_id}"
