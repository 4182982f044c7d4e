"""Writes of assistance plans: add a measure to a target, set its status / progress (audited)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from assistance.models import AmountKind, Measure, MeasureStatus, TargetMeasure
from assistance.selectors.continuing import CLOSING_STATUSES, measure_after_elimination_refusal
from fanpin.core.audit import audit_record
from fanpin.core.idcard import phone_digits, phone_plausible
from fanpin.core.roles import Permission, Role, effective_role, role_can
from fanpin.core.terms import term
from fanpin.core.workflow import ObjectOutOfScope, Transition, TransitionNotAllowed, Workflow
from monitoring.models import MonitoringTarget, TargetStatus

MEASURE_OBJECT_TYPE = "target_measure"

# Status changes of an applied measure run through the same machinery as leads (role, state,
# region, row lock, audit).
MEASURE_WORKFLOW: Workflow[TargetMeasure] = Workflow(
    object_type=MEASURE_OBJECT_TYPE,
    noun="帮扶措施",
    model=TargetMeasure,
    region_code=lambda tm: tm.target.household.village_id,
    state_field="status",
    state_labels=dict(MeasureStatus.choices),
    transitions=[
        Transition("start", "开始实施", sources=("PLANNED",), target="IN_PROGRESS", roles={Role.VILLAGE, Role.COUNTY}),
        Transition(
            "complete",
            "标记完成",
            sources=("PLANNED", "IN_PROGRESS"),
            target="COMPLETED",
            roles={Role.VILLAGE, Role.COUNTY},
        ),
        Transition(
            "terminate",
            "终止",
            sources=("PLANNED", "IN_PROGRESS"),
            target="TERMINATED",
            roles={Role.COUNTY},
            reason_required=True,
        ),
    ],
)
_TRANSITION_TO = {t.target: t.name for t in MEASURE_WORKFLOW.transitions}  # type: ignore[union-attr]


def _require(actor: Any, permission: str, message: str) -> None:
    if not role_can(effective_role(actor), permission):
        raise PermissionDenied(message)


def _append_note(existing: str, *, actor: Any, note: str, today: dt.date) -> str:
    who = getattr(actor, "full_name", "") or actor.username
    line = f"{today:%Y-%m-%d} {who}：{note}"
    return f"{existing}\n{line}" if existing else line


# What a household's measure can plausibly be (a county office's reading; docs/decisions/
# 2026-12-05-measure-plausibility.md): it starts in 2000 or later (help running long before the
# household was identified, 低保 since 2008, is recorded with its own date) and at most a year from
# today (a planned measure); its amount is under a million yuan; the 帮扶责任人's phone is a phone
# number.  An edit checks only what it changes, so a measure recorded before these rules stays editable.
START_EARLIEST = dt.date(2000, 1, 1)
START_AHEAD = dt.timedelta(days=366)
AMOUNT_MAX = Decimal("1000000")
STARTED_STATUSES = (MeasureStatus.IN_PROGRESS, MeasureStatus.COMPLETED)  # not before the start date


@dataclass(frozen=True)
class _Details:
    """A measure's details as a form or the API sends them (add and edit)."""

    responsible_name: str
    responsible_unit: str
    responsible_phone: str
    start_on: dt.date
    end_on: dt.date | None
    amount: Decimal | None
    amount_kind: str

    def stored(self) -> dict[str, Any]:
        """As they are stored (texts stripped; no amount kind without an amount)."""
        return {
            "responsible_name": self.responsible_name.strip(),
            "responsible_unit": self.responsible_unit.strip(),
            "responsible_phone": self.responsible_phone.strip(),
            "start_on": self.start_on,
            "end_on": self.end_on,
            "amount": self.amount,
            "amount_kind": self.amount_kind if self.amount is not None else "",
        }


