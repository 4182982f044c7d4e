"""Changing the screening rule parameters (administrators; every change audited)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from fanpin.core.audit import audit_record
from fanpin.core.models import User
from fanpin.core.terms import termed
from monitoring.models import ScreeningParameters
from monitoring.models.province_parameters import MEDICAL_FIELDS, SCALE_FIELDS
from monitoring.models.screening_rules import RATIO, parameter_value, rule_parameters

NATIONAL = "000000000000"
MONEY_LIMIT = Decimal("10000000000")  # max_digits 12, decimal_places 2


def ratio_fields() -> tuple[str, ...]:
    """The parameters with four decimals: the screening rules' ratios (their declarations) and the
    scale bounds."""
    return (*(p.name for p in rule_parameters() if p.unit == RATIO), *SCALE_FIELDS)


def parameter_fields() -> tuple[str, ...]:
    """Every parameter an administrator may change: the rules' (declared in
    ``monitoring.models.screening_rules``), the scale bounds, the 医保 alert thresholds."""
    return (*(p.name for p in rule_parameters()), *SCALE_FIELDS, *MEDICAL_FIELDS)


def parameter_label(name: str) -> str:
    for p in rule_parameters():
        if p.name == name:
            return p.label
    # verbose names keep the words of the migrations; shown in the deployment's (fanpin.core.terms)
    return termed(str(ScreeningParameters._meta.get_field(name).verbose_name))  # type: ignore[union-attr]


def parameter_get(params: ScreeningParameters, name: str) -> Decimal:
    for p in rule_parameters():
        if p.name == name:
            return parameter_value(params, p)
    return Decimal(getattr(params, name))


def parameters_validate(values: dict[str, Decimal]) -> None:
    """The rules' declared bounds and the table's check constraints, as Chinese messages per field."""
    errors: dict[str, str] = {}
    ratios = ratio_fields()
    for name, value in values.items():
        if name in ratios and value.as_tuple().exponent < -4:  # type: ignore[operator]
            errors[name] = "最多保留 4 位小数。"
    for p in rule_parameters():
        given = values.get(p.name)
        if given is None or p.name in errors:
            continue
        if not given.is_finite() or not p.valid(given):
            errors[p.name] = p.error
        elif p.unit != RATIO and given.as_tuple().exponent < -p.decimals:  # type: ignore[operator]
            errors[p.name] = f"{p.label}最多保留 {p.decimals} 位小数。"
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
    if not 0 <= values["scale_floor"] < values["scale_cap_normal"]:
        errors["scale_floor"] = "下限必须不小于 0 且小于一般地区上限。"
    if not values["scale_cap_normal"] <= values["scale_cap_deep"] <= 1:
        errors["scale_cap_deep"] = "深度贫困地区上限必须不小于一般地区上限且不大于 1。"
    if errors:
        raise ValidationError(errors)


def national_parameters_lock() -> ScreeningParameters:
    """The national row, locked until the transaction ends. Taken first by every change of the
    national or a province's parameters: each validates the merged values (a province's own over the
    national ones), so a national change and a province's change must not validate at the same time
    against each other's old values."""
    params, _ = ScreeningParameters.objects.select_for_update().get_or_create(id=1)
    return params


@transaction.atomic
def screening_parameters_set(*, actor: User | None, reason: str = "", **values: Decimal) -> ScreeningParameters:
    """Change any of the parameters (rule parameters, scale bounds, the 医保 alert thresholds);
    unchanged ones keep their value.  One audit row per change (``object_type`` screening_parameter,
    the field name).  A rule parameter without a column is kept in ``rule_values``."""
    fields = parameter_fields()
    unknown = set(values) - set(fields)
    if unknown:
        raise ValidationError(f"未知参数：{'、'.join(sorted(unknown))}")
    for name, value in values.items():
        if not isinstance(value, Decimal):
            label = parameter_label(name)
            try:
                values[name] = Decimal(str(value))
            except ArithmeticError:
                raise ValidationError({name: f"{label}必须是数字。"}) from None
    params = national_parameters_lock()
    current = {name: parameter_get(params, name) for name in fields}
    merged = {name: values.get(name, current[name]) for name in fields}
    parameters_validate(merged)
    changed = [name for name in fields if merged[name] != current[name]]
    if not changed:
        return params
    from monitoring.services.province_parameters import provinces_check_against  # it validates with this module

    provinces_check_against(merged)  # a province's own values stay valid over the new national ones
    columns = {f.name for f in ScreeningParameters._meta.concrete_fields}
    update_fields = []
    for name in changed:
        audit_record(
            actor=actor,
            object_type="screening_parameter",
            object_id=name,
            region_code=NATIONAL,
            action="set",
            from_state=str(current[name]),
            to_state=str(merged[name]),
            reason=reason,
        )
        if name in columns:
            setattr(params, name, merged[name])
            update_fields.append(name)
        else:
            params.rule_values = {**(params.rule_values or {}), name: str(merged[name])}
            update_fields.append("rule_values")
    params.updated_by = actor if actor is not None and actor.pk else None
    params.save(update_fields=[*dict.fromkeys(update_fields), "updated_by", "updated_at"])
    return params
