"""风险消除 with identification's steps (SPEC §5, §5.6), audited, scoped, locked.

The village proposes with an 入户核实 (``elimination_propose``: only for a target meeting every
criterion, the home check counted), then records the 民主评议 (``elimination_appraisal_record``;
不同意 ends the proposal) and the 村内公示 (``elimination_publicity_record``, ≥ 5 days inclusive).  A
proposal made before the steps existed records its 入户核实 first (``elimination_home_check_record``).
The township reviews only after the 公示 has ended, with an agreed appraisal; the county decides,
every criterion checked again on the day (``elimination_act``, through ``ELIMINATION_WORKFLOW``, the
machinery leads use).  On county confirmation the target becomes 风险消除 with the date and method.
Each village step locks the proposal and writes an audit row whose from/to are the steps
(``assistance.selectors.elimination_steps.Step``); a step recorded twice is refused (409).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from assistance.models import (
    MIN_ELIMINATION_PUBLICITY_DAYS,
    EliminationAppraisal,
    EliminationProposal,
    ProposalMethod,
    ProposalState,
)
from assistance.selectors.elimination import elimination_criteria
from assistance.selectors.elimination_steps import Step, elimination_step, step_label
from fanpin.core.audit import audit_record
from fanpin.core.roles import Permission, Role, effective_role, role_can
from fanpin.core.terms import term
from fanpin.core.workflow import ObjectOutOfScope, Transition, TransitionNotAllowed, Workflow
from monitoring.models import MonitoringTarget, TargetStatus
from monitoring.models.visits import CHECKLIST_FIELDS
from monitoring.services.notices import notices_target_eliminated

OBJECT_TYPE = "elimination"

ELIMINATION_WORKFLOW: Workflow[EliminationProposal] = Workflow(
    object_type=OBJECT_TYPE,
    noun="风险消除申请",
    model=EliminationProposal,
    region_code=lambda p: p.target.household.village_id,
    state_labels=dict(ProposalState.choices),
    transitions=[
        Transition("review", "乡镇审核通过", sources=("PROPOSED",), target="REVIEWED", roles={Role.TOWNSHIP}),
        Transition("confirm", "县级确认风险消除", sources=("REVIEWED",), target="CONFIRMED", roles={Role.COUNTY}),
        Transition(
            "appraisal_reject",
            "民主评议未通过",
            sources=("PROPOSED",),
            target="REJECTED",
            roles={Role.VILLAGE},
            reason_required=True,
        ),
        Transition(
            "reject",
            "退回（不予消除）",
            sources=("PROPOSED", "REVIEWED"),
            target="REJECTED",
            roles={Role.TOWNSHIP, Role.COUNTY},
            reason_required=True,
        ),
    ],
)


def _cn(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@dataclass(frozen=True)
class HomeCheck:
    """入户核实: date, who went, the 两不愁三保障 + 饮水 checklist (``CHECKLIST_FIELDS`` name → secured)
    and, optionally, the 12 months' 家庭收支核算 up to the check (family size and the four incomes)."""

    checked_on: dt.date
    visitors: str
    checklist: Mapping[str, bool] = field(default_factory=dict)
    family_size: int | None = None
    wage_income: Decimal | None = None
    business_income: Decimal | None = None
    property_income: Decimal | None = None
    transfer_income: Decimal | None = None


ACCOUNTING_INCOMES = (
    ("wage_income", "工资性收入"),
    ("business_income", "生产经营净收入"),
    ("property_income", "财产净收入"),
    ("transfer_income", "转移净收入"),
)
_MAX_INCOME = Decimal("100000000")
MAX_PUBLICITY_DAYS = 60  # a longer posting is a typing error (and would push every deadline years on)


def home_check_errors(hc: HomeCheck, *, target: MonitoringTarget, today: dt.date) -> dict[str, str]:
    errors: dict[str, str] = {}
    if hc.checked_on > today:
        errors["checked_on"] = "入户核实日期不能晚于今天。"
    elif hc.checked_on < target.identified_on:
        errors["checked_on"] = f"入户核实日期不能早于识别日期（{_cn(target.identified_on)}）。"
    if not (hc.visitors or "").strip():
        errors["visitors"] = "请填写核实人员。"
    elif len(hc.visitors.strip()) > 200:
        errors["visitors"] = "核实人员不超过 200 字。"
    unknown = set(hc.checklist) - {name for name, _label in CHECKLIST_FIELDS}
    if unknown:
        errors["checklist"] = "核实事项无效：" + "、".join(sorted(unknown))
    else:
        unsecured = [label for name, label in CHECKLIST_FIELDS if not hc.checklist.get(name)]
        if unsecured:
            errors["checklist"] = "入户核实未保障：" + "、".join(unsecured) + "，不能提议风险消除。"
    given = [hc.family_size is not None] + [getattr(hc, name) is not None for name, _label in ACCOUNTING_INCOMES]
    if any(given):
        if hc.family_size is None or not 1 <= hc.family_size <= 30:
            errors["family_size"] = "收支核算的家庭人口数应为 1–30 人。"
        for name, label in ACCOUNTING_INCOMES:
            value = getattr(hc, name)
            if value is None:
                errors[name] = f"填写收支核算时请填写{label}（没有填 0）。"
            elif abs(value) >= _MAX_INCOME or (value < 0 and name in ("wage_income", "transfer_income")):
                errors[name] = f"{label}无效。"
    return errors