def _detail_errors(details: _Details, *, before: TargetMeasure | None = None) -> dict[str, str]:
    """The field errors of a measure's details; ``before``: the measure as stored (an edit), whose
    unchanged values are not checked again against the plausibility bounds."""
    stored = details.stored()
    start_on, end_on, amount, amount_kind = details.start_on, details.end_on, details.amount, details.amount_kind
    errors: dict[str, str] = {}
    for name, label in (
        ("responsible_name", "帮扶责任人"),
        ("responsible_unit", "责任人单位"),
        ("responsible_phone", "责任人电话"),
    ):
        if not stored[name]:
            errors[name] = f"请填写{label}。"

    def changed(name: str) -> bool:
        return before is None or getattr(before, name) != stored[name]

    phone = stored["responsible_phone"]
    if phone_digits(phone) and not phone_plausible(phone) and changed("responsible_phone"):
        errors["responsible_phone"] = (
            "责任人电话应为 7 到 15 位数字（可含“-”、括号），如 13812345678 或 0851-86801234。"
        )
    latest = timezone.localdate() + START_AHEAD
    if changed("start_on") and start_on < START_EARLIEST:
        errors["start_on"] = f"开始日期不能早于 {START_EARLIEST:%Y-%m-%d}。"
    elif changed("start_on") and start_on > latest:
        errors["start_on"] = f"开始日期不能晚于 {latest:%Y-%m-%d}（计划中的措施最多提前一年录入）。"
    if end_on is not None and end_on < start_on:
        errors["end_on"] = "结束日期不能早于开始日期。"
    if amount is not None and amount < 0:
        errors["amount"] = "金额不能为负数。"
    elif amount is not None and amount >= AMOUNT_MAX and changed("amount"):
        errors["amount"] = "金额应少于 100 万元（单户帮扶措施的金额，以元为单位填写）。"
    if amount is not None and (not amount_kind or amount_kind not in AmountKind.values):
        errors["amount_kind"] = "填写金额时请选择金额类型（资金、贷款或补贴）。"
    if amount is None and amount_kind:
        errors["amount"] = "选择了金额类型，请填写金额。"
    return errors


@transaction.atomic
def measure_add(
    *,
    actor: Any,
    target_id: int,
    measure_id: int,
    responsible_name: str,
    responsible_unit: str,
    responsible_phone: str,
    start_on: dt.date,
    end_on: dt.date | None = None,
    amount: Decimal | None = None,
    amount_kind: str = "",
    progress_notes: str = "",
) -> TargetMeasure:
    """Add a catalogue measure to an active target's plan (county staff)."""
    _require(actor, Permission.PLAN_ASSISTANCE, "您的角色不能制定帮扶计划。")
    target = (
        MonitoringTarget.objects.for_user(actor)
        .select_for_update(of=("self",))
        .select_related("household")
        .filter(pk=target_id)
        .first()
    )
    if target is None:
        raise ObjectOutOfScope(term("target"))
    errors: dict[str, str] = {}
    if target.status != TargetStatus.ACTIVE:
        errors["__all__"] = f"该{term('target')}已风险消除，不能再添加帮扶措施。"
    measure = Measure.objects.filter(pk=measure_id, is_active=True).first()
    sent = _Details(
        responsible_name=responsible_name,
        responsible_unit=responsible_unit,
        responsible_phone=responsible_phone,
        start_on=start_on,
        end_on=end_on,
        amount=amount,
        amount_kind=amount_kind,
    )
    details: dict[str, Any] = {
        "target": target,
        "measure": measure,
        **sent.stored(),
        "progress_notes": progress_notes.strip(),
    }
    if measure is None:
        errors["measure"] = "请选择目录中启用的帮扶措施。"
    elif TargetMeasure.objects.filter(**details).exclude(status=MeasureStatus.TERMINATED).exists():
        # the same form sent again (Back, then 添加 once more; the target's row lock orders two at
        # once): every detail the same.  Two children's 雨露计划 from one day differ in something
        # (an amount, a note) or are one measure.
        errors["measure"] = (
            f"该户已有一项内容完全相同的“{measure.name}”（开始日期 {start_on:%Y-%m-%d}），请勿重复添加；"
            "如需修改，请在上方“帮扶措施”表中点“修改”。"
        )
    errors.update(_detail_errors(sent))
    if errors:
        raise ValidationError(errors)
    assert measure is not None
    item = TargetMeasure.objects.create(
        **details,
        status=MeasureStatus.PLANNED,
        created_by=actor if actor.pk else None,
    )
    audit_record(
        actor=actor,
        object_type=MEASURE_OBJECT_TYPE,
        object_id=item.pk,
        region_code=target.household.village_id,
        action="add",
        to_state=item.status,
        data={
            "target": target.pk,
            "measure": measure.code,
            "responsible": item.responsible_name,
            "start_on": start_on.isoformat(),
            "end_on": end_on.isoformat() if end_on else None,
            "amount": str(amount) if amount is not None else None,
            "amount_kind": item.amount_kind,
        },
    )
    return item


def _after_elimination_check(item: TargetMeasure, *, closing: bool = False) -> bool:
    """Lock the measure's target (an elimination being confirmed waits, or has happened) and refuse
    a measure that does not go on after the target's 风险消除 (``assistance.selectors.continuing``).
    Returns whether the target is eliminated (the audit row says the record came after it)."""
    target = MonitoringTarget.objects.select_for_update(of=("self",)).get(pk=item.target_id)
    refusal = measure_after_elimination_refusal(item=item, target=target, closing=closing)
    if refusal:
        raise TransitionNotAllowed(refusal)
    return target.status != TargetStatus.ACTIVE


