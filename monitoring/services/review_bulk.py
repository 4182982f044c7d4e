"""Raising leads from the sources other than screening, for many households at once.

``leads_raise_or_merge_many`` applies the one lead rule (``monitoring.services.lead_decision``) to
each household of a batch — active targets get no lead; an open lead gets the source and the
evidence entries appended; other households get a new 待核实 lead; every raise and merge audited —
in a fixed number of queries per batch: households, targets, open leads (locked), one bulk insert,
one bulk update, one audit insert.  ``monitoring.services.review.lead_raise_or_merge`` is this call
with one household (visits, applications, self-reports); department alerts come in batches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from fanpin.core.audit import state_changes_follow
from fanpin.core.models import AuditEntry
from monitoring.models import Household, Lead, LeadSource, LeadState, MonitoringTarget, TargetStatus
from monitoring.services.lead_decision import LeadAction, LeadDecision, OpenLead, Signal, lead_decide
from monitoring.services.lead_village import counties_lock_read


@dataclass
class LeadRequest:
    household_id: int
    evidence: list[dict[str, Any]]  # one entry per alert
    risk_types: set[str] = field(default_factory=set)


@dataclass
class BulkLeadOutcome:
    raised: int = 0
    merged: int = 0
    skipped_targets: int = 0
    leads: dict[int, Lead] = field(default_factory=dict)  # household id → the lead raised or merged into


def _open_lead(lead: Lead) -> OpenLead:
    return OpenLead(
        sources=list(lead.sources or []),
        evidence=dict(lead.evidence or {}),
        risk_types=list(lead.suggested_risk_types or []),
        category=lead.suggested_category,
        rules_fired=list(lead.rules_fired or []),
    )


def _apply(lead: Lead, decision: LeadDecision) -> None:
    lead.sources = decision.sources
    lead.evidence = decision.evidence
    lead.suggested_risk_types = decision.risk_types
    lead.suggested_category = decision.category
    lead.rules_fired = decision.rules_fired


MERGED_FIELDS = ["sources", "evidence", "suggested_risk_types", "suggested_category", "rules_fired", "refreshed_at"]


def _locked_open_leads(household_ids: Sequence[int]) -> dict[int, Lead]:
    return {
        lead.household_id: lead
        for lead in Lead.objects.open().filter(household_id__in=household_ids).select_for_update(of=("self",))
    }


def _households_locked(ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """Village and type of each household, read under the lock of its county (``counties_lock``):
    the village a new lead copies is the household's until this transaction ends."""

    def read() -> dict[int, tuple[str, str]]:
        rows = Household.objects.filter(pk__in=ids).values_list("pk", "village_id", "household_type")
        return {pk: (village, kind) for pk, village, kind in rows}

    return counties_lock_read(read=read, village=lambda row: row[0])


@transaction.atomic
def leads_raise_or_merge_many(
    *, requests: Sequence[LeadRequest], source: str, actor: Any = None, year: int | None = None
) -> BulkLeadOutcome:
    """Raise or merge one lead per household of ``requests`` (several requests of one household are
    one signal).  A household id that does not exist raises ``Household.DoesNotExist``."""
    if source not in LeadSource.values:
        raise ValidationError(f"未知的线索来源：{source}")
    outcome = BulkLeadOutcome()
    by_household: dict[int, LeadRequest] = {}
    for req in requests:
        have = by_household.setdefault(req.household_id, LeadRequest(req.household_id, []))
        have.evidence += req.evidence
        have.risk_types |= req.risk_types
    if not by_household:
        return outcome
    ids = list(by_household)
    households = _households_locked(ids)
    unknown = [i for i in ids if i not in households]
    if unknown:
        raise Household.DoesNotExist(f"农户不存在：{'、'.join(map(str, unknown))}")
    targets = set(
        MonitoringTarget.objects.filter(household_id__in=ids, status=TargetStatus.ACTIVE).values_list(
            "household_id", flat=True
        )
    )
    now = timezone.now()
    stamp = now.isoformat()
    open_leads = _locked_open_leads([i for i in ids if i not in targets])

    def decide(hid: int, open_lead: Lead | None) -> LeadDecision:
        req = by_household[hid]
        signal = Signal(
            source=source,
            household_type=households[hid][1],
            evidence=req.evidence,
            risk_types=req.risk_types,
            at=stamp,
        )
        return lead_decide(
            signal=signal,
            active_target=hid in targets,
            open_lead=_open_lead(open_lead) if open_lead is not None else None,
        )

    new: list[Lead] = []
    merged: list[Lead] = []
    for hid in ids:
        decision = decide(hid, open_leads.get(hid))
        if decision.action == LeadAction.SKIP_TARGET:
            outcome.skipped_targets += 1
        elif decision.action == LeadAction.MERGE:
            lead = open_leads[hid]
            _apply(lead, decision)
            lead.refreshed_at = now
            merged.append(lead)
        elif decision.action == LeadAction.CREATE:
            lead = Lead(
                household_id=hid,
                village_id=households[hid][0],
                state=LeadState.NEW,
                year=year or timezone.localdate().year,
                raised_at=now,
            )
            if source == LeadSource.SELF_APPLICATION:  # the household's own application is 受理 as it is filed
                lead.accepted_on = timezone.localdate(now)
            _apply(lead, decision)
            new.append(lead)
    try:
        with transaction.atomic():
            Lead.objects.bulk_create(new)
    except IntegrityError:
        # Another source raised a lead for some of these households meanwhile (one open lead per
        # household): each on its own, merging into the lead that won.
        created: list[Lead] = []
        for lead in new:
            try:
                with transaction.atomic():
                    lead.save(force_insert=True)
                created.append(lead)
            except IntegrityError:
                lead.pk = None
                winner = _locked_open_leads([lead.household_id]).get(lead.household_id)
                if winner is None:
                    raise
                _apply(winner, decide(lead.household_id, winner))
                winner.refreshed_at = now
                merged.append(winner)
        new = created
    if merged:
        Lead.objects.bulk_update(merged, MERGED_FIELDS, batch_size=500)
    actor_id = actor.pk if actor is not None and getattr(actor, "pk", None) else None
    entries = [
        AuditEntry(
            actor_id=actor_id,
            object_type="lead",
            object_id=str(lead.pk),
            region_code=households[lead.household_id][0],
            action=action,
            from_state="" if action == "raise" else lead.state,
            to_state=lead.state,
            data={"source": source},
        )
        for action, leads in (("raise", new), ("merge", merged))
        for lead in leads
    ]
    AuditEntry.objects.bulk_create(entries, batch_size=1000)
    if entries:
        # these audit rows bypass ``audit_record``: tell its followers (the villages' dashboards expire)
        state_changes_follow(object_type="lead", region_codes=sorted({entry.region_code for entry in entries}))
    outcome.raised = len(new)
    outcome.merged = len(merged)
    outcome.leads = {lead.household_id: lead for lead in (*new, *merged)}
    return outcome


def group_requests(items: Sequence[tuple[int, dict[str, Any], set[str]]]) -> list[LeadRequest]:
    grouped: dict[int, LeadRequest] = defaultdict(lambda: LeadRequest(0, []))
    for household_id, entry, risks in items:
        req = grouped[household_id]
        req.household_id = household_id
        req.evidence.append(entry)
        req.risk_types |= risks
    return list(grouped.values())


__all__ = ["BulkLeadOutcome", "LeadRequest", "LeadSource", "group_requests", "leads_raise_or_merge_many"]
