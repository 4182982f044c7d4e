"""绿色通道补办 (green channel follow-up, SPEC §5.6): what a 县级直接确定 still owes.

The county may confirm a lead directly (先帮扶后认定); the steps the village had not recorded on the
lead — 入户核实 (with the household's 承诺授权), 民主评议, 村内公示 — are owed afterwards, by the
province's ``FOLLOW_UP`` time limit counted from the confirmation day (``opened_on``). One row per
directly confirmed target that owed anything; each owed step is recorded here with its data, and the
row is ``DONE`` when every owed step is. The due date is computed, not stored (the calendar and the
province's limit may change after the row was opened): ``monitoring.selectors.followups``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q

from fanpin.core.scoping import ScopedQuerySet
from monitoring.models.leads import AppraisalOutcome


class FollowUpState(models.TextChoices):
    OPEN = "OPEN", "待补办"
    DONE = "DONE", "已补办"


class FollowUpStep(models.TextChoices):
    """The steps a direct confirmation may owe, in the order the village does them."""

    HOME_CHECK = "HOME_CHECK", "入户核实"
    APPRAISAL = "APPRAISAL", "民主评议"
    PUBLICITY = "PUBLICITY", "公示"


class FollowUpQuerySet(ScopedQuerySet["FollowUp"]):
    region_path = "target__household__village__code"

    def open(self) -> FollowUpQuerySet:
        return self.filter(state=FollowUpState.OPEN)


class FollowUp(models.Model):
    State = FollowUpState
    Step = FollowUpStep

    target = models.OneToOneField(
        "monitoring.MonitoringTarget", verbose_name="监测对象", on_delete=models.CASCADE, related_name="follow_up"
    )
    lead = models.ForeignKey(
        "monitoring.Lead",
        verbose_name="来源线索",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    opened_on = models.DateField("开启日期（县级直接确定之日）")
    opened_at = models.DateTimeField("开启时间")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="确定人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    state = models.CharField("状态", max_length=8, choices=FollowUpState.choices, default=FollowUpState.OPEN)
    completed_at = models.DateTimeField("补办完成时间", null=True, blank=True)

    # What the lead lacked at the direct confirmation.
    owes_home_check = models.BooleanField("须补入户核实", default=False)
    owes_appraisal = models.BooleanField("须补民主评议", default=False)
    owes_publicity = models.BooleanField("须补公示", default=False)

    # 入户核实: date, who, the 两不愁三保障 checklist ({field: secured}), the household's consent.
    home_checked_on = models.DateField("入户核实日期", null=True, blank=True)
    home_checked_by = models.CharField("核实人", max_length=100, blank=True, default="")
    home_checklist = models.JSONField("两不愁三保障核实", default=dict, blank=True)
    consent_signed = models.BooleanField("农户承诺授权", null=True, blank=True)
    home_check_recorded_at = models.DateTimeField("入户核实登记时间", null=True, blank=True)
    home_check_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="入户核实登记人", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    # 民主评议: date and outcome.
    appraisal_on = models.DateField("民主评议日期", null=True, blank=True)
    appraisal_outcome = models.CharField(
        "民主评议结果", max_length=10, choices=AppraisalOutcome.choices, blank=True, default=""
    )
    appraisal_recorded_at = models.DateTimeField("民主评议登记时间", null=True, blank=True)
    appraisal_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="民主评议登记人", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    # 公示: the period (≥ 5 days counted inclusively).
    publicity_start = models.DateField("公示开始日期", null=True, blank=True)
    publicity_end = models.DateField("公示结束日期", null=True, blank=True)
    publicity_recorded_at = models.DateTimeField("公示登记时间", null=True, blank=True)
    publicity_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="公示登记人", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip

    # A 不同意 appraisal (or a household refusing consent) ends the follow-up and asks the county to
    # look at the target again (decision record 2026-12-04-green-channel-follow-up).
    county_review = models.BooleanField("需县级复核", default=False)
    county_review_reason = models.CharField("复核原因", max_length=200, blank=True, default="")
    # The county's answer (县级复核): it keeps the identification with a written opinion; the target
    # then counts as identified (公告, the elimination criterion) from that day.
    county_reviewed_at = models.DateTimeField("县级复核时间", null=True, blank=True)
    county_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="县级复核人", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    county_review_note = models.CharField("县级复核意见", max_length=500, blank=True, default="")

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        verbose_name = "绿色通道补办"
        verbose_name_plural = "绿色通道补办"
        ordering = ["opened_on", "id"]
        indexes = [models.Index(fields=["state", "opened_on"], name="follow_up_state_opened")]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=FollowUpState.values), name="follow_up_state_valid"),
            models.CheckConstraint(
                condition=Q(appraisal_outcome__in=AppraisalOutcome.values), name="follow_up_appraisal_outcome_valid"
            ),
            # opened only when the direct confirmation skipped something
            models.CheckConstraint(
                condition=Q(owes_home_check=True) | Q(owes_appraisal=True) | Q(owes_publicity=True),
                name="follow_up_owes_a_step",
            ),
            models.CheckConstraint(
                condition=Q(state="OPEN", completed_at__isnull=True) | Q(state="DONE", completed_at__isnull=False),
                name="follow_up_completed_iff_done",
            ),
            models.CheckConstraint(
                condition=Q(publicity_start__isnull=True, publicity_end__isnull=True)
                | Q(publicity_start__isnull=False, publicity_end__gte=models.F("publicity_start")),
                name="follow_up_publicity_period_valid",
            ),
            models.CheckConstraint(
                condition=Q(home_check_recorded_at__isnull=True) | Q(home_checked_on__isnull=False),
                name="follow_up_home_check_has_date",
            ),
            models.CheckConstraint(
                condition=Q(appraisal_recorded_at__isnull=True)
                | Q(appraisal_on__isnull=False) & ~Q(appraisal_outcome=""),
                name="follow_up_appraisal_has_outcome",
            ),
            models.CheckConstraint(
                condition=Q(publicity_recorded_at__isnull=True) | Q(publicity_start__isnull=False),
                name="follow_up_publicity_has_period",
            ),
            # the county answers only a follow-up sent back to it, and always in writing
            models.CheckConstraint(
                condition=Q(county_reviewed_at__isnull=True)
                | Q(county_review=True, state="DONE") & ~Q(county_review_note=""),
                name="follow_up_county_reviewed_when_asked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target_id} {self.get_state_display()}"

    @property
    def owed_steps(self) -> list[str]:
        """The owed steps' codes, in order."""
        owes = (
            (FollowUpStep.HOME_CHECK, self.owes_home_check),
            (FollowUpStep.APPRAISAL, self.owes_appraisal),
            (FollowUpStep.PUBLICITY, self.owes_publicity),
        )
        return [str(step) for step, owed in owes if owed]

    def step_recorded(self, step: str) -> bool:
        return {
            FollowUpStep.HOME_CHECK: self.home_check_recorded_at,
            FollowUpStep.APPRAISAL: self.appraisal_recorded_at,
            FollowUpStep.PUBLICITY: self.publicity_recorded_at,
        }[FollowUpStep(step)] is not None

    @property
    def steps_done_on(self) -> dt.date | None:
        """The day the owed steps were done, by their own dates (the 公示 by its end), not the day
        they were entered: the latest of the recorded ones (``None`` when none is recorded)."""
        days = {
            FollowUpStep.HOME_CHECK: self.home_checked_on,
            FollowUpStep.APPRAISAL: self.appraisal_on,
            FollowUpStep.PUBLICITY: self.publicity_end,
        }
        recorded = [days[FollowUpStep(s)] for s in self.owed_steps if self.step_recorded(s)]
        found = [d for d in recorded if d is not None]
        return max(found) if found else None

    @property
    def county_review_waiting(self) -> bool:
        """Sent back to the county (a 不同意 appraisal) and not answered yet."""
        return self.county_review and self.county_reviewed_at is None

    @property
    def steps_outstanding(self) -> list[str]:
        """Owed steps not yet recorded (none once the follow-up is done)."""
        if self.state == FollowUpState.DONE:
            return []
        return [s for s in self.owed_steps if not self.step_recorded(s)]