def measure_status_set(
    *, actor: Any, pk: int, status: str, note: str = "", today: dt.date | None = None
) -> TargetMeasure:
    """Set an applied measure's status (village cadres and county staff) and/or add a progress note.

    A status change goes through ``MEASURE_WORKFLOW``; the same status with a note only adds the
    note.  Both are audited.
    """
    _require(actor, Permission.RECORD_PROGRESS, "您的角色不能更新帮扶措施进展。")
    today = today or timezone.localdate()
    note = (note or "").strip()
    if status not in MeasureStatus.values:
        raise ValidationError({"status": "请选择状态。"})
    with transaction.atomic():
        current = MEASURE_WORKFLOW.lock(pk=pk, actor=actor)
        closing = status != current.status and status in CLOSING_STATUSES
        after_elimination = _after_elimination_check(current, closing=closing)
        if current.status != status:
            if status not in _TRANSITION_TO:
                raise ValidationError({"status": f"不能改回“{MeasureStatus(status).label}”。"})
            if status in STARTED_STATUSES and current.start_on > today:
                label = MeasureStatus(status).label
                raise ValidationError({"status": f"开始日期 {current.start_on:%Y-%m-%d} 还未到，不能标记为“{label}”。"})

            def on_apply(tm: TargetMeasure) -> list[str]:
                if note:
                    tm.progress_notes = _append_note(tm.progress_notes, actor=actor, note=note, today=today)
                return ["progress_notes", "updated_at"]

            return MEASURE_WORKFLOW.apply(
                pk=pk,
                name=_TRANSITION_TO[status],
                actor=actor,
                opinion=note,
                on_apply=on_apply,
                data={"after_elimination": True} if after_elimination else None,
            )
        if not note:
            raise ValidationError({"note": "状态未改变：请填写进展情况。"})
        if current.status == MeasureStatus.TERMINATED:
            raise ValidationError({"note": "已终止的措施不能再记录进展。"})
        current.progress_notes = _append_note(current.progress_notes, actor=actor, note=note, today=today)
        current.save(update_fields=["progress_notes", "updated_at"])
        audit_record(
            actor=actor,
            object_type=MEASURE_OBJECT_TYPE,
            object_id=current.pk,
            region_code=current.target.household.village_id,
            action="note",
            from_state=current.status,
            to_state=current.status,
            reason=note,
            data={"after_elimination": True} if after_elimination else None,
        )
        return current


DETAIL_FIELDS = (
    "responsible_name",
    "responsible_unit",
    "responsible_phone",
    "start_on",
    "end_on",
    "amount",
    "amount_kind",
)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


@transaction.atomic
def measure_update(
    *,
    actor: Any,
    pk: int,
    responsible_name: str,
    responsible_unit: str,
    responsible_phone: str,
    start_on: dt.date,
    end_on: dt.date | None = None,
    amount: Decimal | None = None,
    amount_kind: str = "",
) -> TargetMeasure:
    """Change a measure's 帮扶责任人, dates or amount (county staff); the changed fields are audited
    with their old and new values.  已终止 measures are not edited."""
    _require(actor, Permission.PLAN_ASSISTANCE, "您的角色不能修改帮扶计划。")
    item = MEASURE_WORKFLOW.lock(pk=pk, actor=actor)
    sent = _Details(
        responsible_name=responsible_name,
        responsible_unit=responsible_unit,
        responsible_phone=responsible_phone,
        start_on=start_on,
        end_on=end_on,
        amount=amount,
        amount_kind=amount_kind,
    )
    errors = _detail_errors(sent, before=item)
    if item.status == MeasureStatus.TERMINATED:
        errors["__all__"] = "已终止的措施不能修改。"
    elif item.status in STARTED_STATUSES and start_on > timezone.localdate() and "start_on" not in errors:
        errors["start_on"] = f"该措施已{item.get_status_display()}，开始日期不能晚于今天。"
    after_elimination = _after_elimination_check(item)
    if errors:
        raise ValidationError(errors)
    new = sent.stored()
    changes = {
        name: [_plain(getattr(item, name)), _plain(value)]
        for name, value in new.items()
        if getattr(item, name) != value
    }
    if not changes:
        return item
    for name in changes:
        setattr(item, name, new[name])
    item.save(update_fields=[*changes, "updated_at"])
    audit_record(
        actor=actor,
        object_type=MEASURE_OBJECT_TYPE,
        object_id=item.pk,
        region_code=item.target.household.village_id,
        action="update",
        from_state=item.status,
        to_state=item.status,
        data={"changes": changes, "after_elimination": True} if after_elimination else {"changes": changes},
    )
    return item
