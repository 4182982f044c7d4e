"""Forms of the screening pages (run, rule parameters, monitoring line with what-if preview)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import format_lazy

from fanpin.core.terms import term_lazy
from monitoring.models import Region, ScreeningParameters
from monitoring.models.screening_rules import RATIO, rule_parameters
from monitoring.services.parameters import (
    MEDICAL_FIELDS,
    SCALE_FIELDS,
    parameter_fields,
    parameter_get,
    parameters_validate,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _default_year() -> int:
    return timezone.localdate().year - 1


class ScreeningRunForm(forms.Form):
    region = forms.ChoiceField(label="筛查范围")
    year = forms.IntegerField(label="评估年度", min_value=2000, max_value=2100, initial=_default_year)

    def __init__(self, *args: Any, regions: list[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region_field: Any = self.fields["region"]
        region_field.choices = [(r.code, f"{r.name}（{r.get_level_display()}）") for r in regions]
        if len(regions) == 1:
            self.fields["region"].initial = regions[0].code


def _ratio(label: str, help_text: StrOrPromise = "") -> forms.DecimalField:
    return forms.DecimalField(label=label, max_digits=6, decimal_places=4, help_text=help_text)


def _yuan(label: StrOrPromise, help_text: StrOrPromise) -> forms.DecimalField:
    """An amount in 元: bounds and decimals are checked by ``parameters_validate`` (messages name the field)."""
    return forms.DecimalField(
        label=label,
        help_text=help_text,
        error_messages={
            "required": format_lazy("请填写{}。", label),
            "invalid": format_lazy("{}必须是数字（单位：元）。", label),
        },
    )


class ScreeningParametersForm(forms.Form):
    """The parameters (a plain form: the service validates with per-field Chinese messages).  The
    screening rules' parameters come from their declarations (``monitoring.models.screening_rules``)."""

    scale_cap_normal = _ratio(
        "监测规模上限（一般地区）", format_lazy("{} ÷ 建档立卡人口，默认 0.05", term_lazy("target"))
    )
    scale_cap_deep = _ratio("监测规模上限（深度贫困地区）", "默认 0.10")
    scale_floor = _ratio("监测规模下限", "默认 0.01")
    medical_alert_supported = _yuan(
        format_lazy("大额医疗支出预警线（脱贫户、{}）", term_lazy("target")),
        format_lazy(
            "医保结算数据中脱贫户成员、{}的年度个人自付医疗费用 ≥ 此金额（元）时生成预警（默认 5000）",
            term_lazy("target"),
        ),
    )
    medical_alert_general = _yuan(
        "大额医疗支出预警线（其他人员）", "其他人员（含未匹配到的人）≥ 此金额（元）时生成预警（默认 20000）"
    )
    reason = forms.CharField(label="修改依据", max_length=300, required=False, help_text="如文件名、文号或会议纪要")

    def __init__(self, *args: Any, instance: ScreeningParameters, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {name: parameter_get(instance, name) for name in parameter_fields()})
        super().__init__(*args, **kwargs)
        rule_fields = {
            p.name: (_ratio if p.unit == RATIO else _yuan)(p.label, f"{p.help_text}（默认 {p.default}）")
            for p in rule_parameters()
        }
        self.fields = {**rule_fields, **self.fields}

    def ratio_fields(self) -> list[forms.BoundField]:
        """The first row of the page: every rule parameter, then the scale bounds."""
        return [self[p.name] for p in rule_parameters()] + [self[name] for name in SCALE_FIELDS]

    def medical_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in MEDICAL_FIELDS]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        names = parameter_fields()
        values = {name: data[name] for name in names if data.get(name) is not None}
        if len(values) == len(names):
            try:
                parameters_validate(values)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        self.add_error(field, error)
        return data


class MonitoringLineForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100, initial=_default_year)
    province = forms.ChoiceField(label="适用范围", required=False)
    line = forms.DecimalField(label="监测标准（元/人·年）", max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    source = forms.CharField(label="依据", max_length=300, required=False)

    def __init__(self, *args: Any, provinces: list[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        province_field: Any = self.fields["province"]
        province_field.choices = [("", "全国")] + [(p.code, p.name) for p in provinces]
