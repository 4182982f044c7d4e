"""风险消除: village proposal → township review → county confirmation (SPEC §5), audited.

The proposal is created by ``elimination_propose`` (only for a target meeting every criterion);
its later steps run through ``ELIMINATION_WORKFLOW`` (``fanpin.workflow``), the machinery leads
use.  On county confirmation the target becomes 风险消除 with the date and method.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from assistance.models import EliminationProposal, ProposalMethod, ProposalState
from assistance.selectors.elimination import elimination_criteria
from fanpin.core.audit import audit_record
from fanpin.core.roles import Permission, Role, effective_role, role_can
from fanpin.core.terms import term
from fanpin.core.workflow import ObjectOutOfScope, Transition, Workflow
from monitoring.models import MonitoringTarget, TargetStatus
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
            "reject",
            "退回（不予消除）",
            sources=("PROPOSED", "REVIEWED"),
            target="REJECTED",
            roles={Role.TOWNSHIP, Role.COUNTY},
            reason_required=True,
        ),
    ],
)


@transaction.atomic
def elimination_propose(
    *, actor: Any, target_id: int, method: str, opinion: str = "", today: dt.date | None = None
) -> EliminationProposal:
    """A village cadre proposes 风险消除 for a target that meets every criterion."""
    if not role_can(effective_role(actor), Permission.PROPOSE_ELIMINATION):
        raise PermissionDenied("您的角色不能提议风险消除。")
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
    assessment = elimination_criteria(target=target, today=today)
    if not assessment.eligible:
        raise ValidationError("未满足风险消除条件：" + "；".join(c.label for c in assessment.unmet) + "。")
    proposal = EliminationProposal.objects.create(
        target=target,
        state=ProposalState.PROPOSED,
        method=method,
        criteria=assessment.as_json(),
        proposed_by=actor,
        proposed_at=timezone.now(),
        opinion=(opinion or "").strip(),
    )
    audit_record(
        actor=actor,
        object_type=OBJECT_TYPE,
        object_id=proposal.pk,
        region_code=target.household.village_id,
        action="propose",
        to_state=ProposalState.PROPOSED,
        reason=proposal.opinion,
        data={"target": target.pk, "method": method, "criteria": proposal.criteria},
    )
    return proposal


def elimination_act(
    *, actor: Any, pk: int, name: str, opinion: str = "", today: dt.date | None = None
) -> EliminationProposal:
    """Apply a workflow step (``review``, ``confirm``, ``reject``) to a proposal."""
    today = today or timezone.localdate()
    reason = (opinion or "").strip()

    def decide(proposal: EliminationProposal) -> list[str]:
        proposal.decided_at = timezone.now()
        proposal.decided_by = actor
        fields = ["decided_at", "decided_by"]
        if name == "reject":
            proposal.rejection_reason = reason
            fields.append("rejection_reason")
        if name == "confirm":
            _eliminate(target_id=proposal.target_id, method=proposal.method, actor=actor, today=today, reason=reason)
        return fields

    return ELIMINATION_WORKFLOW.apply(
        pk=pk, name=name, actor=actor, opinion=reason, on_apply=decide if name in ("confirm", "reject") else None
    )


def _eliminate(*, target_id: int, method: str, actor: Any, today: dt.date, reason: str) -> None:
    target = MonitoringTarget.objects.select_for_update().select_related("household").get(pk=target_id)
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
