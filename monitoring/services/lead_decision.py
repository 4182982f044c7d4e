"""The one rule by which any source raises a lead (SPEC 4.3, §5), as a pure function.

For one household and one new signal (a source with its evidence):

1. the household is an active monitoring target → nothing (``SKIP_TARGET``);
2. it has an open lead → merge into it (``MERGE``): the source joins the sources, the evidence is
   added under the source, risk types are united (SPEC order, at most 5), and a signal that says
   which screening rules fired replaces the lead's rules and its suggested category;
3. it has a lead rejected this year and the signal brings nothing new — no rule that did not fire
   before, no rigid expenditure recorded since the rejection (only screening passes a rejection) →
   nothing (``SKIP_REJECTED``);
4. otherwise a new 待核实 lead (``CREATE``).

Evidence is kept per source: a snapshot source (screening: ``{"year", "run", "rules"}``) replaces
its entry; every other source appends its entries, each stamped with ``at``.

No database here: the writers read what the rule needs in a fixed number of queries and write
what it says — ``monitoring.services.review_bulk.leads_raise_or_merge_many`` (visits, applications,
self-reports, department alerts; ``review.lead_raise_or_merge`` is the same call with one household)
and ``monitoring.services.screening_leads.leads_write`` (screening, in batches per county).
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from monitoring.models import MAX_RISK_TYPES, LeadSource, RiskType
from monitoring.models.screening_rules import category_suggest

# Sources whose evidence is one document refreshed by each run, not a list of entries.
SNAPSHOT_SOURCES = frozenset({LeadSource.SCREENING.value})


class LeadAction(enum.StrEnum):
    SKIP_TARGET = "skipped_target"
    SKIP_REJECTED = "skipped_rejected"
    MERGE = "merge"
    CREATE = "create"


@dataclass(frozen=True)
class OpenLead:
    """What the rule needs of the household's open lead."""

    sources: Sequence[str]
    evidence: Mapping[str, Any]
    risk_types: Sequence[str] = ()
    category: str = ""
    rules_fired: Sequence[str] = ()


@dataclass(frozen=True)
class Rejection:
    """The household's latest lead rejected this year: its rules, and whether rigid expenditure was
    recorded after the rejection."""

    rules_fired: Collection[str]
    new_expenditure: bool


@dataclass(frozen=True)
class Signal:
    """A source's news about one household.

    ``evidence``: the entries to add (for a snapshot source one document); ``rules_fired``: the
    screening rules that fired (``None`` for a source that does not judge rules); ``at``: the
    time stamped on appended entries (ISO text).
    """

    source: str
    household_type: str
    evidence: Sequence[Mapping[str, Any]]
    risk_types: Collection[str] = ()
    rules_fired: Sequence[str] | None = None
    at: str = ""


@dataclass(frozen=True)
class LeadDecision:
    """What to do; for MERGE and CREATE the lead's fields after the write."""

    action: LeadAction
    sources: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    risk_types: list[str] = field(default_factory=list)
    category: str = ""
    rules_fired: list[str] = field(default_factory=list)


def risk_types_ordered(values: Collection[str]) -> list[str]:
    """Risk types in the SPEC's order, at most ``MAX_RISK_TYPES``."""
    wanted = set(values)
    return [r for r in RiskType.values if r in wanted][:MAX_RISK_TYPES]


def _evidence_of_source(previous: Any, signal: Signal) -> Any:
    if signal.source in SNAPSHOT_SOURCES:
        return dict(signal.evidence[-1]) if signal.evidence else previous
    items = previous if isinstance(previous, list) else ([previous] if previous else [])
    return [*items, *({**entry, "at": signal.at} for entry in signal.evidence)]


def lead_decide(
    *, signal: Signal, active_target: bool, open_lead: OpenLead | None, rejection: Rejection | None = None
) -> LeadDecision:
    """The rule of the module doc for one household."""
    if active_target:
        return LeadDecision(LeadAction.SKIP_TARGET)
    rules = list(signal.rules_fired) if signal.rules_fired is not None else None
    if open_lead is not None:
        evidence = dict(open_lead.evidence or {})
        evidence[signal.source] = _evidence_of_source(evidence.get(signal.source), signal)
        return LeadDecision(
            LeadAction.MERGE,
            sources=sorted({*(open_lead.sources or []), signal.source}),
            evidence=evidence,
            risk_types=risk_types_ordered({*(open_lead.risk_types or []), *signal.risk_types}),
            category=(
                category_suggest(household_type=signal.household_type, rules_fired=rules)
                if rules is not None
                else open_lead.category
            ),
            rules_fired=rules if rules is not None else list(open_lead.rules_fired or []),
        )
    if rejection is not None and set(rules or ()) <= set(rejection.rules_fired) and not rejection.new_expenditure:
        return LeadDecision(LeadAction.SKIP_REJECTED)
    return LeadDecision(
        LeadAction.CREATE,
        sources=[signal.source],
        evidence={signal.source: _evidence_of_source(None, signal)},
        risk_types=risk_types_ordered(signal.risk_types),
        category=category_suggest(household_type=signal.household_type, rules_fired=rules or ()),
        rules_fired=rules or [],
    )
