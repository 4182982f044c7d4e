"""部门预警 (department alerts), minimal storage for the import (SPEC §6).

Matching, leads and the API: ``monitoring/services/alerts/``.  Scoping: ``region_code`` is the
village code of the matched member's household, or — for an unmatched alert — the region of the
user who imported it (empty for administrators/commands, visible to administrators only).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from fanpin.core.scoping import ScopedQuerySet


class AlertType(models.TextChoices):
    MEDICAL = "MEDICAL", "大额医疗支出"
    DISABILITY = "DISABILITY", "新增残疾"
    DISASTER = "DISASTER", "受灾"
    SUBSISTENCE = "SUBSISTENCE", "申请低保"
    TEMPORARY_RELIEF = "TEMPORARY_RELIEF", "申请临时救助"
    UNEMPLOYMENT = "UNEMPLOYMENT", "失业"
    DROPOUT = "DROPOUT", "辍学"
    HOUSING = "HOUSING", "住房安全"
    OTHER = "OTHER", "其他"


class AlertOrigin(models.TextChoices):
    """How an alert came in.  The system's alerts from 医保 settlement lines are kept apart from what
    departments submit (their own key and idempotency keys): a department's alert is answered the
    same whether or not the system made one for the same person and date, which would otherwise
    tell it that the person's line alerted, i.e. belongs to a 脱贫户 or a monitoring target."""

    DEPARTMENT = "DEPARTMENT", "部门报送"
    MEDICAL_EXTRACT = "MEDICAL_EXTRACT", "医保结算生成"


class AlertStatus(models.TextChoices):
    MATCHED = "MATCHED", "已匹配"
    UNMATCHED = "UNMATCHED", "未匹配"


class DepartmentAlertQuerySet(ScopedQuerySet["DepartmentAlert"]):
    region_path = "region_code"


class DepartmentAlert(models.Model):
    Type = AlertType
    Status = AlertStatus
    Origin = AlertOrigin

    id_number = models.CharField("身份证号", max_length=18)
    name = models.CharField("姓名", max_length=64)
    alert_type = models.CharField("预警类型", max_length=16, choices=AlertType.choices)
    alert_date = models.DateField("预警日期")
    amount = models.DecimalField("金额", max_digits=14, decimal_places=2, null=True, blank=True)
    department = models.CharField("来源部门", max_length=64)
    note = models.CharField("说明", max_length=200, blank=True)
    member = models.ForeignKey(
        "monitoring.Member",
        verbose_name="匹配成员",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
    )
    expenditure = models.ForeignKey(
        "monitoring.RigidExpenditure",
        verbose_name="记录的刚性支出",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField("匹配状态", max_length=12, choices=AlertStatus.choices)
    origin = models.CharField("产生方式", max_length=16, choices=AlertOrigin.choices, default=AlertOrigin.DEPARTMENT)
    region_code = models.CharField("区划代码", max_length=12, blank=True, db_index=True)
    # The submitting unit is 来源部门 + the submitter's region (empty: administrators and commands):
    # a 医保局 of one county is not that of another.  Keys live within a unit (SPEC §6).
    scope_code = models.CharField("报送单位区划", max_length=12, blank=True, default="")
    idempotency_key = models.CharField("幂等键", max_length=64, blank=True)
    submitted_by = models.ForeignKey(
        "fanpin.User", verbose_name="提交人", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("导入时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = DepartmentAlertQuerySet.as_manager()

    class Meta:
        verbose_name = "部门预警"
        verbose_name_plural = "部门预警"
        ordering = ["-alert_date", "id"]
        constraints = [
            # SPEC §6's key (来源部门+身份证号+预警类型+预警日期) within the submitting unit
            # (department + scope_code): one unit's keys never meet another's, so no answer depends
            # on another unit's alerts.  Once among submitted alerts and once among the ones the
            # system made (see AlertOrigin).
            models.UniqueConstraint(
                fields=["department", "scope_code", "id_number", "alert_type", "alert_date", "origin"],
                name="alert_unique_key",
            ),
            models.UniqueConstraint(
                fields=["department", "scope_code", "origin", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="alert_unique_idempotency_key",
            ),
            models.CheckConstraint(condition=Q(alert_type__in=AlertType.values), name="alert_type_valid"),
            models.CheckConstraint(condition=Q(origin__in=AlertOrigin.values), name="alert_origin_valid"),
            models.CheckConstraint(condition=Q(status__in=AlertStatus.values), name="alert_status_valid"),
            models.CheckConstraint(
                condition=Q(status=AlertStatus.MATCHED, member__isnull=False)
                | Q(status=AlertStatus.UNMATCHED, member__isnull=True),
                name="alert_status_matches_member",
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="alert_amount_non_negative"
            ),
            models.CheckConstraint(condition=Q(id_number__regex=r"^[0-9]{17}[0-9X]$"), name="alert_id_number_format"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.get_alert_type_display()} {self.alert_date}"


class MedicalSettlementQuerySet(ScopedQuerySet["MedicalSettlement"]):
    region_path = "region_code"


class MedicalSettlement(models.Model):
    """One line of a 医保 settlement extract: a person's out-of-pocket medical cost in a year.

    Stored as sent; only those at or above the threshold of the ScreeningParameters become
    大额医疗支出 alerts (``alert``), so the department need not judge risk itself."""

    id_number = models.CharField("身份证号", max_length=18)
    year = models.PositiveSmallIntegerField("年度")
    out_of_pocket = models.DecimalField("个人自付医疗费用", max_digits=14, decimal_places=2)
    department = models.CharField("来源部门", max_length=64)
    scope_code = models.CharField("报送单位区划", max_length=12, blank=True, default="")  # as DepartmentAlert's
    member = models.ForeignKey(
        "monitoring.Member", verbose_name="匹配成员", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    alert = models.ForeignKey(
        DepartmentAlert, verbose_name="生成的预警", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    region_code = models.CharField("区划代码", max_length=12, blank=True, db_index=True)
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = MedicalSettlementQuerySet.as_manager()

    class Meta:
        verbose_name = "医保结算数据"
        verbose_name_plural = "医保结算数据"
        constraints = [
            # a line per person and year within the submitting unit (as alerts: one unit's lines
            # never meet another's)
            models.UniqueConstraint(
                fields=["department", "scope_code", "id_number", "year"], name="medical_settlement_unique_key"
            ),
            models.CheckConstraint(condition=Q(out_of_pocket__gte=0), name="medical_settlement_amount_non_negative"),
            models.CheckConstraint(condition=Q(year__gte=2000, year__lte=2100), name="medical_settlement_year_range"),
            models.CheckConstraint(
                condition=Q(id_number__regex=r"^[0-9]{17}[0-9X]$"), name="medical_settlement_id_number_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.out_of_pocket}"


class ImportJobAlert(models.Model):
    """Which alerts an upload (ImportJob) submitted, row by row: the uploader's match-status list.

    Every confirmed alert or 医保 upload links each of its alerts — new, changed or resent unchanged —
    so a resent file shows the same list (with the current status) without writing the alerts again.
    """

    job = models.ForeignKey(
        "monitoring.ImportJob", verbose_name="导入", on_delete=models.CASCADE, related_name="alert_links"
    )
    alert = models.ForeignKey(DepartmentAlert, verbose_name="预警", on_delete=models.CASCADE, related_name="+")
    row = models.PositiveIntegerField("行号")

    class Meta:
        verbose_name = "导入的预警"
        verbose_name_plural = "导入的预警"
        ordering = ["job", "row"]
        constraints = [
            models.UniqueConstraint(fields=["job", "alert"], name="import_job_alert_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id} 第 {self.row} 行"
