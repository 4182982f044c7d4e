"""Writes of the 12-month 家庭收支核算: the village records it at 入户核实, the
confirmation keeps it with the target, an administrator sets a province's deduction method.

Every write is audited (``income_accounting`` / ``income_accounting_setting``); bad input is refused
whole with a Chinese message per field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from fanpin.core.audit import audit_record
from fanpin.core.roles import Permission, Role, effective_role, role_can
from fanpin.core.scoping import ObjectOutOfScope
from fanpin.core.terms import term
from fanpin.core.workflow import TransitionNotAllowed
from monitoring.models import (
    ExpenditureCategory,
    IncomeAccounting,
    IncomeAccountingExpenditure,
    IncomeAccountingSetting,
    Lead,
    LeadState,
    MonitoringTarget,
    Region,
)
from monitoring.selectors.accounting import (
    AUDIT_TYPE,
    INCOME_FIELDS,
    SETTING_AUDIT_TYPE,
    Judgement,
    accounting_judge,
    accounting_ledger,
    accounting_window,
    judgement_current,
    judgement_stored,
    verdict_text,
)
from monitoring.services.acceptance import lead_accepted_mark
from monitoring.services.imports.spec import number_text_parse

RECORDING_ROLES = frozenset({Role.VILLAGE, Role.ADMIN})
# Plausibility: one income type (or one category's out-of-pocket spending) of one household over
# 12 months above 10 000 000 元 is a typing error (decision record 2026-12-03-income-accounting-12-months).
MONEY_LIMIT = Decimal("10000000")
# 入户核实: the 核算 is recorded and changed only while the lead waits for the village's verification.
RECORDING_STATES = (LeadState.NEW,)
MAX_FAMILY_SIZE = 99


@dataclass(frozen=True)
class AccountingInput:
    """What the village enters: household size, the four incomes of the window (yuan), the
    window's out-of-pocket rigid expenditure per category (yuan; the ledger's unless changed with a
    reason) and the reason (required to change a recorded 核算 or to depart from the ledger)."""

    family_size: Any
    wage_income: Any
    business_income: Any
    property_income: Any
    transfer_income: Any
    out_of_pocket: Mapping[str, Any] = field(default_factory=dict)
    reason: str = ""


def _decimal(value: Any) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return Decimal(value) if Decimal(value).is_finite() else None
    return number_text_parse(str(value))  # the imports' reading: no 1e9, no 1_000


def _money_error(label: str, value: Any, *, negative_ok: bool) -> tuple[Decimal | None, str]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, f"请填写{label}（元，没有填 0）。"
    number = _decimal(value)
    if number is None:
        return None, f"{label}必须是数字（元）。"
    if number < 0 and not negative_ok:
        return None, f"{label}不能为负数。"
    if abs(number) > MONEY_LIMIT:
        return None, f"{label}不能超过 {MONEY_LIMIT:,} 元（12 个月合计），请核对。"
    cents = number.quantize(Decimal("0.01"))
    if cents != number:
        return None, f"{label}最多保留 2 位小数（精确到分）。"
    return cents, ""


@dataclass(frozen=True)
class CleanInput:
    family_size: int
    incomes: dict[str, Decimal]
    out_of_pocket: dict[str, Decimal]
    reason: str


def accounting_input_clean(data: AccountingInput) -> CleanInput:
    """The input as numbers, or ``ValidationError`` with a Chinese message naming each bad field
    (keys: the field names, ``oop_<CATEGORY>`` for expenditures)."""
    errors: dict[str, str] = {}
    size: int | None = None
    raw_size = _decimal(data.family_size)
    if raw_size is None or raw_size != raw_size.to_integral_value() or not 1 <= raw_size <= MAX_FAMILY_SIZE:
        errors["family_size"] = f"家庭人口数须为 1–{MAX_FAMILY_SIZE} 的整数。"
    else:
        size = int(raw_size)
    incomes: dict[str, Decimal] = {}
    for name, label in INCOME_FIELDS:
        # 生产经营净收入 and 财产净收入 are net and may be negative (as in the annual income records)
        amount, error = _money_error(
            label, getattr(data, name), negative_ok=name in ("business_income", "property_income")
        )
        if error:
            errors[name] = error
        elif amount is not None:
            incomes[name] = amount
    oop: dict[str, Decimal] = {}
    for code, label in ExpenditureCategory.choices:
        amount, error = _money_error(f"{label}自付支出", data.out_of_pocket.get(code), negative_ok=False)
        if error:
            errors[f"oop_{code}"] = error
        elif amount is not None:
            oop[code] = amount
    if errors:
        raise ValidationError(errors)
    assert size is not None
    return CleanInput(family_size=size, incomes=incomes, out_of_pocket=oop, reason=(data.reason or "").strip())


def _recorded_figures(acc: IncomeAccounting) -> dict[str, Decimal | int]:
    figures: dict[str, Decimal | int] = {"family_size": acc.family_size}
    figures.update({name: getattr(acc, name) for name, _label in INCOME_FIELDS})
    figures.update({f"oop_{e.category}": e.amount for e in acc.expenditures.all()})
    return figures


def _clean_figures(clean: CleanInput) -> dict[str, Decimal | int]:
    figures: dict[str, Decimal | int] = {"family_size": clean.family_size, **clean.incomes}
    figures.update({f"oop_{code}": amount for code, amount in clean.out_of_pocket.items()})
    return figures


def _lock_lead(*, lead_id: int, actor: Any) -> Lead:
    lead = (
        Lead.objects.for_user(actor)
        .select_for_update(of=("self",))
        .select_related("household")
        .filter(pk=lead_id)
        .first()
    )
    if lead is None:
        raise ObjectOutOfScope("线索")
    return lead


def _judgement_fields(acc: IncomeAccounting, judgement: Judgement) -> list[str]:
    acc.line_year = judgement.line_year
    acc.line = judgement.line
    acc.deduct_out_of_pocket = judgement.deduct
    acc.rule_values = dict(judgement.values)
    acc.rules_fired = list(judgement.fired)
    acc.rules_missing = list(judgement.missing)
    acc.judged_at = timezone.now()
    return ["line_year", "line", "deduct_out_of_pocket", "rule_values", "rules_fired", "rules_missing", "judged_at"]


def _judgement_data(judgement: Judgement) -> dict[str, Any]:
    return {
        "line_year": judgement.line_year,
        "line": str(judgement.line) if judgement.line is not None else None,
        "deduct": judgement.deduct,
        "values": dict(judgement.values),
        "fired": list(judgement.fired),
        "missing": list(judgement.missing),
        "per_capita_income": str(judgement.per_capita_income),
        "per_capita_out_of_pocket": str(judgement.per_capita_out_of_pocket),
    }


def accounting_closed_reason(lead: Lead) -> str:
    """Why the lead's 核算 can no longer be recorded or changed (``""`` while it can): it belongs
    to 入户核实, so only while the lead waits for the village's verification (待核实)."""
    if lead.state in RECORDING_STATES:
        return ""
    return (
        f"线索当前状态为“{lead.get_state_display()}”，家庭收支核算只能在入户核实（待核实）时录入或修改，"
        "现已不能再录入或修改。"
    )