def _home_check_apply(proposal: EliminationProposal, hc: HomeCheck, actor: Any) -> list[str]:
    proposal.home_checked_on = hc.checked_on
    proposal.home_visitors = hc.visitors.strip()
    proposal.home_checklist = {name: bool(hc.checklist.get(name)) for name, _label in CHECKLIST_FIELDS}
    proposal.home_checked_by = actor if getattr(actor, "pk", None) else None
    proposal.accounting_family_size = hc.family_size
    for name, _label in ACCOUNTING_INCOMES:
        setattr(proposal, f"accounting_{name}", getattr(hc, name))
    return [
        "home_checked_on",
        "home_visitors",
        "home_checklist",
        "home_checked_by",
        "accounting_family_size",
        *(f"accounting_{name}" for name, _label in ACCOUNTING_INCOMES),
    ]


def _home_check_data(hc: HomeCheck) -> dict[str, Any]:
    data: dict[str, Any] = {"home_checked_on": hc.checked_on.isoformat(), "visitors": hc.visitors.strip()}
    if hc.family_size is not None:
        data["accounting"] = {
            "family_size": hc.family_size,
            **{name: str(getattr(hc, name)) for name, _label in ACCOUNTING_INCOMES},
        }
    return data


def _require_village(actor: Any) -> None:
    if not role_can(effective_role(actor), Permission.PROPOSE_ELIMINATION):
        raise PermissionDenied("您的角色不能办理风险消除的村级环节。")


@transaction.atomic
def elimination_propose(
    *,
    actor: Any,
    target_id: int,
    method: str,
    home_check: HomeCheck,
    opinion: str = "",
    today: dt.date | None = None,
) -> EliminationProposal:
    """A village cadre proposes 风险消除 with the 入户核实, for a target that meets every criterion
    (the home check and its 收支核算 counted)."""
    _require_village(actor)
    today = today or timezone.localdate()
    target = (
        MonitoringTarget.objects.for_user(actor)
        .select_for_update(of=("self",))
        .select_related("household")
        .filter(pk=target_id)
        .first()
    )
    if target is None:
        raise ObjectOutOfScope(term("target"))
    if method not in ProposalMethod.values:
        raise ValidationError({"method": "请选择消除方式（帮扶消除或自然消除）。"})
    if target.status != TargetStatus.ACTIVE:
        raise ValidationError(f"该{term('target')}已风险消除。")
    if EliminationProposal.objects.filter(target=target).open().exists():
        raise ValidationError(f"该{term('target')}已有待审核的风险消除申请。")
    errors = home_check_errors(home_check, target=target, today=today)
    if errors:
        raise ValidationError(errors)
    proposal = EliminationProposal(
        target=target,
        state=ProposalState.PROPOSED,
        method=method,
        proposed_by=actor,
        proposed_at=timezone.now(),
        opinion=(opinion or "").strip(),
    )
    _home_check_apply(proposal, home_check, actor)
    proposal.save()
    # judged with the proposal in place: its 入户核实 and 收支核算 are the latest data
    assessment = elimination_criteria(target=target, today=today)
    if not assessment.eligible:
        raise ValidationError("未满足风险消除条件：" + "；".join(c.label for c in assessment.unmet) + "。")
    proposal.criteria = assessment.as_json()
    proposal.save(update_fields=["criteria"])
    audit_record(
        actor=actor,
        object_type=OBJECT_TYPE,
        object_id=proposal.pk,
        region_code=target.household.village_id,
        action="propose",
        to_state=ProposalState.PROPOSED,
        reason=proposal.opinion,
        data={"target": target.pk, "method": method, "criteria": proposal.criteria, **_home_check_data(home_check)},
    )
    return proposal


