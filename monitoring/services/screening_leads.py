"""Turning fired rows into leads (SPEC 4.2 suggestions, 4.3 idempotency), in batches.

Per fired household the rule of ``monitoring.services.lead_decision.lead_decide`` (target → skip,
open lead → refresh, rejected this year with nothing new → skip, else a new lead); the evidence of
each fired rule is its declaration's (``monitoring.models.screening_rules``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef

from fanpin.core.audit import state_changes_follow
from fanpin.core.models import AuditEntry
from fanpin.core.regions import county_code_of
from monitoring.models import (
    Household,
    Lead,
    LeadSource,
    LeadState,
    MonitoringTarget,
    RigidExpenditure,
    TargetStatus,
)
from monitoring.models.screening_rules import RuleSettings, risk_types_suggest, screening_rule, screening_rules
from monitoring.selectors.screening_sql import (
    FiredRow,
    code_bounds,
)
from monitoring.services.lead_decision import LeadAction, OpenLead, Rejection, Signal, lead_decide

BATCH = 1000
OUTCOMES = ("raised", "refreshed", "skipped_target", "skipped_rejected")
OUTCOME_OF = {
    LeadAction.CREATE: "raised",
    LeadAction.MERGE: "refreshed",
    LeadAction.SKIP_TARGET: "skipped_target",
    LeadAction.SKIP_REJECTED: "skipped_rejected",
}


def rules_of(row: FiredRow) -> list[str]:
    return list(row.fired)


def evidence_of(row: FiredRow, rules: RuleSettings) -> dict[str, dict[str, Any]]:
    """The figures that made each rule fire, by rule code, as each declaration computes them
    (money as strings of yuan with two decimals)."""
    result: dict[str, dict[str, Any]] = {}
    for code in row.fired:
        rule = screening_rule(code)
        if rule is not None:
            result[code] = rule.evidence(row.figures, rules)
    return result


def suggested_risk_types(*, oop_fen: dict[str, int], member_flags: int) -> list[str]:
    """SPEC 4.2 (``risk_types_suggest``): from expenditure categories with out-of-pocket spending in Y,
    members' health, and labor capacity; at most 5, in RiskType order."""
    return risk_types_suggest(oop_fen=oop_fen, member_flags=member_flags)


@dataclass
class LeadOutcome:
    per_rule: dict[str, dict[str, int]] = field(
        default_factory=lambda: {rule.code: dict.fromkeys(OUTCOMES, 0) for rule in screening_rules()}
    )
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))

    def add(self, outcome: str, rules: Iterable[str]) -> None:
        self.totals[outcome] += 1
        for rule in rules:
            self.per_rule.setdefault(rule, dict.fromkeys(OUTCOMES, 0))[outcome] += 1


def as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        value = json.loads(value)
    return list(value or [])


