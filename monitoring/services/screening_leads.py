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
    OPEN_LEAD_STATES,
    STAGE_TO_DECIDE,
    STAGE_UNCHANGED,
    FiredRow,
    RuleCounts,
    code_bounds,
    stage_compare_sql,
    stage_decide_sql,
    stage_digest_params,
    stage_texts,
)
from monitoring.services.lead_decision import LeadAction, OpenLead, Rejection, Signal, lead_decide

BATCH = 1000
OUTCOMES = ("raised", "refreshed", "skipped_target", "skipped_rejected")
_OUTCOME_OF = {
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


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        value = json.loads(value)
    return list(value or [])


def _json(value: Any) -> Any:
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
        household_id: (pk, OpenLead(_as_list(sources), _json(evidence) or {}, _as_list(risks), category, []))
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
        rejected[household_id] = Rejection(_as_list(rules_fired), bool(has_new))  # the latest wins

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
        outcome.add(_OUTCOME_OF[decision.action], fired_rules)
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
        _leads_refresh(to_update[start : start + BATCH], run_id=run_id, now=now)
    if to_create:
        _raised_leads_audit(run_id=run_id, now=now, actor_id=actor_id, id_range=id_range)
    if to_create or to_update:
        # the audit rows above bypass ``audit_record``: tell its followers (the county's dashboards expire)
        state_changes_follow(object_type="lead", region_codes=[county_code_of(prefix)])
    return outcome


def _raised_leads_audit(
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


def _json_cast() -> str:
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
    j = _json_cast()
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


def _leads_refresh(rows: list[tuple[Any, ...]], *, run_id: int, now: dt.datetime) -> None:
    """One ``UPDATE … FROM (VALUES …)`` per batch (``bulk_update``'s CASE per row is far slower):
    rows of (id, sources, rules, evidence, category, risk types, digest).  SQL from constants only;
    all values are bound parameters."""
    table = Lead._meta.db_table
    j = _json_cast()
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


# -- leads from the stage (``monitoring.selectors.screening_sql``): set-based, county by county ----
# The stage's fired rows of the county are decided with the rule of ``lead_decide`` written in SQL
# (``_STAGE_DECIDE``; ``tests/monitoring/test_screening_staged.py`` checks it against ``lead_decide``
# on random households, leads, targets and rejections): ``T`` active target → nothing, ``M`` open
# lead → merged by ``lead_decide`` itself (only leads whose digest changed get here), ``R`` rejected
# this year with nothing new → nothing, ``C`` → a new lead, written by one INSERT … SELECT with its
# texts rendered in SQL.  ``N`` (the open lead already carries the digest) is counted as refreshed
# and not written.
STAGE_OUTCOMES = {
    "C": "raised",
    STAGE_UNCHANGED: "refreshed",
    "M": "refreshed",
    "T": "skipped_target",
    "R": "skipped_rejected",
}


def _decide_sql(row: str) -> str:
    """The rule of ``lead_decide`` for a fired stage row ``row`` (under the county lock): ``T``,
    ``M``, ``R`` or ``C`` (see above)."""
    lead, target, expenditure = Lead._meta.db_table, MonitoringTarget._meta.db_table, RigidExpenditure._meta.db_table
    open_states = ", ".join(f"'{state}'" for state in OPEN_LEAD_STATES)
    active, rejected = TargetStatus.ACTIVE.value, LeadState.REJECTED.value
    if connection.vendor == "postgresql":
        had = lambda code: f"r.rules_fired @> CAST('{json.dumps([code])}' AS JSONB)"  # noqa: E731
    else:
        had = lambda code: f"EXISTS (SELECT 1 FROM json_each(r.rules_fired) j WHERE j.value = '{code}')"  # noqa: E731, S608  # nosec B608
    # nothing new: every rule that fires now fired in the rejected lead.  (``year + 0``: the household's
    # leads are found through (household, state), never by scanning every rejection of the year.)
    nothing_new = " AND ".join(f"({row}.f_{rule.key} = 0 OR {had(rule.code)})" for rule in screening_rules()) or "1 = 1"
    return f"""CASE
        WHEN EXISTS (SELECT 1 FROM {target} tg WHERE tg.household_id = {row}.hid AND tg.status = '{active}')
            THEN 'T'
        WHEN EXISTS (SELECT 1 FROM {lead} l WHERE l.household_id = {row}.hid AND l.state IN ({open_states}))
            THEN 'M'
        WHEN EXISTS (
            SELECT 1 FROM {lead} r
            WHERE r.id = (SELECT r2.id FROM {lead} r2
                          WHERE r2.household_id = {row}.hid AND r2.state = '{rejected}' AND r2.year + 0 = %(year)s
                          ORDER BY r2.decided_at DESC, r2.id DESC LIMIT 1)
              AND {nothing_new}
              AND NOT EXISTS (SELECT 1 FROM {expenditure} x
                              WHERE x.household_id = {row}.hid AND x.created_at > r.decided_at))
            THEN 'R'
        ELSE 'C' END"""  # noqa: S608  # nosec B608


def _stage_insert_sql(table: str) -> str:
    """INSERT … SELECT of the county's new leads (``C``).  On PostgreSQL the same statement writes
    their audit rows from what the insert returns; elsewhere ``_raised_leads_audit`` follows.  Each
    lead's village is its household's as it is now, read under the county lock
    (``monitoring.services.lead_village.counties_lock``).  A household an import moved out of the
    county after the stage was built gets no lead from this step: the county's lock does not hold
    it where it went (a second move, locking only its new counties, could leave the lead behind);
    the next run screens it in its new county."""
    lead, audit, household = Lead._meta.db_table, AuditEntry._meta.db_table, Household._meta.db_table
    texts = stage_texts(lambda name: f"s.{name}")
    j = _json_cast()
    evidence = f"%(evidence_head)s || {texts['rules_evidence']} || '}}}}'"
    insert = f"""
    INSERT INTO {lead} (household_id, village_id, state, sources, rules_fired, evidence, suggested_category,
                        suggested_risk_types, year, raised_at, last_run_id, rejection_reason, screening_digest)
    SELECT s.hid, h.village_id, %(state)s, {j.format("%(sources)s")}, {j.format(texts["rules_fired"])},
           {j.format(evidence)}, {texts["category"]}, {j.format(texts["risk_types"])},
           %(year)s, %(now)s, %(run)s, '', s.digest
    FROM {table} s JOIN {household} h ON h.id = s.hid WHERE s.county = %(county)s AND s.action = 'C'
    AND h.village_id >= %(lo)s AND h.village_id <= %(hi)s
    """  # noqa: S608  # nosec B608
    if connection.vendor != "postgresql":
        return insert
    return f"""
    WITH raised AS ({insert} RETURNING id, village_id, rules_fired)
    INSERT INTO {audit} (actor_id, at, object_type, object_id, region_code, action, from_state, to_state, reason, data)
    SELECT %(actor)s, %(now)s, 'lead', CAST(raised.id AS VARCHAR(64)), raised.village_id, 'raise', '', %(state)s, '',
           jsonb_build_object('source', %(source)s, 'run', %(run)s, 'rules', raised.rules_fired)
    FROM raised
    """  # noqa: S608  # nosec B608


def _stage_counts_sql(table: str) -> str:
    """Per action: rows, and per rule fired and missing; and a row ``H`` with the county's households."""
    rules = screening_rules()
    sums = ", ".join(f"SUM(f_{rule.key}), SUM(m_{rule.key})" for rule in rules)
    nothing = ", ".join(["NULL"] * 2 * len(rules))
    return f"""
    SELECT action, COUNT(*), {sums} FROM {table} WHERE county = %(county)s GROUP BY action
    UNION ALL
    SELECT 'H', COUNT(*), {nothing} FROM {Household._meta.db_table} WHERE village_id >= %(lo)s AND village_id <= %(hi)s
    """  # noqa: S608  # nosec B608


def staged_leads_write(
    *,
    table: str,
    prefix: str,
    year: int,
    run_id: int,
    rules: RuleSettings,
    now: dt.datetime,
    actor_id: int | None = None,
) -> tuple[LeadOutcome, RuleCounts]:
    """Write the leads of one county from the stage ``table`` (see above) and count what happened:
    a fixed number of statements, whatever the county's size."""
    county = prefix[:6]
    lo, hi = code_bounds(prefix)
    params: dict[str, Any] = {
        "county": county,
        "year": year,
        "lo": lo,
        "hi": hi,
        **stage_digest_params(year=year, rules=rules),
    }
    with connection.cursor() as cursor:
        cursor.execute(stage_compare_sql(table), params)
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE county = %(county)s AND action = '{STAGE_TO_DECIDE}' LIMIT 1",  # noqa: S608  # nosec B608
            params,
        )
        if cursor.fetchone() is not None:  # new leads, changed ones, targets, rejections
            cursor.execute(stage_decide_sql(table, _decide_sql), params)
        cursor.execute(_stage_counts_sql(table), params)
        by_action = {row[0]: row[1:] for row in cursor.fetchall()}
        households = int(by_action.pop("H")[0])
        if "C" in by_action:
            cursor.execute(
                _stage_insert_sql(table),
                {
                    **params,
                    "state": LeadState.NEW.value,
                    "sources": json.dumps([LeadSource.SCREENING.value]),
                    "evidence_head": json.dumps({LeadSource.SCREENING.value: {"year": year, "run": run_id}})[:-2]
                    + ',"rules":',
                    "now": now,
                    "run": run_id,
                    "actor": actor_id,
                    "source": LeadSource.SCREENING.value,
                },
            )
            if connection.vendor != "postgresql":
                _raised_leads_audit(run_id=run_id, now=now, actor_id=actor_id, id_range=None)
        merged = (
            _staged_merges(table=table, params=params, year=year, run_id=run_id, now=now) if "M" in by_action else {}
        )
    outcome, counts = _stage_outcome(by_action, households)
    for result, rules_fired in merged.values():
        outcome.add(result, rules_fired)
    if "C" in by_action or merged:
        state_changes_follow(object_type="lead", region_codes=[county.ljust(12, "0")])
    return outcome, counts


def _stage_outcome(by_action: dict[str, Any], households: int) -> tuple[LeadOutcome, RuleCounts]:
    """The outcome and the counts of a county from its stage counts by action (``_stage_counts_sql``;
    ``M`` rows are counted by ``_staged_merges``)."""
    codes = [rule.code for rule in screening_rules()]
    outcome = LeadOutcome()
    counts = RuleCounts(households=households, fired=dict.fromkeys(codes, 0), missing=dict.fromkeys(codes, 0))
    for action, (n, *sums) in by_action.items():
        for i, code in enumerate(codes):
            fired, missing = int(sums[2 * i] or 0), int(sums[2 * i + 1] or 0)
            counts.fired[code] += fired
            counts.missing[code] += missing
            if action in STAGE_OUTCOMES and action != "M":
                outcome.per_rule.setdefault(code, dict.fromkeys(OUTCOMES, 0))[STAGE_OUTCOMES[action]] += fired
        if action in STAGE_OUTCOMES:
            counts.any_fired += int(n)
            if action != "M":
                outcome.totals[STAGE_OUTCOMES[action]] += int(n)
    return outcome, counts


def staged_unchanged_counties(
    *, table: str, counties: list[str], prefix: str, year: int, rules: RuleSettings
) -> dict[str, tuple[LeadOutcome, RuleCounts]]:
    """Of ``counties`` (6-digit codes, locked by the caller), those where screening writes nothing —
    every fired household has an open lead that already carries its digest, or nothing fired — with
    their outcome and counts: three statements for all of them (compare, counts, households), so a
    run with nothing changed needs no transaction per county."""
    if not counties:
        return {}
    names = {f"c{i}": county for i, county in enumerate(counties)}
    lo, hi = code_bounds(prefix)
    params: dict[str, Any] = {"lo": lo, "hi": hi, **names, **stage_digest_params(year=year, rules=rules)}
    rules_sql = screening_rules()
    which = f"county IN ({', '.join(f'%({name})s' for name in names)})"
    household = Household._meta.db_table
    sums = ", ".join(f"SUM(f_{rule.key}), SUM(m_{rule.key})" for rule in rules_sql)
    with connection.cursor() as cursor:
        cursor.execute(stage_compare_sql(table, counties=which), params)
        cursor.execute(
            f"SELECT county, action, COUNT(*), {sums} FROM {table} WHERE {which} GROUP BY county, action",  # noqa: S608  # nosec B608
            params,
        )
        by_county: dict[str, dict[str, Any]] = {county: {} for county in counties}
        for county, action, *rest in cursor.fetchall():
            by_county[county][action] = rest
        by_county = {county: by_action for county, by_action in by_county.items() if STAGE_TO_DECIDE not in by_action}
        if not by_county:  # a first run: every county writes
            return {}
        cursor.execute(
            f"SELECT SUBSTR(village_id, 1, 6), COUNT(*) FROM {household}"  # noqa: S608  # nosec B608
            " WHERE village_id >= %(lo)s AND village_id <= %(hi)s GROUP BY SUBSTR(village_id, 1, 6)",
            params,
        )
        households = {str(county): int(n) for county, n in cursor.fetchall()}
    return {county: _stage_outcome(by_action, households.get(county, 0)) for county, by_action in by_county.items()}


def _staged_merges(
    *, table: str, params: dict[str, Any], year: int, run_id: int, now: dt.datetime
) -> dict[int, tuple[str, list[str]]]:
    """The county's ``M`` rows — fired households whose open lead does not carry the digest — merged
    by ``lead_decide`` (few: a run with nothing changed has none).  Returns {household: (outcome,
    rules fired)}."""
    texts = stage_texts(lambda name: f"s.{name}")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT s.hid, s.htype, s.digest, {texts["rules_fired"]}, {texts["rules_evidence"]},
                       {texts["risk_types"]}
                FROM {table} s WHERE s.county = %(county)s AND s.action = 'M'""",  # noqa: S608  # nosec B608
            params,
        )
        rows = cursor.fetchall()
    hids = [row[0] for row in rows]
    open_leads = {
        household_id: (pk, OpenLead(_as_list(sources), _json(evidence) or {}, _as_list(risks), category, []))
        for pk, household_id, sources, evidence, risks, category in Lead.objects.open()
        .filter(household_id__in=hids)
        .values_list("pk", "household_id", "sources", "evidence", "suggested_risk_types", "suggested_category")
    }
    screening = LeadSource.SCREENING.value
    result: dict[int, tuple[str, list[str]]] = {}
    to_update: list[tuple[Any, ...]] = []
    for hid, htype, digest, rules_text, evidence_text, risks_text in rows:
        fired_rules = json.loads(rules_text)
        existing = open_leads.get(hid)
        signal = Signal(
            source=screening,
            household_type=htype,
            evidence=[{"year": year, "run": run_id, "rules": json.loads(evidence_text)}],
            risk_types=json.loads(risks_text),
            rules_fired=fired_rules,
        )
        decision = lead_decide(signal=signal, active_target=False, open_lead=existing[1] if existing else None)
        result[hid] = (_OUTCOME_OF[decision.action], fired_rules)
        if decision.action == LeadAction.MERGE and existing is not None:
            to_update.append(
                (
                    existing[0],
                    json.dumps(decision.sources),
                    json.dumps(decision.rules_fired),
                    json.dumps(decision.evidence, ensure_ascii=False),
                    decision.category,
                    json.dumps(decision.risk_types),
                    digest,
                )
            )
    for start in range(0, len(to_update), BATCH):
        _leads_refresh(to_update[start : start + BATCH], run_id=run_id, now=now)
    return result