def _village_step(
    *, actor: Any, pk: int, expected: str, action: str, reason: str, today: dt.date, apply: Any
) -> EliminationProposal:
    """Lock the proposal, check it waits for ``expected``, apply, save and audit (from/to: the steps)."""
    _require_village(actor)
    with transaction.atomic():
        proposal = ELIMINATION_WORKFLOW.lock(pk=pk, actor=actor)
        before = elimination_step(proposal, today=today)
        if proposal.state != ProposalState.PROPOSED or before != expected:
            raise TransitionNotAllowed(
                f"该风险消除申请当前为“{_step_text(proposal, today)}”，不能{ACTION_LABELS.get(action, action)}。"
            )
        fields, data = apply(proposal)
        proposal.save(update_fields=sorted(set(fields)))
        audit_record(
            actor=actor,
            object_type=OBJECT_TYPE,
            object_id=proposal.pk,
            region_code=proposal.target.household.village_id,
            action=action,
            from_state=before,
            to_state=elimination_step(proposal, today=today),
            reason=reason,
            data=data,
        )
    return proposal


ACTION_LABELS = {
    "home_check": "补录入户核实",
    "appraisal": "登记民主评议",
    "publicity": "登记公示",
}


def _step_text(proposal: EliminationProposal, today: dt.date) -> str:
    return step_label(elimination_step(proposal, today=today))


def elimination_home_check_record(
    *, actor: Any, pk: int, home_check: HomeCheck, today: dt.date | None = None
) -> EliminationProposal:
    """补录入户核实 for a proposal made before the steps existed (it has none)."""
    today = today or timezone.localdate()

    def apply(proposal: EliminationProposal) -> tuple[list[str], dict[str, Any]]:
        errors = home_check_errors(home_check, target=proposal.target, today=today)
        if errors:
            raise ValidationError(errors)
        return _home_check_apply(proposal, home_check, actor), _home_check_data(home_check)

    return _village_step(
        actor=actor,
        pk=pk,
        expected=Step.HOME_CHECK,
        action="home_check",
        reason="补录入户核实",
        today=today,
        apply=apply,
    )


def elimination_appraisal_record(
    *, actor: Any, pk: int, appraisal_on: dt.date, outcome: str, reason: str = "", today: dt.date | None = None
) -> EliminationProposal:
    """民主评议: 同意 → the 公示 is next; 不同意 ends the proposal as 未通过 with the reason."""
    today = today or timezone.localdate()
    reason = (reason or "").strip()
    if outcome not in (EliminationAppraisal.AGREED, EliminationAppraisal.DISAGREED):
        raise ValidationError({"outcome": "请选择民主评议结果。"})
    if outcome == EliminationAppraisal.DISAGREED and not reason:
        raise ValidationError({"reason": "民主评议不同意时请填写原因。"})

    def check(proposal: EliminationProposal) -> None:
        if proposal.home_checked_on is None:
            raise TransitionNotAllowed("请先补录入户核实，再登记民主评议。")
        if proposal.appraisal_outcome:
            raise TransitionNotAllowed("该申请已登记民主评议。")
        if appraisal_on > today:
            raise ValidationError({"appraisal_on": "民主评议日期不能晚于今天。"})
        if appraisal_on < proposal.home_checked_on:
            raise ValidationError(
                {"appraisal_on": f"民主评议日期不能早于入户核实日期（{_cn(proposal.home_checked_on)}）。"}
            )
        proposal.appraisal_on = appraisal_on
        proposal.appraisal_outcome = outcome

    data = {"appraisal_on": appraisal_on.isoformat(), "outcome": outcome}
    if outcome == EliminationAppraisal.DISAGREED:
        _require_village(actor)

        def on_apply(proposal: EliminationProposal) -> list[str]:
            check(proposal)
            proposal.rejection_reason = reason
            proposal.decided_at = timezone.now()
            proposal.decided_by = actor
            return ["appraisal_on", "appraisal_outcome", "rejection_reason", "decided_at", "decided_by"]

        return ELIMINATION_WORKFLOW.apply(
            pk=pk, name="appraisal_reject", actor=actor, opinion=reason, on_apply=on_apply, data=data
        )

    def apply(proposal: EliminationProposal) -> tuple[list[str], dict[str, Any]]:
        check(proposal)
        return ["appraisal_on", "appraisal_outcome"], data

    return _village_step(
        actor=actor,
        pk=pk,
        expected=Step.APPRAISAL,
        action="appraisal",
        reason=reason or "民主评议同意",
        today=today,
        apply=apply,
    )


