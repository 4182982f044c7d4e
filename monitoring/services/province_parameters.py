"""Changing a province's own rule parameters.

Administrators change any province's, a provincial user their own province's; nobody else (a city
or county user: 403; a provincial user asking for another province: 404).  A value set to ``None``
goes back to the national one (沿用全国默认值).  The province's values are validated as they would
apply — its own merged over the national ones — with the rules' declarations (``valid`` / ``error``)
and the checks of the national page, so a province can never run on values the national page would
refuse.  One audit row per changed parameter (``object_type`` ``province_rule_parameter``,
``object_id`` ``<province>:<name>``, from → to, the reason, which is required).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from fanpin.core.audit import audit_record
from fanpin.core.regions import province_code_of
from fanpin.core.roles import Role, effective_role
from fanpin.core.scoping import ObjectOutOfScope, sees_everything
from monitoring.models import ProvinceRuleParameters, Region
from monitoring.models.province_parameters import has_column, own_value, own_values
from monitoring.models.screening_rules import RATIO
from monitoring.selectors.province_parameters import (
    AUDIT_TYPE,
    merged_values,
    national_parameters_get,
    national_values,
    own_values_version,
    parameter_label,
    parameter_names,
    parameter_unit,
)
from monitoring.services.parameters import national_parameters_lock, parameters_validate

INHERITED = "沿用全国默认值"


def province_parameters_editable(*, user: Any, province_code: str) -> Region:
    """The province if ``user`` may change its parameters; otherwise ``ObjectOutOfScope`` (no such
    province, or another province than a provincial user's own) or ``PermissionDenied``."""
    province = Region.objects.filter(code=province_code, level=Region.Level.PROVINCE).first()
    if province is None:
        raise ObjectOutOfScope("省")
    if sees_everything(user):
        return province
    role = effective_role(user)
    region_id = str(getattr(user, "region_id", "") or "")
    if role == Role.PROVINCE and region_id:
        if province_code_of(region_id) != province.code:
            raise ObjectOutOfScope("省")
        return province
    raise PermissionDenied("只有系统管理员和本省省级用户可以修改省级筛查规则参数。")


def _decimal(name: str, value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise ValidationError({name: f"{parameter_label(name)}必须是数字。"}) from None


def _text(name: str, value: Decimal | None) -> str:
    """A value as the audit row shows it: with the parameter's decimals (as stored), or 沿用全国默认值."""
    if value is None:
        return INHERITED
    return str(value.quantize(Decimal(1).scaleb(-4 if parameter_unit(name) == RATIO else -2)))


RATIO_LIMIT = Decimal(100)  # the columns hold six digits, four of them decimals


def _validate(national: Mapping[str, Decimal], own: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """The merged values if the province's own ones are valid over ``national``."""
    too_large = {
        name: f"{parameter_label(name)}数值过大（应小于 {RATIO_LIMIT}）。"
        for name, value in own.items()
        if parameter_unit(name) == RATIO and value.is_finite() and abs(value) >= RATIO_LIMIT
    }
    if too_large:
        raise ValidationError(too_large)
    merged = merged_values(national, own)
    parameters_validate(merged)
    return merged


def province_parameters_check(*, actor: Any, province_code: str, values: Mapping[str, Any]) -> dict[str, Decimal]:
    """The values that would apply in the province with the own values ``values`` (every parameter;
    ``None`` or ``""``: inherit), validated; nothing written (the what-if preview)."""
    province_parameters_editable(user=actor, province_code=province_code)
    names = parameter_names()
    unknown = set(values) - set(names)
    if unknown:
        raise ValidationError(f"未知参数：{'、'.join(sorted(unknown))}")
    own = {name: v for name, value in values.items() if (v := _decimal(name, value)) is not None}
    return _validate(national_values(national_parameters_get()), own)


STALE = "本省参数在您打开本页后已被他人修改，请刷新页面核对最新参数后再保存。"


@transaction.atomic
def province_parameters_set(
    *, actor: Any, province_code: str, values: Mapping[str, Any], reason: str = "", seen_version: str | None = None
) -> ProvinceRuleParameters:
    """Set the province's own values of the parameters in ``values`` (``None`` or ``""``: back to
    the national value); parameters not named keep what they have.  Audited per change; nothing
    is written unless every value is valid and a reason is given.

    The national row is locked first (``national_parameters_lock``, as a national change does),
    then the province's row. ``seen_version`` (the edit form's ``own_values_version`` of the values
    it showed) refuses to save over values someone else changed since the form was opened."""
    province = province_parameters_editable(user=actor, province_code=province_code)
    names = parameter_names()
    unknown = set(values) - set(names)
    if unknown:
        raise ValidationError(f"未知参数：{'、'.join(sorted(unknown))}")
    given = {name: _decimal(name, value) for name, value in values.items()}
    national_row = national_parameters_lock()
    row, _ = ProvinceRuleParameters.objects.select_for_update().get_or_create(province_code=province.code)
    current = {name: own_value(row, name) for name in names}
    if seen_version is not None and seen_version != own_values_version(current):
        raise ValidationError(STALE)
    wanted = {name: given[name] if name in given else current[name] for name in names}
    changed = [name for name in names if wanted[name] != current[name]]
    if not changed:
        return row
    national = national_values(national_row)
    _validate(national, {name: value for name, value in wanted.items() if value is not None})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "修改省级筛查规则参数，须填写修改依据。"})
    rule_values = dict(row.rule_values or {})
    update_fields = ["updated_by", "updated_at"]
    for name in changed:
        audit_record(
            actor=actor,
            object_type=AUDIT_TYPE,
            object_id=f"{province.code}:{name}",
            region_code=province.code,
            action="reset" if wanted[name] is None else "set",
            from_state=_text(name, current[name]),
            to_state=_text(name, wanted[name]),
            reason=reason,
            data={"province": province.code, "parameter": name, "national": str(national[name])},
        )
        if has_column(name):
            setattr(row, name, wanted[name])
            update_fields.append(name)
        else:
            if wanted[name] is None:
                rule_values.pop(name, None)
            else:
                rule_values[name] = str(wanted[name])
            update_fields.append("rule_values")
    row.rule_values = rule_values
    row.updated_by = actor if getattr(actor, "pk", None) else None
    row.save(update_fields=list(dict.fromkeys(update_fields)))
    return row


def province_parameters_reset(
    *, actor: Any, province_code: str, reason: str = "", seen_version: str | None = None
) -> ProvinceRuleParameters:
    """Every parameter of the province back to the national value (audited per parameter)."""
    return province_parameters_set(
        actor=actor,
        province_code=province_code,
        values=dict.fromkeys(parameter_names()),
        reason=reason,
        seen_version=seen_version,
    )


def provinces_check_against(national: Mapping[str, Decimal]) -> None:
    """Proposed national values must leave every province's merged values valid (a province's own
    scale floor must stay below the cap it inherits, …): ``ValidationError`` naming the province."""
    names = parameter_names()
    rows = list(ProvinceRuleParameters.objects.all())
    names_of = dict(Region.objects.filter(code__in=[r.province_code for r in rows]).values_list("code", "name"))
    for row in rows:
        own = own_values(row, names)
        if not own:
            continue
        try:
            parameters_validate(merged_values(national, own))
        except ValidationError as exc:
            province = names_of.get(row.province_code, row.province_code)
            raise ValidationError(
                {
                    field: [f"与{province}的本省参数冲突：{message}" for message in messages]
                    for field, messages in exc.message_dict.items()
                }
            ) from None
