"""Changing the screening rule parameters (administrators; every change audited)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from fanpin.core.audit import audit_record
from fanpin.core.models import User
from monitoring.models import ScreeningParameters

NATIONAL = "000000000000"
RATIO_FIELDS = (
    "spike_ratio",
    "drop_ratio",
    "drop_line_multiple",
    "scale_cap_normal",
    "scale_cap_deep",
    "scale_floor",
)
# 医保 settlement extracts (monitoring.services.medical): out-of-pocket cost (元) from which a line
# becomes a 大额医疗支出 alert — members of 脱贫户 and monitoring targets / everyone else.
MEDICAL_FIELDS = ("medical_alert_supported", "medical_alert_general")
PARAMETER_FIELDS = RATIO_FIELDS + MEDICAL_FIELDS
MONEY_LIMIT = Decimal("10000000000")  # max_digits 12, decimal_places 2


def parameter_label(name: str) -> str:
    return str(ScreeningParameters._meta.get_field(name).verbose_name)  # type: ignore[union-attr]


def parameters_validate(values: dict[str, Decimal]) -> None:
    """The same rules as the table's check constraints, as Chinese messages per field."""
    errors: dict[str, str] = {}
    for name, value in values.items():
        if name in RATIO_FIELDS and value.as_tuple().exponent < -4:  # type: ignore[operator]
            errors[name] = "最多保留 4 位小数。"
    for name in MEDICAL_FIELDS:
        if name not in values:
            continue
        label = parameter_label(name)
        value = values[name]
        if not value.is_finite() or value <= 0:
            errors[name] = f"{label}必须大于 0 元。"
        elif value.as_tuple().exponent < -2:  # type: ignore[operator]
            errors[name] = f"{label}最多保留 2 位小数（精确到分）。"
        elif value >= MONEY_LIMIT:
            errors[name] = f"{label}数值过大。"
    if values["spike_ratio"] <= 0:
        errors["spike_ratio"] = "刚性支出骤增倍数必须大于 0。"
    if not 0 < values["drop_ratio"] < 1:
        errors["drop_ratio"] = "收入骤减比例必须在 0 和 1 之间（如 0.30 表示 30%）。"
    if values["drop_line_multiple"] <= 0:
        errors["drop_line_multiple"] = "倍数必须大于 0。"
    if not 0 <= values["scale_floor"] < values["scale_cap_normal"]:
        errors["scale_floor"] = "下限必须不小于 0 且小于一般地区上限。"
    if not values["scale_cap_normal"] <= values["scale_cap_deep"] <= 1:
        errors["scale_cap_deep"] = "深度贫困地区上限必须不小于一般地区上限且不大于 1。"
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def screening_parameters_set(*, actor: User | None, reason: str = "", **values: Decimal) -> ScreeningParameters:
    """Change any of the parameters (rule ratios and the 医保 alert thresholds); unchanged ones keep
    their value.  One audit row per change (``object_type`` screening_parameter, the field name)."""
    unknown = set(values) - set(PARAMETER_FIELDS)
    if unknown:
        raise ValidationError(f"未知参数：{'、'.join(sorted(unknown))}")
    for name, value in values.items():
        if not isinstance(value, Decimal):
            label = parameter_label(name)
            try:
                values[name] = Decimal(str(value))
            except ArithmeticError:
                raise ValidationError({name: f"{label}必须是数字。"}) from None
    params, _ = ScreeningParameters.objects.select_for_update().get_or_create(id=1)
    merged = {name: values.get(name, getattr(params, name)) for name in PARAMETER_FIELDS}
    parameters_validate(merged)
    changed = [name for name in PARAMETER_FIELDS if merged[name] != getattr(params, name)]
    if not changed:
        return params
    for name in changed:
        audit_record(
            actor=actor,
            object_type="screening_parameter",
            object_id=name,
            region_code=NATIONAL,
            action="set",
            from_state=str(getattr(params, name)),
            to_state=str(merged[name]),
            reason=reason,
        )
        setattr(params, name, merged[name])
    params.updated_by = actor if actor is not None and actor.pk else None
    params.save(update_fields=[*changed, "updated_by", "updated_at"])
    return params