def json_value(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def leads_write(
    *,
    prefix: str,
    year: int,
    run_id: int,
    fired: list[FiredRow],
    rules: RuleSettings,
    now: dt.datetime,
    id_range: tuple[int, int] | None = None,
    actor_id: int | None = None,
) -> LeadOutcome:
    """Apply SPEC 4.3 to the fired households of one county: three reads (active targets, open
    leads, this year's rejections), then one INSERT / UPDATE per batch of 1 000 leads, and one
    statement writing the audit row (``raise``, → 待核实) of every lead raised."""
    outcome = LeadOutcome()
    lo, hi = code_bounds(prefix)
    in_scope: dict[str, Any] = {"household__village_id__gte": lo, "household__village_id__lte": hi}
    if id_range is not None:  # the same households, found through the (household, state) index
        in_scope.update(household_id__gte=id_range[0], household_id__lte=id_range[1])
    active_targets = set(
        MonitoringTarget.objects.filter(status=TargetStatus.ACTIVE, **in_scope).values_list("household_id", flat=True)
    )
    open_leads = {
        household_id: (pk, OpenLead(as_list(sources), json_value(evidence) or {}, as_list(risks), category, []))
        for pk, household_id, sources, evidence, risks, category in Lead.objects.open()
        .filter(**in_scope)
        .values_list("pk", "household_id", "sources", "evidence", "suggested_risk_types", "suggested_category")
    }
    # The latest rejection this year per household, and whether rigid expenditure arrived since.
    rejected: dict[int, Rejection] = {}
    newer_expenditure = RigidExpenditure.objects.filter(
        household_id=OuterRef("household_id"), created_at__gt=OuterRef("decided_at")
    )
    for household_id, rules_fired, has_new in (
        Lead.objects.filter(state=LeadState.REJECTED, year=year, **in_scope)
        .annotate(has_new=Exists(newer_expenditure))
        .order_by("household_id", "decided_at", "id")
        .values_list("household_id", "rules_fired", "has_new")
    ):
        rejected[household_id] = Rejection(as_list(rules_fired), bool(has_new))  # the latest wins

    to_create: list[tuple[Any, ...]] = []
    to_update: list[tuple[Any, ...]] = []
    screening = LeadSource.SCREENING.value
    for row in fired:
        fired_rules = list(row.fired)
        existing = open_leads.get(row.household_id)
        active_target = row.household_id in active_targets
        signal = Signal(
            source=screening,
            household_type=row.household_type,
            evidence=[] if active_target else [{"year": year, "run": run_id, "rules": evidence_of(row, rules)}],
            risk_types=suggested_risk_types(oop_fen=row.oop_fen, member_flags=row.member_flags),
            rules_fired=fired_rules,
        )
        decision = lead_decide(
            signal=signal,
            active_target=active_target,
            open_lead=existing[1] if existing is not None else None,
            rejection=rejected.get(row.household_id),
        )
        outcome.add(OUTCOME_OF[decision.action], fired_rules)
        written = (
            json.dumps(decision.rules_fired),
            json.dumps(decision.evidence, ensure_ascii=False),
            decision.category,
            json.dumps(decision.risk_types),
        )
        if decision.action == LeadAction.MERGE and existing is not None:
            # no digest: the evidence was computed here, so the next staged run writes the lead once
            to_update.append((existing[0], json.dumps(decision.sources), *written, ""))
        elif decision.action == LeadAction.CREATE:
            to_create.append((row.household_id, *written))
    for start in range(0, len(to_create), BATCH):
        _leads_insert(to_create[start : start + BATCH], year=year, run_id=run_id, now=now)
    for start in range(0, len(to_update), BATCH):
        leads_refresh(to_update[start : start + BATCH], run_id=run_id, now=now)
    if to_create:
        raised_leads_audit(run_id=run_id, now=now, actor_id=actor_id, id_range=id_range)
    if to_create or to_update:
        # the audit rows above bypass ``audit_record``: tell its followers (the county's dashboards expire)
        state_changes_follow(object_type="lead", region_codes=[county_code_of(prefix)])
    return outcome


def raised_leads_audit(
    *, run_id: int, now: dt.datetime, actor_id: int | None, id_range: tuple[int, int] | None
) -> None:
    """One audit row per lead this call raised (the leads of this run with ``raised_at = now``),
    as ``lead_raise_or_merge`` writes for the other sources: action ``raise``, → NEW, the source,
    the run and the rules.  One INSERT … SELECT, so the cost does not grow with Python loops."""
    audit, lead = AuditEntry._meta.db_table, Lead._meta.db_table
    if connection.vendor == "postgresql":
        object_id = "CAST(l.id AS VARCHAR(64))"
        data = "jsonb_build_object('source', %(source)s, 'run', l.last_run_id, 'rules', l.rules_fired)"
    else:
        object_id = "CAST(l.id AS TEXT)"
        data = "json_object('source', %(source)s, 'run', l.last_run_id, 'rules', json(l.rules_fired))"
    narrow = "AND l.household_id BETWEEN %(lo)s AND %(hi)s" if id_range is not None else ""
    sql = f"""
        INSERT INTO {audit} (actor_id, at, object_type, object_id, region_code, action,
                             from_state, to_state, reason, data)
        SELECT %(actor)s, %(now)s, 'lead', {object_id}, l.village_id, 'raise', '', %(state)s, '', {data}
        FROM {lead} l
        WHERE l.last_run_id = %(run)s AND l.raised_at = %(now)s {narrow}
    """  # noqa: S608  # nosec B608
    params = {
        "actor": actor_id,
        "now": now,
        "source": LeadSource.SCREENING.value,
        "state": LeadState.NEW.value,
        "run": run_id,
        "lo": id_range[0] if id_range else None,
        "hi": id_range[1] if id_range else None,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def json_cast() -> str:
    return "CAST({} AS jsonb)" if connection.vendor == "postgresql" else "{}"


def _leads_insert(rows: list[tuple[Any, ...]], *, year: int, run_id: int, now: dt.datetime) -> None:
    """One ``COPY`` (PostgreSQL) or multi-row INSERT (SQLite) per batch; no model instances (the ORM's
    per-field preparation cost more than the database).  SQL from constants only; values are data."""
    table = Lead._meta.db_table
    sources = json.dumps([LeadSource.SCREENING.value])
    villages = dict(Household.objects.filter(pk__in=[row[0] for row in rows]).values_list("pk", "village_id"))
    columns = (
        "household_id, village_id, state, sources, rules_fired, evidence, suggested_category, "
        "suggested_risk_types, year, raised_at, last_run_id, rejection_reason"
    )
    if connection.vendor == "postgresql":
        # COPY is about twice as fast as a 1 000-row INSERT … VALUES (no statement to parse).
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for household_id, rules_fired, evidence, category, risks in rows:
            village = villages[household_id]
            head = [household_id, village, LeadState.NEW.value, sources, rules_fired, evidence, category, risks]
            writer.writerow([*head, year, now.isoformat(), run_id, ""])
        buffer.seek(0)
        with connection.cursor() as cursor, connection.wrap_database_errors:  # Django's errors, as any statement's
            cursor.cursor.copy_expert(
                f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (rejection_reason))", buffer
            )
        return
    j = json_cast()
    row_sql = (
        f"(%s, %s, %s, {j.format('%s')}, {j.format('%s')}, {j.format('%s')}, %s, {j.format('%s')}, %s, %s, %s, '')"
    )
    params: list[Any] = []
    for household_id, rules_fired, evidence, category, risks in rows:
        params += [
            household_id,
            villages[household_id],
            LeadState.NEW.value,
            sources,
            rules_fired,
            evidence,
            category,
            risks,
            year,
            now,
            run_id,
        ]
    sql = f"""
        INSERT INTO {table} ({columns})
        VALUES {", ".join([row_sql] * len(rows))}
    """  # noqa: S608  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def leads_refresh(rows: list[tuple[Any, ...]], *, run_id: int, now: dt.datetime) -> None:
    """One ``UPDATE … FROM (VALUES …)`` per batch (``bulk_update``'s CASE per row is far slower):
    rows of (id, sources, rules, evidence, category, risk types, digest).  SQL from constants only;
    all values are bound parameters."""
    table = Lead._meta.db_table
    j = json_cast()
    params: list[Any] = [now, run_id]
    for row in rows:
        params += row
    sql = f"""
        UPDATE {table} SET refreshed_at = %s, last_run_id = %s,
            sources = {j.format("v.column2")}, rules_fired = {j.format("v.column3")},
            evidence = {j.format("v.column4")}, suggested_category = v.column5,
            suggested_risk_types = {j.format("v.column6")}, screening_digest = v.column7
        FROM (VALUES {", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(rows))}) AS v
        WHERE {table}.id = v.column1
    """  # noqa: S608  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
