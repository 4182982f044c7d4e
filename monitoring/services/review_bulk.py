"""``lead_raise_or_merge`` for many households at once (issue 8: a batch of department alerts).

Same outcome as calling :func:`monitoring.services.review.lead_raise_or_merge` once per household
(active targets get no lead; an open lead gets the source and the evidence entries appended; other
households get a new 待核实 lead; every raise and merge audited), in a fixed number of queries per
batch: targets, open leads (locked), households, one bulk insert, one bulk update, one audit insert.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from fanpin.core.audit import state_changes_follow
from fanpin.core.models import AuditEntry
from monitoring.models import (
    MAX_RISK_TYPES,
    Household,
    HouseholdType,
    Lead,
    LeadSource,
    LeadState,
    MonitoringTarget,
    RiskType,
    TargetCategory,
    TargetStatus,
)
from monitoring.services.review import lead_raise_or_merge


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


def _risks(values: set[str]) -> list[str]:
    return [r for r in RiskType.values if r in values]


@transaction.atomic
def leads_raise_or_merge_many(
    *, requests: Sequence[LeadRequest], source: str, actor: Any = None, year: int | None = None
) -> BulkLeadOutcome:
    outcome = BulkLeadOutcome()
    by_household: dict[int, LeadRequest] = {}
    for req in requests:
        have = by_household.setdefault(req.household_id, LeadRequest(req.household_id, []))
        have.evidence += req.evidence
        have.risk_types |= req.risk_types
    if not by_household:
        return outcome
    ids = list(by_household)
    targets = set(
        MonitoringTarget.objects.filter(household_id__in=ids, status=TargetStatus.ACTIVE).values_list(
            "household_id", flat=True
        )
    )
    outcome.skipped_targets = len(targets)
    ids = [i for i in ids if i not in targets]
    now = timezone.now()
    stamp = now.isoformat()
    open_leads = {
        lead.household_id: lead
        for lead in Lead.objects.open().filter(household_id__in=ids).select_for_update(of=("self",))
    }
    households = dict(Household.objects.filter(pk__in=ids).values_list("pk", "village_id"))
    types = dict(Household.objects.filter(pk__in=ids).values_list("pk", "household_type"))
    new: list[Lead] = []
    for hid in ids:
        if hid in open_leads:
            continue
        req = by_household[hid]
        category = (
            TargetCategory.UNSTABLE_EXITED if types.get(hid) == HouseholdType.EXITED else TargetCategory.SUDDEN_HARDSHIP
        )
        new.append(
            Lead(
                household_id=hid,
                state=LeadState.NEW,
                sources=[source],
                evidence={source: [{**e, "at": stamp} for e in req.evidence]},
                suggested_category=category.value,
                suggested_risk_types=_risks(req.risk_types)[:MAX_RISK_TYPES],
                year=year or timezone.localdate().year,
                raised_at=now,
            )
        )
    try:
        with transaction.atomic():
            Lead.objects.bulk_create(new)
    except IntegrityError:
        # Another source raised a lead for one of these households meanwhile: fall back to the
        # one-household path, which merges into it.
        for lead in new:
            req = by_household[lead.household_id]
            for entry in req.evidence:
                lead_raise_or_merge(
                    household_id=req.household_id,
                    source=source,
                    evidence=entry,
                    actor=actor,
                    year=year,
                    suggested_risk_types=_risks(req.risk_types),
                )
        new = []
    for lead in open_leads.values():
        req = by_household[lead.household_id]
        lead.sources = sorted({*(lead.sources or []), source})
        evidence_all = dict(lead.evidence or {})
        previous = evidence_all.get(source)
        items = previous if isinstance(previous, list) else ([previous] if previous else [])
        evidence_all[source] = [*items, *({**e, "at": stamp} for e in req.evidence)]
        lead.evidence = evidence_all
        merged = _risks({*(lead.suggested_risk_types or []), *req.risk_types})
        lead.suggested_risk_types = merged[:MAX_RISK_TYPES]
        lead.refreshed_at = now
    if open_leads:
        Lead.objects.bulk_update(
            list(open_leads.values()), ["sources", "evidence", "suggested_risk_types", "refreshed_at"], batch_size=500
        )
    actor_id = actor.pk if actor is not None and getattr(actor, "pk", None) else None
    entries = [
        AuditEntry(
            actor_id=actor_id,
            object_type="lead",
            object_id=str(lead.pk),
            region_code=households.get(lead.household_id, ""),
            action=action,
            from_state="" if action == "raise" else lead.state,
            to_state=lead.state,
            data={"source": source},
        )
        for action, leads in (("raise", new), ("merge", list(open_leads.values())))
        for lead in leads
    ]
    AuditEntry.objects.bulk_create(entries, batch_size=1000)
    if entries:
        # these audit rows bypass ``audit_record``: tell its followers (the villages' dashboards expire)
        state_changes_follow(object_type="lead", region_codes=sorted({entry.region_code for entry in entries}))
    outcome.raised = len(new)
    outcome.merged = len(open_leads)
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
