"""A province's own rule parameters: the numbers of SPEC §4 a province sets for
itself, each falling back to the national value (``ScreeningParameters``, id 1) when not set.

One row per province at most, all values nullable: ``NULL`` (or a name absent from
``rule_values``) means 沿用全国默认值.  The columns mirror the national row's (the built-in rules'
ratios, the scale bounds, the 医保 alert thresholds); parameters of rules declared later are kept in
``rule_values`` (name → decimal text), as nationally.  Read only through
``monitoring.selectors.province_parameters`` (the one resolution of a province's values), changed
only through ``monitoring.services.province_parameters`` (audited, validated against the merged
values).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from fanpin.core.scoping import ScopedQuerySet
from monitoring.models.screening_rules import RATIO, rule_parameter

# The scale check's bounds (SPEC 4.4): active targets ÷ 建档立卡人口.
SCALE_FIELDS = ("scale_cap_normal", "scale_cap_deep", "scale_floor")
# 医保 settlement extracts: out-of-pocket cost (元) from which a line becomes a 大额医疗支出 alert —
# members of 脱贫户 and monitoring targets / everyone else.
MEDICAL_FIELDS = ("medical_alert_supported", "medical_alert_general")


def _own_rule_field(name: str) -> models.DecimalField:  # type: ignore[type-arg]
    p = rule_parameter(name)
    assert p.unit == RATIO  # the columns hold four decimals
    return models.DecimalField(p.label, null=True, blank=True, max_digits=6, decimal_places=4)


class ProvinceRuleParametersQuerySet(ScopedQuerySet["ProvinceRuleParameters"]):
    region_path = "province_code"
    personal_data = False


class ProvinceRuleParameters(models.Model):
    """规则参数（本省）: a province's own values; ``NULL`` = the national value."""

    province_code = models.CharField("省级区划代码", max_length=12, unique=True)
    spike_ratio = _own_rule_field("spike_ratio")
    drop_ratio = _own_rule_field("drop_ratio")
    drop_line_multiple = _own_rule_field("drop_line_multiple")
    rule_values = models.JSONField("其他规则参数", default=dict, blank=True)
    scale_cap_normal = models.DecimalField(
        "监测规模上限（一般地区）", null=True, blank=True, max_digits=6, decimal_places=4
    )
    scale_cap_deep = models.DecimalField(
        "监测规模上限（深度贫困地区）", null=True, blank=True, max_digits=6, decimal_places=4
    )
    scale_floor = models.DecimalField("监测规模下限", null=True, blank=True, max_digits=6, decimal_places=4)
    medical_alert_supported = models.DecimalField(
        "大额医疗支出预警线（脱贫户、监测对象）", null=True, blank=True, max_digits=12, decimal_places=2
    )
    medical_alert_general = models.DecimalField(
        "大额医疗支出预警线（其他人员）", null=True, blank=True, max_digits=12, decimal_places=2
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="修改人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    objects = ProvinceRuleParametersQuerySet.as_manager()

    class Meta:
        verbose_name = "省级筛查规则参数"
        verbose_name_plural = "省级筛查规则参数"
        ordering = ["province_code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(province_code__regex=r"^[0-9]{2}0{10}$"), name="province_parameters_province_code"
            ),
            models.CheckConstraint(
                condition=Q(spike_ratio__isnull=True) | Q(spike_ratio__gt=0),
                name="province_parameters_spike_ratio_positive",
            ),
            models.CheckConstraint(
                condition=Q(drop_ratio__isnull=True) | Q(drop_ratio__gt=0, drop_ratio__lt=1),
                name="province_parameters_drop_ratio_range",
            ),
            models.CheckConstraint(
                condition=Q(drop_line_multiple__isnull=True) | Q(drop_line_multiple__gt=0),
                name="province_parameters_drop_multiple_positive",
            ),
            models.CheckConstraint(
                condition=(Q(medical_alert_supported__isnull=True) | Q(medical_alert_supported__gt=0))
                & (Q(medical_alert_general__isnull=True) | Q(medical_alert_general__gt=0)),
                name="province_parameters_medical_alert_positive",
            ),
            # each bound on its own; their order is checked on the merged values (a bound not set
            # here is the national one) by the service
            models.CheckConstraint(
                condition=(Q(scale_floor__isnull=True) | Q(scale_floor__gte=0, scale_floor__lte=1))
                & (Q(scale_cap_normal__isnull=True) | Q(scale_cap_normal__gt=0, scale_cap_normal__lte=1))
                & (Q(scale_cap_deep__isnull=True) | Q(scale_cap_deep__gt=0, scale_cap_deep__lte=1)),
                name="province_parameters_scale_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.province_code} 筛查规则参数"


def has_column(name: str) -> bool:
    """Whether the parameter has a column of its own (else it is kept in ``rule_values``)."""
    return any(f.name == name for f in ProvinceRuleParameters._meta.concrete_fields)


def own_value(row: ProvinceRuleParameters | None, name: str) -> Decimal | None:
    """The province's own value of a parameter (a rule's, a scale bound, a 医保 threshold), or
    ``None`` when it inherits the national value."""
    if row is None:
        return None
    if has_column(name):
        value: Any = getattr(row, name)
        if value is None:
            return None
        # to the column's places, as PostgreSQL returns it (SQLite returns 0.5 for 0.5000), so a
        # run's summary and the evidence read the same on either database
        places = ProvinceRuleParameters._meta.get_field(name).decimal_places  # type: ignore[union-attr]
        return Decimal(value).quantize(Decimal(1).scaleb(-places))
    stored = (row.rule_values or {}).get(name)
    return None if stored is None else Decimal(str(stored))


def own_values(row: ProvinceRuleParameters | None, names: tuple[str, ...]) -> dict[str, Decimal]:
    """The parameters ``names`` the province sets itself (the others inherit)."""
    found = {name: own_value(row, name) for name in names}
    return {name: value for name, value in found.items() if value is not None}