def may_record_accounting(user: Any) -> bool:
    return effective_role(user) in RECORDING_ROLES


@transaction.atomic
def income_accounting_record(*, lead_id: int, actor: Any, data: AccountingInput) -> IncomeAccounting:
    """Record (or change) the lead's 家庭收支核算 for its 12-month window and judge it.

    The village (村干部/驻村工作队) records it while the lead is open.  The out-of-pocket figures
    start as the ledger's for the window; a figure that differs from the ledger, and any change of
    a recorded 核算, needs a reason.  Audited: ``record`` or ``edit`` with the changed figures.
    """
    lead = _lock_lead(lead_id=lead_id, actor=actor)
    if not may_record_accounting(actor):
        raise PermissionDenied("家庭收支核算由村干部/驻村工作队在入户核实时录入。")
    refusal = accounting_closed_reason(lead)
    if refusal:
        raise TransitionNotAllowed(refusal)
    clean = accounting_input_clean(data)
    existing = IncomeAccounting.objects.select_for_update().filter(lead=lead).first()
    window = accounting_window(lead=lead)
    ledger = accounting_ledger(household_id=lead.household_id, window=window)
    labels = dict(ExpenditureCategory.choices)
    departed = [code for code in ExpenditureCategory.values if clean.out_of_pocket[code] != ledger[code]]
    if existing is not None and _recorded_figures(existing) == _clean_figures(clean):
        return existing  # the same figures again (a double submit): no change, nothing written or audited
    if not clean.reason:
        if existing is not None:
            raise ValidationError({"reason": "修改已录入的家庭收支核算，须填写修改原因。"})
        if departed:
            names = "、".join(labels[code] for code in departed)
            raise ValidationError({"reason": f"{names}的自付支出与台账不一致，须填写修改原因。"})

    judgement = accounting_judge(
        village_code=lead.household.village_id,
        end_year=window.end.year,
        family_size=clean.family_size,
        income=sum(clean.incomes.values(), Decimal("0.00")),
        out_of_pocket=clean.out_of_pocket,
    )
    before: dict[str, str] = {}
    before_verdict = ""
    acc = existing or IncomeAccounting(lead=lead, recorded_by=actor if getattr(actor, "pk", None) else None)
    if existing is not None:
        old_oop = {e.category: e.amount for e in existing.expenditures.all()}
        before = {"family_size": str(existing.family_size)}
        before.update({name: str(getattr(existing, name)) for name, _label in INCOME_FIELDS})
        before.update({f"oop_{code}": str(old_oop.get(code, "")) for code in ExpenditureCategory.values})
        before_verdict = verdict_text(judgement_stored(existing))
    acc.window_basis, acc.window_start, acc.window_end = window.basis, window.start, window.end
    acc.family_size = clean.family_size
    for name, amount in clean.incomes.items():
        setattr(acc, name, amount)
    acc.updated_by = actor if getattr(actor, "pk", None) else None
    fields = _judgement_fields(acc, judgement)
    if existing is None:
        acc.save()
    else:
        figures = ["window_basis", "window_start", "window_end", "family_size", *(n for n, _l in INCOME_FIELDS)]
        acc.save(update_fields=[*figures, *fields, "updated_by", "updated_at"])
    for code in ExpenditureCategory.values:
        IncomeAccountingExpenditure.objects.update_or_create(
            accounting=acc, category=code, defaults={"ledger_amount": ledger[code], "amount": clean.out_of_pocket[code]}
        )
    accepted = lead_accepted_mark(lead, on=timezone.localdate())  # the village records: 受理, if not recorded
    if accepted:
        lead.save(update_fields=accepted)
    after = {"family_size": str(clean.family_size)}
    after.update({name: str(amount) for name, amount in clean.incomes.items()})
    after.update({f"oop_{code}": str(amount) for code, amount in clean.out_of_pocket.items()})
    changes = {name: [before.get(name, ""), value] for name, value in after.items() if before.get(name) != value}
    audit_record(
        actor=actor,
        object_type=AUDIT_TYPE,
        object_id=acc.pk,
        region_code=lead.household.village_id,
        action="edit" if existing is not None else "record",
        from_state=before_verdict,
        to_state=verdict_text(judgement),
        reason=clean.reason,
        data={
            "lead_id": lead.pk,
            "window": [window.start.isoformat(), window.end.isoformat()],
            "changes": changes,
            "ledger_departed": {code: [str(ledger[code]), str(clean.out_of_pocket[code])] for code in departed},
            "judgement": _judgement_data(judgement),
        },
    )
    return acc


