"""家庭收支核算 at 入户核实: the 12 months before the application or lead date.

The village records the four income types, the household size and the out-of-pocket rigid
expenditures of the window (taken from the ledger, changed only with a reason); fanpin judges them
with the screening rules' own declarations (``monitoring.selectors.accounting``) against the line
of the window's end year and keeps the judgement on the row.  The county sees it beside the
screening evidence; when the lead is confirmed the row is kept with the target (``target``).

``IncomeAccountingSetting``: per province, whether out-of-pocket rigid spending is deducted from
income when judging (the 民政 支出型困难 method); no row means off.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Substr
from django.db.models.lookups import Exact

from fanpin.core.scoping import ScopedQuerySet
from monitoring.models.households import MONEY, ExpenditureCategory


class WindowBasis(models.TextChoices):
    """What the 12-month window ends on."""

    APPLICATION = "APPLICATION", "农户申报日期"
    LEAD = "LEAD", "线索发现日期"


class IncomeAccountingQuerySet(ScopedQuerySet["IncomeAccounting"]):
    region_path = "lead__village__code"


class IncomeAccounting(models.Model):
    """家庭收支核算 of one lead: the window's figures and fanpin's judgement of them."""

    Basis = WindowBasis

    lead = models.OneToOneField(
        "monitoring.Lead", verbose_name="线索", on_delete=models.CASCADE, related_name="income_accounting"
    )
    # Set when the lead is confirmed: the judgement the county decided on stays with the target.
    target = models.OneToOneField(
        "monitoring.MonitoringTarget",
        verbose_name="确定后的对象",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="income_accounting",
    )
    window_basis = models.CharField("核算期截止依据", max_length=12, choices=WindowBasis.choices)
    window_start = models.DateField("核算期起")
    window_end = models.DateField("核算期止")
    family_size = models.PositiveSmallIntegerField("家庭人口数")
    wage_income = models.DecimalField("工资性收入", **MONEY)
    business_income = models.DecimalField("生产经营净收入", **MONEY)
    property_income = models.DecimalField("财产净收入", **MONEY)
    transfer_income = models.DecimalField("转移净收入", **MONEY)

    # The judgement (kept as it was made: a line set later does not rewrite what the county saw).
    line_year = models.PositiveSmallIntegerField("监测标准年度")
    line = models.DecimalField("监测标准（元）", null=True, blank=True, **MONEY)
    deduct_out_of_pocket = models.BooleanField("扣减自付刚性支出", default=False)
    rule_values = models.JSONField("规则参数", default=dict, blank=True)
    rules_fired = models.JSONField("触发规则", default=list, blank=True)
    rules_missing = models.JSONField("无法判断的规则", default=list, blank=True)
    judged_at = models.DateTimeField("判断时间")

    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="录入人", on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField("录入时间", auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="修改人", on_delete=models.PROTECT, null=True, related_name="+"
    )
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    objects = IncomeAccountingQuerySet.as_manager()

    class Meta:
        verbose_name = "家庭收支核算"
        verbose_name_plural = "家庭收支核算"
        constraints = [
            models.CheckConstraint(condition=Q(window_basis__in=WindowBasis.values), name="accounting_basis_valid"),
            models.CheckConstraint(
                condition=Q(window_end__gte=models.F("window_start")), name="accounting_window_ordered"
            ),
            models.CheckConstraint(condition=Q(family_size__gte=1), name="accounting_family_size_positive"),
            models.CheckConstraint(condition=Q(wage_income__gte=0), name="accounting_wage_non_negative"),
            models.CheckConstraint(condition=Q(transfer_income__gte=0), name="accounting_transfer_non_negative"),
            models.CheckConstraint(
                condition=Q(line_year__gte=2000, line_year__lte=2100), name="accounting_line_year_range"
            ),
            models.CheckConstraint(condition=Q(line__isnull=True) | Q(line__gt=0), name="accounting_line_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.window_start}–{self.window_end}"

    @property
    def total_income(self) -> Decimal:
        return self.wage_income + self.business_income + self.property_income + self.transfer_income


class IncomeAccountingExpenditureQuerySet(ScopedQuerySet["IncomeAccountingExpenditure"]):
    region_path = "accounting__lead__village__code"


class IncomeAccountingExpenditure(models.Model):
    """The window's out-of-pocket rigid expenditure of one category: the ledger's figure when it was
    taken, and the figure recorded (different only with a reason, in the audit row)."""

    Category = ExpenditureCategory

    accounting = models.ForeignKey(
        IncomeAccounting, verbose_name="家庭收支核算", on_delete=models.CASCADE, related_name="expenditures"
    )
    category = models.CharField("支出类别", max_length=12, choices=ExpenditureCategory.choices)
    ledger_amount = models.DecimalField("台账自付金额", **MONEY)
    amount = models.DecimalField("核算自付金额", **MONEY)

    objects = IncomeAccountingExpenditureQuerySet.as_manager()

    class Meta:
        verbose_name = "核算期刚性支出"
        verbose_name_plural = "核算期刚性支出"
        ordering = ["accounting_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["accounting", "category"], name="accounting_expenditure_one_per_category"),
            models.CheckConstraint(
                condition=Q(category__in=ExpenditureCategory.values), name="accounting_expenditure_category_valid"
            ),
            models.CheckConstraint(
                condition=Q(ledger_amount__gte=0), name="accounting_expenditure_ledger_non_negative"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="accounting_expenditure_amount_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.accounting_id} {self.get_category_display()}"


class IncomeAccountingSettingQuerySet(ScopedQuerySet["IncomeAccountingSetting"]):
    region_path = "province__code"


class IncomeAccountingSetting(models.Model):
    """A province's choice for the 12-month judgement; changed only through
    ``monitoring.services.accounting.accounting_deduction_set`` (audited)."""

    province = models.OneToOneField(
        "monitoring.Region", verbose_name="省", on_delete=models.PROTECT, primary_key=True, related_name="+"
    )
    deduct_out_of_pocket = models.BooleanField(
        "判断时从收入中扣减自付刚性支出",
        default=False,
        help_text="民政支出型困难家庭的认定方法：核算期家庭收入减去自付刚性支出后，再按人均与监测标准比较。",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="修改人", on_delete=models.PROTECT, null=True, related_name="+"
    )
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    objects = IncomeAccountingSettingQuerySet.as_manager()

    class Meta:
        verbose_name = "收支核算省级设置"
        verbose_name_plural = "收支核算省级设置"
        constraints = [
            # a province's code: two digits and ten zeros (the key is a region, of any level)
            models.CheckConstraint(
                condition=Exact(Substr("province_id", 3), Value("0000000000")),
                name="accounting_setting_province_code",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.province_id} {'扣减' if self.deduct_out_of_pocket else '不扣减'}"
