"""Household changes reviewed by the county (SPEC §2.1).

A member or household import that would move a member to another household, change a household's
户类型 or mark a member dead or removed proposes a ``HouseholdChange`` instead of writing it
(``household_changes_propose``); the county accepts it (``household_change_accept``: applied in
one transaction, the change, the households and the member locked) or rejects it with a reason
(``household_change_reject``).  Every proposal and decision writes an audit row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from fanpin.core.audit import audit_record, state_changes_follow
from fanpin.core.masking import mask_id
from fanpin.core.models import AuditEntry
from fanpin.core.roles import Permission, effective_role, role_can
from fanpin.core.scoping import ObjectOutOfScope
from fanpin.core.workflow import TransitionNotAllowed
from monitoring.models import (
    MOVE_KINDS,
    AlertStatus,
    AssistanceEntry,
    ChangeKind,
    ChangeSource,
    ChangeState,
    Household,
    HouseholdChange,
    HouseholdType,
    Member,
    MemberStatus,
    Relation,
    TaskDoneVia,
)
from monitoring.selectors.household_changes import change_proposes_the_same, household_changes_in_slots
from monitoring.services.bulk import CHUNK
from monitoring.services.campaigns import campaign_tasks_complete
from monitoring.services.lead_village import village_moves_audit

AUDIT_TYPE = "household_change"
REJECT_REASON_MAX = 500


@dataclass(frozen=True)
class ChangeProposal:
    """One change as an import (or a form) proposes it; ``before``/``after`` hold codes and ids."""

    kind: str
    household_id: int
    region_code: str  # the village of ``household``
    before: dict[str, Any]
    after: dict[str, Any]
    member_id: int | None = None
    target_household_id: int | None = None

    @property
    def slot(self) -> tuple[str, int]:
        """What at most one pending change may hold (the database's partial unique constraints)."""
        if self.kind in MOVE_KINDS:
            return ("move", self.member_id or 0)
        if self.kind == ChangeKind.REMOVAL:
            return ("removal", self.member_id or 0)
        return ("type", self.household_id)


@dataclass
class ProposeOutcome:
    created: int = 0
    revised: int = 0
    unchanged: int = 0
    ids: list[int] = field(default_factory=list)

    @property
    def pending(self) -> int:
        return self.created + self.revised + self.unchanged


def _audit_values(values: dict[str, Any]) -> dict[str, Any]:
    """A change's values as its audit row keeps them: the 身份证号 the change holds (to recognise the
    person in later imports) masked, as every stored copy of personal data outside the registry is."""
    if values.get("id_number"):
        return {**values, "id_number": mask_id(str(values["id_number"]))}
    return values


@transaction.atomic
def household_changes_propose(
    *,
    proposals: Sequence[ChangeProposal],
    actor: Any | None,
    source: str = ChangeSource.IMPORT,
    import_job_id: int | None = None,
) -> ProposeOutcome:
    """Record ``proposals`` as pending changes: a slot (a member's move, a member's removal, a
    household's 户类型) that already holds a pending change gets the new proposal in place of the
    old one (an import sent again changes nothing); set-based, a fixed number of queries per chunk.
    Each new or revised change writes a ``propose`` audit row."""
    outcome = ProposeOutcome()
    actor = actor if actor is not None and getattr(actor, "pk", None) else None
    for start in range(0, len(proposals), CHUNK):
        _propose_chunk(proposals[start : start + CHUNK], actor, source, import_job_id, outcome)
    return outcome


def _propose_chunk(
    proposals: Sequence[ChangeProposal],
    actor: Any | None,
    source: str,
    import_job_id: int | None,
    outcome: ProposeOutcome,
) -> None:
    existing = household_changes_in_slots(proposals=proposals, lock=True)
    new: list[HouseholdChange] = []
    revised: list[HouseholdChange] = []
    for p in proposals:
        old = existing.get(p.slot)
        if old is not None:
            outcome.ids.append(old.pk)
            if change_proposes_the_same(old, p):
                outcome.unchanged += 1
                continue
            old.kind, old.target_household_id, old.before, old.after = (
                p.kind,
                p.target_household_id,
                p.before,
                p.after,
            )
            old.import_job_id, old.proposed_by, old.source = import_job_id, actor, source
            revised.append(old)
            continue
        new.append(
            HouseholdChange(
                kind=p.kind,
                household_id=p.household_id,
                target_household_id=p.target_household_id,
                member_id=p.member_id,
                region_code=p.region_code,
                before=p.before,
                after=p.after,
                source=source,
                import_job_id=import_job_id,
                proposed_by=actor,
            )
        )
    if new:
        HouseholdChange.objects.bulk_create(new)
        outcome.ids.extend(c.pk for c in new)
    if revised:
        HouseholdChange.objects.bulk_update(
            revised, ["kind", "target_household", "before", "after", "import_job", "proposed_by", "source"]
        )
    outcome.created += len(new)
    outcome.revised += len(revised)
    written = new + revised
    if written:
        AuditEntry.objects.bulk_create(
            [
                AuditEntry(
                    actor=actor,
                    object_type=AUDIT_TYPE,
                    object_id=str(c.pk),
                    region_code=c.region_code,
                    action="propose",
                    to_state=ChangeState.PENDING,
                    data={
                        "kind": c.kind,
                        "before": _audit_values(c.before),
                        "after": c.after,
                        "import_job": import_job_id,
                    },
                )
                for c in written
            ]
        )
        state_changes_follow(object_type=AUDIT_TYPE, region_codes=sorted({c.region_code for c in written}))


def household_changes_follow(
    *, household_ids: Sequence[int], actor: Any | None, import_job_id: int | None = None
) -> int:
    """The pending changes that start from these households (``region_code``: the origin's village)
    take their household's village when an import moved it, so the county the household now
    belongs to sees and decides them, as it does the household's leads: the rows locked, one UPDATE,
    a ``move`` audit row each (from and to which village, by which import).  In the caller's
    transaction.  Returns how many changes moved."""
    moving = list(
        HouseholdChange.objects.pending()
        .select_for_update(of=("self",))
        .filter(household_id__in=household_ids)
        .exclude(region_code=F("household__village_id"))
        .values_list("id", "region_code", "household__village_id")
    )
    if not moving:
        return 0
    HouseholdChange.objects.filter(pk__in=[pk for pk, _, _ in moving]).update(
        region_code=Subquery(Household.objects.filter(pk=OuterRef("household_id")).values("village_id")[:1])
    )
    village_moves_audit(
        object_type=AUDIT_TYPE,
        moves=[(pk, old, new, ChangeState.PENDING.value) for pk, old, new in moving],
        actor=actor,
        import_job_id=import_job_id,
    )
    return len(moving)


# --- deciding --------------------------------------------------------------------------------


def _decidable(*, actor: Any, change_id: int) -> HouseholdChange:
    """The change, locked, if ``actor`` may decide it (county role, in scope) and it is pending."""
    if not role_can(effective_role(actor), Permission.DECIDE_HOUSEHOLD_CHANGES):
        raise PermissionDenied("只有县级乡村振兴部门可以审核农户变更。")
    try:
        change = HouseholdChange.objects.for_user(actor).select_for_update().get(pk=change_id)
    except HouseholdChange.DoesNotExist:
        raise ObjectOutOfScope("农户变更") from None
    if change.state != ChangeState.PENDING:
        # the state labels say 已… themselves (已同意, 已驳回)
        raise TransitionNotAllowed(f"该变更{change.get_state_display()}，不能重复审核。")
    return change


def _decided(change: HouseholdChange, *, actor: Any, state: str, reason: str) -> None:
    change.state = state
    change.decided_by = actor
    change.decided_at = timezone.now()
    change.decision_reason = reason
    change.save(update_fields=["state", "decided_by", "decided_at", "decision_reason"])
    audit_record(
        actor=actor,
        object_type=AUDIT_TYPE,
        object_id=change.pk,
        region_code=change.region_code,
        action="accept" if state == ChangeState.ACCEPTED else "reject",
        from_state=ChangeState.PENDING,
        to_state=state,
        reason=reason,
        data={"kind": change.kind, "before": _audit_values(change.before), "after": change.after},
    )


@transaction.atomic
def household_change_accept(*, actor: Any, change_id: int) -> HouseholdChange:
    """Apply a pending change and mark it accepted (audited).  The change row, the households it
    names and its member are locked first, so two accepts (two submits, two people) apply it once:
    the second finds it decided and is refused.  A registry that changed since the proposal
    (the member left its household, the 户类型 was changed otherwise) refuses with the reason."""
    change = _decidable(actor=actor, change_id=change_id)
    household_ids = sorted({change.household_id, *([change.target_household_id] if change.target_household_id else [])})
    households = {
        h.pk: h
        for h in Household.objects.for_user(actor).select_for_update().filter(pk__in=household_ids).order_by("pk")
    }
    if set(households) != set(household_ids):
        raise ObjectOutOfScope("迁入农户")
    member = None
    if change.member_id is not None:
        member = Member.objects.select_for_update().filter(pk=change.member_id).first()
    if change.kind in MOVE_KINDS:
        _move_apply(change, member, households)
    elif change.kind == ChangeKind.TYPE:
        _type_apply(change, households[change.household_id])
    else:
        _removal_apply(change, member, actor=actor)
        if member is not None and "id_number" not in change.before:
            # proposed before the 身份证号 was kept: the accepted change is the record that the
            # person left the registry (a later import of them is refused or unchanged)
            change.before = {**change.before, "id_number": member.id_number}
            change.save(update_fields=["before"])
    _decided(change, actor=actor, state=ChangeState.ACCEPTED, reason="")
    # the registry changed: the households' open 回头看/信息采集 tasks are done by 数据更新
    campaign_tasks_complete(
        household_ids=household_ids, via=TaskDoneVia.DATA_UPDATE, on=timezone.localdate(), actor=actor
    )
    return change


def _stale(message: str) -> ValidationError:
    return ValidationError(f"{message}登记已在变更提出后改变，请驳回本变更，必要时重新导入。")


def _move_apply(change: HouseholdChange, member: Member | None, households: dict[int, Household]) -> None:
    if member is None:
        raise _stale("该成员已不在系统中，")
    if member.household_id != change.household_id:
        raise _stale(f"该成员已不在原户 {households[change.household_id].household_no}，")
    if member.status != MemberStatus.ACTIVE:
        raise _stale(f"该成员已登记为{member.get_status_display()}，")
    target = households[change.target_household_id or 0]
    relation = str(change.after.get("relation") or member.relation)
    if relation == Relation.HEAD:
        head = (
            Member.objects.current()
            .filter(household_id=target.pk, relation=Relation.HEAD)
            .exclude(pk=member.pk)
            .first()
        )
        if head is not None:
            raise ValidationError(
                f"户编号 {target.household_no} 已有户主 {head.name}，该成员不能作为户主迁入；"
                "请驳回本变更，先调整该户户主后重新导入。"
            )
    member.household_id = target.pk
    member.relation = relation
    member.save(update_fields=["household", "relation"])


def _type_apply(change: HouseholdChange, household: Household) -> None:
    if (household.household_type, household.exit_year) != (
        change.before.get("household_type"),
        change.before.get("exit_year"),
    ):
        raise _stale(f"户编号 {household.household_no} 的户类型")
    household.household_type = str(change.after["household_type"])
    household.exit_year = change.after.get("exit_year") if household.household_type == HouseholdType.EXITED else None
    household.save(update_fields=["household_type", "exit_year", "updated_at"])


def _removal_apply(change: HouseholdChange, member: Member | None, *, actor: Any) -> None:
    """A death or removal keeps the member's row with its status (死亡/注销), the date and the
    change: no current member any more (size, 户主, labour, screening, name search, roster matching
    leave them out), their expenditures keep ``member_id`` (the 医疗 maximum stays per person), the
    member's matched 民政 roster lines become 未匹配 and their other pending changes are rejected
    with the reason (audited).  Department alerts stay matched to them (decision record
    2026-12-04-member-departure.md)."""
    if member is None:
        raise _stale("该成员已不在系统中，")
    if member.household_id != change.household_id:
        raise _stale(f"该成员已不在原户（变更提出时户 {change.before.get('household_no', '')}），")
    if member.status != MemberStatus.ACTIVE:
        raise _stale(f"该成员已登记为{member.get_status_display()}，")
    others = list(
        HouseholdChange.objects.pending().select_for_update().filter(member_id=member.pk).exclude(pk=change.pk)
    )
    status_code = str(change.after.get("status") or MemberStatus.REMOVED)
    if status_code not in (MemberStatus.DECEASED, MemberStatus.REMOVED):
        status_code = MemberStatus.REMOVED
    status = MemberStatus(status_code).label
    for other in others:
        _decided(other, actor=actor, state=ChangeState.REJECTED, reason=f"该成员已{status}（变更 {change.pk} 已同意）")
    member.status = status_code
    member.departed_on = timezone.localdate()
    member.departure_change = change
    member.save(update_fields=["status", "departed_on", "departure_change"])
    audit_record(
        actor=actor,
        object_type="member",
        object_id=member.pk,
        region_code=change.region_code,
        action="depart",
        from_state=MemberStatus.ACTIVE,
        to_state=status_code,
        reason=f"农户变更 {change.pk} 已同意",
        data={"household_change": change.pk, "household_id": member.household_id},
    )
    _matches_release(change, member, actor=actor, status=status)


# What a matched 民政 roster line becomes when its member dies or is removed: 未匹配, scoped back
# to its submitting unit like any unmatched line, audited (decision record
# 2026-12-03-household-changes-reviewed.md); a departed member matches no new roster line either.
# Department alerts (and 医保 lines) stay with the member: the spending was the household's
# (decision record 2026-12-04-member-departure.md).
def _matches_release(change: HouseholdChange, member: Member, *, actor: Any, status: str) -> None:
    reason = f"匹配成员{member.name}已{status}（农户变更 {change.pk} 已同意），改为未匹配"
    lines = list(AssistanceEntry.objects.select_for_update().filter(member_id=member.pk).order_by("pk"))
    for line in lines:
        object_type = "assistance_entry"
        was = line.region_code
        line.member_id = None
        line.status = AlertStatus.UNMATCHED
        line.region_code = line.scope_code
        line.save(update_fields=["member", "status", "region_code", "updated_at"])
        audit_record(
            actor=actor,
            object_type=object_type,
            object_id=line.pk,
            region_code=was,
            action="member_removed",
            from_state=AlertStatus.MATCHED,
            to_state=AlertStatus.UNMATCHED,
            reason=reason,
            data={"member_id": member.pk, "household_change": change.pk, "region_code": line.region_code},
        )


@transaction.atomic
def household_change_reject(*, actor: Any, change_id: int, reason: str) -> HouseholdChange:
    """Reject a pending change with ``reason`` (required, audited); nothing in the registry changes."""
    change = _decidable(actor=actor, change_id=change_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写驳回理由。"})
    if len(reason) > REJECT_REASON_MAX:
        raise ValidationError({"reason": f"驳回理由不能超过 {REJECT_REASON_MAX} 个字。"})
    _decided(change, actor=actor, state=ChangeState.REJECTED, reason=reason)
    return change