def income_accounting_keep(*, lead: Lead, target: MonitoringTarget, actor: Any) -> IncomeAccounting | None:
    """At 县级确定 (the lead locked by the workflow): the lead's 核算, judged as the county saw it
    on the page (today's line and setting), is kept with the new target.  Audited ``keep``."""
    acc = IncomeAccounting.objects.select_for_update().filter(lead=lead).first()
    if acc is None:
        return None
    judgement = judgement_current(acc, village_code=lead.household.village_id)
    acc.target = target
    fields = ["target", *_judgement_fields(acc, judgement), "updated_at"]
    acc.save(update_fields=fields)
    audit_record(
        actor=actor,
        object_type=AUDIT_TYPE,
        object_id=acc.pk,
        region_code=lead.household.village_id,
        action="keep",
        to_state=verdict_text(judgement),
        reason=f"确定为{term('target')}，核算随之留存",
        data={"lead_id": lead.pk, "target_id": target.pk, "judgement": _judgement_data(judgement)},
    )
    return acc


@transaction.atomic
def accounting_deduction_set(
    *, actor: Any, province_code: str, deduct: bool, reason: str = ""
) -> IncomeAccountingSetting:
    """Set whether ``province_code`` deducts out-of-pocket rigid spending from income in the 12-month
    judgement (the 民政 支出型困难 method).  Administrators (规则参数), with a reason; audited."""
    if not role_can(effective_role(actor), Permission.MANAGE_PARAMETERS):
        raise PermissionDenied("只有系统管理员可以修改收支核算的省级设置。")
    province = Region.objects.for_user(actor).filter(code=province_code, level=Region.Level.PROVINCE).first()
    if province is None:
        raise ObjectOutOfScope("省")
    setting = IncomeAccountingSetting.objects.select_for_update().filter(province=province).first()
    current = bool(setting and setting.deduct_out_of_pocket)
    if current == deduct:
        return setting or IncomeAccountingSetting(province=province, deduct_out_of_pocket=deduct)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "修改收支核算的省级设置，须填写修改原因。"})
    if setting is None:
        setting = IncomeAccountingSetting(province=province)
    setting.deduct_out_of_pocket = deduct
    setting.updated_by = actor if getattr(actor, "pk", None) else None
    setting.save()
    label = {True: "扣减自付刚性支出", False: "不扣减"}
    audit_record(
        actor=actor,
        object_type=SETTING_AUDIT_TYPE,
        object_id=province.code,
        region_code=province.code,
        action="set",
        from_state=label[current],
        to_state=label[deduct],
        reason=reason,
        data={"province": province.code, "deduct_out_of_pocket": deduct},
    )
    return setting
