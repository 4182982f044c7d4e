"""A province's procedure settings (SPEC §5.6): each step's 办理时限 (days, 工作日/自然日) and
whether the 公告 lists 不予纳入; set by administrators (any province) and provincial users (their
own), reset to the national defaults; every change audited with from/to
(``object_type="procedure_setting"``, object id the province code)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from fanpin.core.audit import audit_record
from fanpin.core.roles import Role, effective_role
from fanpin.core.scoping import ObjectOutOfScope
from monitoring.models import Region
from monitoring.models.calendar import DEFAULT_STEP_LIMITS, DayUnit, ProcedureLimit, ProcedureSetting, ProcedureStep
from monitoring.selectors.calendar import StepLimit

AUDIT_TYPE = "procedure_setting"
SETTING_ROLES = frozenset({Role.ADMIN, Role.PROVINCE})
MIN_DAYS, MAX_DAYS = 1, 365


@dataclass(frozen=True)
class LimitInput:
    days: int | None
    unit: str


def may_set_procedure(user: Any) -> bool:
    return effective_role(user) in SETTING_ROLES


def procedure_province(*, actor: Any, province_code: str) -> Region:
    """The province the actor may set (403 for other roles, 404 outside the actor's scope)."""
    if not may_set_procedure(actor):
        raise PermissionDenied("只有系统管理员和省级用户可以修改办理时限。")
    province = Region.objects.for_user(actor).filter(code=province_code, level=Region.Level.PROVINCE).first()
    if province is None:
        raise ObjectOutOfScope("省")
    return province


def _label(days: int, unit: str) -> str:
    return StepLimit(step="", days=days, unit=unit).label


def limits_errors(limits: dict[str, LimitInput]) -> dict[str, str]:
    errors: dict[str, str] = {}
    labels = dict(ProcedureStep.choices)
    for step, value in limits.items():
        if step not in labels:
            errors[f"days_{step}"] = "未知的环节。"
        elif value.days is None or not MIN_DAYS <= value.days <= MAX_DAYS:
            errors[f"days_{step}"] = f"{labels[step]}的时限应为 {MIN_DAYS}–{MAX_DAYS} 之间的整数。"
        elif value.unit not in DayUnit.values:
            errors[f"unit_{step}"] = f"{labels[step]}的计算方式应为工作日或自然日。"
    return errors


@transaction.atomic
def procedure_settings_set(
    *,
    actor: Any,
    province_code: str,
    limits: dict[str, LimitInput],
    announce_rejections: bool,
    reason: str = "",
) -> int:
    """Set the province's limits (a limit equal to the national default is stored as no override)
    and ``announce_rejections``; the number of changes (each audited ``set``)."""
    province = procedure_province(actor=actor, province_code=province_code)
    errors = limits_errors(limits)
    if errors:
        raise ValidationError(errors)
    code = province.code
    user = actor if getattr(actor, "pk", None) else None
    stored = {p.step: p for p in ProcedureLimit.objects.select_for_update().filter(province_code=code)}
    labels = dict(ProcedureStep.choices)
    changes = 0
    for step, value in limits.items():
        assert value.days is not None
        default_days, default_unit = DEFAULT_STEP_LIMITS[step]
        row = stored.get(step)
        before = (row.days, row.unit) if row else (default_days, str(default_unit))
        after = (value.days, value.unit)
        if before == after:
            continue
        if after == (default_days, str(default_unit)):
            if row is not None:
                row.delete()
        elif row is None:
            ProcedureLimit.objects.create(
                province_code=code, step=step, days=value.days, unit=value.unit, updated_by=user
            )
        else:
            row.days, row.unit, row.updated_by = value.days, value.unit, user
            row.save(update_fields=["days", "unit", "updated_by", "updated_at"])
        changes += 1
        audit_record(
            actor=actor,
            object_type=AUDIT_TYPE,
            object_id=code,
            region_code=code,
            action="set",
            from_state=f"{labels[step]} {_label(*before)}",
            to_state=f"{labels[step]} {_label(*after)}",
            reason=reason.strip(),
            data={"step": step, "from": list(before), "to": list(after)},
        )
    setting = ProcedureSetting.objects.select_for_update().filter(province_code=code).first()
    current = bool(setting and setting.announce_rejections)
    if current != announce_rejections:
        setting = setting or ProcedureSetting(province_code=code)
        setting.announce_rejections = announce_rejections
        setting.updated_by = user
        setting.save()
        changes += 1
        text = {True: "公告包含不予纳入", False: "公告不含不予纳入"}
        audit_record(
            actor=actor,
            object_type=AUDIT_TYPE,
            object_id=code,
            region_code=code,
            action="set",
            from_state=text[current],
            to_state=text[announce_rejections],
            reason=reason.strip(),
            data={"announce_rejections": announce_rejections},
        )
    return changes


@transaction.atomic
def procedure_settings_reset(*, actor: Any, province_code: str, reason: str = "") -> int:
    """Back to the national defaults: the province's overrides and settings row removed; audited."""
    province = procedure_province(actor=actor, province_code=province_code)
    code = province.code
    rows = list(ProcedureLimit.objects.select_for_update().filter(province_code=code))
    setting = ProcedureSetting.objects.select_for_update().filter(province_code=code).first()
    if not rows and setting is None:
        return 0
    labels = dict(ProcedureStep.choices)
    before = "；".join(f"{labels[r.step]} {_label(r.days, r.unit)}" for r in rows)
    if setting is not None and setting.announce_rejections:
        before = "；".join(p for p in (before, "公告包含不予纳入") if p)
    ProcedureLimit.objects.filter(province_code=code).delete()
    ProcedureSetting.objects.filter(province_code=code).delete()
    audit_record(
        actor=actor,
        object_type=AUDIT_TYPE,
        object_id=code,
        region_code=code,
        action="reset",
        from_state=before or "全国默认",
        to_state="全国默认",
        reason=reason.strip() or "恢复全国默认",
        data={"steps": [r.step for r in rows]},
    )
    return len(rows) + (1 if setting is not None else 0)


@transaction.atomic
def procedure_limit_save(*, actor: Any, limit: ProcedureLimit) -> ProcedureLimit:
    """One limit saved in the admin (administrators): validated and audited like the page's."""
    province_code = limit.province_code
    if not MIN_DAYS <= (limit.days or 0) <= MAX_DAYS:
        raise ValidationError({"days": f"时限应为 {MIN_DAYS}–{MAX_DAYS} 之间的整数。"})
    before = ProcedureLimit.objects.select_for_update().filter(pk=limit.pk).first() if limit.pk else None
    default_days, default_unit = DEFAULT_STEP_LIMITS[limit.step]
    old = (before.days, before.unit) if before else (default_days, str(default_unit))
    limit.updated_by = actor if getattr(actor, "pk", None) else None
    limit.save()
    label = dict(ProcedureStep.choices)[limit.step]
    audit_record(
        actor=actor,
        object_type=AUDIT_TYPE,
        object_id=province_code,
        region_code=province_code,
        action="set",
        from_state=f"{label} {_label(*old)}",
        to_state=f"{label} {_label(limit.days, limit.unit)}",
        reason="管理后台修改",
        data={"step": limit.step, "from": list(old), "to": [limit.days, limit.unit]},
    )
    return limit


@transaction.atomic
def procedure_limit_delete(*, actor: Any, limit: ProcedureLimit) -> None:
    label = dict(ProcedureStep.choices)[limit.step]
    default_days, default_unit = DEFAULT_STEP_LIMITS[limit.step]
    text = f"{label} {_label(limit.days, limit.unit)}"
    code = limit.province_code
    limit.delete()
    audit_record(
        actor=actor,
        object_type=AUDIT_TYPE,
        object_id=code,
        region_code=code,
        action="set",
        from_state=text,
        to_state=f"{label} {_label(default_days, str(default_unit))}（全国默认）",
        reason="管理后台删除",
    )


@transaction.atomic
def procedure_setting_save(*, actor: Any, setting: ProcedureSetting) -> ProcedureSetting:
    before = ProcedureSetting.objects.select_for_update().filter(pk=setting.pk).first() if setting.pk else None
    current = bool(before and before.announce_rejections)
    setting.updated_by = actor if getattr(actor, "pk", None) else None
    setting.save()
    text = {True: "公告包含不予纳入", False: "公告不含不予纳入"}
    audit_record(
        actor=actor,
        object_type=AUDIT_TYPE,
        object_id=setting.province_code,
        region_code=setting.province_code,
        action="set",
        from_state=text[current],
        to_state=text[setting.announce_rejections],
        reason="管理后台修改",
    )
    return setting