def elimination_publicity_record(
    *, actor: Any, pk: int, start: dt.date, end: dt.date, today: dt.date | None = None
) -> EliminationProposal:
    """村内公示: at least ``MIN_ELIMINATION_PUBLICITY_DAYS`` days counted inclusively, starting on or
    after the 民主评议 and not after today."""
    today = today or timezone.localdate()

    def apply(proposal: EliminationProposal) -> tuple[list[str], dict[str, Any]]:
        errors: dict[str, str] = {}
        if end < start:
            errors["end"] = "公示结束日期不能早于开始日期。"
        elif (end - start).days + 1 < MIN_ELIMINATION_PUBLICITY_DAYS:
            errors["end"] = f"公示期不少于 {MIN_ELIMINATION_PUBLICITY_DAYS} 天（含首尾两天）。"
        elif (end - start).days + 1 > MAX_PUBLICITY_DAYS:
            errors["end"] = f"公示期不超过 {MAX_PUBLICITY_DAYS} 天，请核对结束日期。"
        if start > today:
            errors["start"] = "公示开始日期不能晚于今天（公示开始后再登记）。"
        elif proposal.appraisal_on is not None and start < proposal.appraisal_on:
            errors["start"] = f"公示应在民主评议（{_cn(proposal.appraisal_on)}）当天或之后开始。"
        if errors:
            raise ValidationError(errors)
        proposal.publicity_start, proposal.publicity_end = start, end
        return ["publicity_start", "publicity_end"], {"publicity": [start.isoformat(), end.isoformat()]}

    return _village_step(
        actor=actor, pk=pk, expected=Step.PUBLICITY, action="publicity", reason="村内公示", today=today, apply=apply
    )


def review_refusal(proposal: EliminationProposal, *, today: dt.date) -> str:
    """Why the township may not review yet (``""``: it may)."""
    if proposal.home_checked_on is None:
        return "该申请尚未录入入户核实（本功能上线前提出的申请），请村级补录入户核实、民主评议和公示后再审核。"
    if proposal.appraisal_outcome != EliminationAppraisal.AGREED:
        return "该申请尚未登记同意的民主评议，不能审核。"
    if proposal.publicity_end is None:
        return "该申请尚未公示，不能审核。"
    if today <= proposal.publicity_end:
        end, after = proposal.publicity_end, proposal.publicity_end + dt.timedelta(days=1)
        return f"公示期至{_cn(end)}结束，请于{_cn(after)}及以后审核。"
    return ""


def elimination_act(
    *, actor: Any, pk: int, name: str, opinion: str = "", today: dt.date | None = None
) -> EliminationProposal:
    """Apply a workflow step (``review``, ``confirm``, ``reject``) to a proposal: the township's
    review only after the 公示 ended with an agreed appraisal; the county's confirmation only while
    every criterion is met on ``today``."""
    today = today or timezone.localdate()
    reason = (opinion or "").strip()

    def review(proposal: EliminationProposal) -> list[str]:
        refusal = review_refusal(proposal, today=today)
        if refusal:
            raise TransitionNotAllowed(refusal)
        proposal.reviewed_at = timezone.now()
        proposal.reviewed_by = actor
        return ["reviewed_at", "reviewed_by"]

    def decide(proposal: EliminationProposal) -> list[str]:
        proposal.decided_at = timezone.now()
        proposal.decided_by = actor
        fields = ["decided_at", "decided_by"]
        if name == "reject":
            proposal.rejection_reason = reason
            fields.append("rejection_reason")
        if name == "confirm":
            assessment = elimination_criteria(target=proposal.target, today=today)
            if not assessment.eligible:
                raise ValidationError(
                    "审定时未满足风险消除条件：" + "；".join(f"{c.label}（{c.value}）" for c in assessment.unmet) + "。"
                )
            _eliminate(target_id=proposal.target_id, method=proposal.method, actor=actor, today=today, reason=reason)
        return fields

    on_apply = review if name == "review" else decide if name in ("confirm", "reject") else None
    return ELIMINATION_WORKFLOW.apply(pk=pk, name=name, actor=actor, opinion=reason, on_apply=on_apply)


def _eliminate(*, target_id: int, method: str, actor: Any, today: dt.date, reason: str) -> None:
    target = MonitoringTarget.objects.select_for_update(of=("self",)).select_related("household").get(pk=target_id)
    if target.status != TargetStatus.ACTIVE:
        raise ValidationError(f"该{term('target')}已不在监测中。")
    target.status = TargetStatus.ELIMINATED
    target.elimination_method = method
    target.eliminated_on = today
    target.save(update_fields=["status", "elimination_method", "eliminated_on"])
    audit_record(
        actor=actor,
        object_type="target",
        object_id=target.pk,
        region_code=target.household.village_id,
        action="eliminate",
        from_state=TargetStatus.ACTIVE,
        to_state=TargetStatus.ELIMINATED,
        reason=reason,
        data={"method": method, "eliminated_on": today.isoformat()},
    )
    notices_target_eliminated(target=target)
