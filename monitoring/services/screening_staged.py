"""Leads from the stage (``monitoring.selectors.screening_sql``): set-based, county by county or a
batch of counties at once (SPEC 4.2 suggestions, 4.3 idempotency).

* ``staged_leads_write`` — one county's leads from the stage: a fixed number of statements.
* ``staged_counties_write`` — the same for a batch of counties of one parent run in one set of
  statements (compare, decide, counts, the inserts with their audit rows): a province of small
  counties spent most of a first run in the per-county statements' planning and round trips
  (docs/benchmarks.md, session 20).  Its caller falls back to ``staged_leads_write`` county by county
  when it fails, so a county that cannot be written fails alone.
* ``staged_unchanged_counties`` — the counties where a run writes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from fanpin.core.audit import state_changes_follow
from fanpin.core.models import AuditEntry
from monitoring.models import (
    Household,
    Lead,
    LeadSource,
    LeadState,
    MonitoringTarget,
    RigidExpenditure,
    ScreeningRun,
    TargetStatus,
)
from monitoring.models.screening_rules import RuleSettings, screening_rules
from monitoring.selectors.screening_sql import (
    OPEN_LEAD_STATES,
    STAGE_MOVED,
    STAGE_TO_DECIDE,
    STAGE_UNCHANGED,
    RuleCounts,
    code_bounds,
    stage_compare_sql,
    stage_decide_sql,
    stage_digest_params,
    stage_texts,
)
from monitoring.services.lead_decision import LeadAction, OpenLead, Signal, lead_decide
from monitoring.services.screening_leads import (
    BATCH,
    OUTCOME_OF,
    OUTCOMES,
    LeadOutcome,
    as_list,
    json_cast,
    json_value,
    leads_refresh,
    raised_leads_audit,
)

# The stage's fired rows of a county are decided with the rule of ``lead_decide`` written in SQL
# (``_decide_sql``; ``tests/monitoring/test_screening_staged.py`` checks it against ``lead_decide``
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
    ``M``, ``R`` or ``C`` (see above); ``X`` first when an import moved the household out of the
    county since the stage was built (no lead is written for it here, and it is not counted: the
    county's lock does not hold it where it went; the next run screens it in its new county).  A
    moved household whose open lead was unchanged (``N``, never decided) is counted as refreshed in
    its old county; its lead moved with it and nothing is written."""
    lead, target, expenditure = Lead._meta.db_table, MonitoringTarget._meta.db_table, RigidExpenditure._meta.db_table
    household = Household._meta.db_table
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
        WHEN NOT EXISTS (SELECT 1 FROM {household} hh
                         WHERE hh.id = {row}.hid AND SUBSTR(hh.village_id, 1, 6) = {row}.county)
            THEN '{STAGE_MOVED}'
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


def _stage_insert_sql(table: str, counties: _Counties | None = None) -> str:
    """INSERT … SELECT of the new leads (``C``) of the county (``%(county)s``, written by the run
    ``%(run)s``), or of ``counties`` (each written by its county's run).  On PostgreSQL the same
    statement writes their audit rows from what the insert returns; elsewhere ``raised_leads_audit``
    follows.  Needs ``_insert_params``.  Each lead's village is its household's as it is now, read
    under the county lock (``monitoring.services.lead_village.counties_lock``).  A household an
    import moved out of its county after the stage was built gets no lead from this step (nor from
    ``_decide_sql``, which decides it ``X``): the county's lock does not hold it where it went (a
    second move, locking only its new counties, could leave the lead behind); the next run screens
    it in its new county."""
    lead, audit, household = Lead._meta.db_table, AuditEntry._meta.db_table, Household._meta.db_table
    texts = stage_texts(lambda name: f"s.{name}")
    j = json_cast()
    text = "VARCHAR" if connection.vendor == "postgresql" else "TEXT"
    if counties is None:
        run, join = "%(run)s", ""
        where = "s.county = %(county)s AND h.village_id >= %(lo)s AND h.village_id <= %(hi)s"
    else:  # each county's lead written by that county's run of the batch (``_Counties.runs``)
        run = "r.id"
        join = f"JOIN {ScreeningRun._meta.db_table} r ON {counties.runs} AND r.region_id = s.county || '000000'"
        where = f"{counties.condition('s')} AND SUBSTR(h.village_id, 1, 6) = s.county"
    evidence = f"%(evidence_head)s || CAST({run} AS {text}) || ',\"rules\":' || {texts['rules_evidence']} || '}}}}'"
    insert = f"""
    INSERT INTO {lead} (household_id, village_id, state, sources, rules_fired, evidence, suggested_category,
                        suggested_risk_types, year, raised_at, last_run_id, rejection_reason, screening_digest)
    SELECT s.hid, h.village_id, %(state)s, {j.format("%(sources)s")}, {j.format(texts["rules_fired"])},
           {j.format(evidence)}, {texts["category"]}, {j.format(texts["risk_types"])},
           %(year)s, %(now)s, {run}, '', s.digest
    FROM {table} s JOIN {household} h ON h.id = s.hid {join}
    WHERE s.action = 'C' AND {where}
    """  # noqa: S608  # nosec B608
    if connection.vendor != "postgresql":
        return insert
    return f"""
    WITH raised AS ({insert} RETURNING id, village_id, rules_fired, last_run_id)
    INSERT INTO {audit} (actor_id, at, object_type, object_id, region_code, action, from_state, to_state, reason, data)
    SELECT %(actor)s, %(now)s, 'lead', CAST(raised.id AS VARCHAR(64)), raised.village_id, 'raise', '', %(state)s, '',
           jsonb_build_object('source', %(source)s, 'run', raised.last_run_id, 'rules', raised.rules_fired)
    FROM raised
    """  # noqa: S608  # nosec B608


def _insert_params(*, year: int, now: dt.datetime, actor_id: int | None) -> dict[str, Any]:
    """The bound values of ``_stage_insert_sql`` but the county's or counties'."""
    screening = LeadSource.SCREENING.value
    head = json.dumps({screening: {"year": year, "run": 0}})
    return {
        "state": LeadState.NEW.value,
        "sources": json.dumps([screening]),
        "evidence_head": head[: head.rindex("0")],  # '{"SCREENING": {"year": 2025, "run": ' — the run's id follows
        "now": now,
        "actor": actor_id,
        "source": screening,
    }


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
                {**params, **_insert_params(year=year, now=now, actor_id=actor_id), "run": run_id},
            )
            if connection.vendor != "postgresql":
                raised_leads_audit(run_id=run_id, now=now, actor_id=actor_id, id_range=None)
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
        if action == STAGE_MOVED:  # screened by the next run in its new county
            continue
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


@dataclass(frozen=True)
class _Counties:
    """Several counties (6-digit codes) of a stage in one statement, and their runs when they are
    written: the bound values (the counties, the code range ``lo``–``hi`` around them, the runs'
    ids) and the conditions over them."""

    codes: list[str]
    params: dict[str, Any]
    county_names: str  # "%(c0)s, %(c1)s, …"
    run_names: str  # "%(r0)s, …"

    @classmethod
    def of(cls, counties: Sequence[str], runs: Sequence[int] = ()) -> _Counties:
        lo, hi = code_bounds(min(counties))[0], code_bounds(max(counties))[1]
        named_counties = {f"c{i}": county for i, county in enumerate(counties)}
        named_runs = {f"r{i}": run for i, run in enumerate(runs)}
        return cls(
            codes=list(counties),
            params={"lo": lo, "hi": hi, **named_counties, **named_runs},
            county_names=", ".join(f"%({name})s" for name in named_counties),
            run_names=", ".join(f"%({name})s" for name in named_runs),
        )

    def condition(self, alias: str = "") -> str:
        """The stage rows of these counties (over the stage row ``alias``)."""
        return f"{alias + '.' if alias else ''}county IN ({self.county_names})"

    @property
    def runs(self) -> str:
        """The runs of these counties (over the run ``r``)."""
        return f"r.id IN ({self.run_names})"


def _counts_by_county(
    cursor: Any, *, table: str, counties: _Counties, params: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Of each of ``counties``, the stage's rows by action: their count, and per rule fired and missing."""
    sums = ", ".join(f"SUM(f_{rule.key}), SUM(m_{rule.key})" for rule in screening_rules())
    cursor.execute(
        f"SELECT county, action, COUNT(*), {sums} FROM {table} WHERE {counties.condition()} GROUP BY county, action",  # noqa: S608  # nosec B608
        params,
    )
    by_county: dict[str, dict[str, Any]] = {county: {} for county in counties.codes}
    for county, action, *rest in cursor.fetchall():
        by_county[county][action] = rest
    return by_county


def _households_by_county(cursor: Any, *, params: dict[str, Any]) -> dict[str, int]:
    """The households of each county between ``%(lo)s`` and ``%(hi)s``."""
    cursor.execute(
        f"SELECT SUBSTR(village_id, 1, 6), COUNT(*) FROM {Household._meta.db_table}"  # noqa: S608  # nosec B608
        " WHERE village_id >= %(lo)s AND village_id <= %(hi)s GROUP BY SUBSTR(village_id, 1, 6)",
        params,
    )
    return {str(county): int(n) for county, n in cursor.fetchall()}


def staged_unchanged_counties(
    *, table: str, counties: list[str], year: int, rules: RuleSettings
) -> dict[str, tuple[LeadOutcome, RuleCounts]]:
    """Of ``counties`` (6-digit codes, locked by the caller), those where screening writes nothing —
    every fired household has an open lead that already carries its digest, or nothing fired — with
    their outcome and counts: three statements for all of them (compare, counts, households), so a
    run with nothing changed needs no transaction per county."""
    if not counties:
        return {}
    which = _Counties.of(counties)
    params: dict[str, Any] = {**which.params, **stage_digest_params(year=year, rules=rules)}
    with connection.cursor() as cursor:
        cursor.execute(stage_compare_sql(table, counties=which.condition()), params)
        by_county = _counts_by_county(cursor, table=table, counties=which, params=params)
        unchanged = {county: by_action for county, by_action in by_county.items() if STAGE_TO_DECIDE not in by_action}
        if not unchanged:  # a first run: every county writes
            return {}
        households = _households_by_county(cursor, params=params)
    return {county: _stage_outcome(by_action, households.get(county, 0)) for county, by_action in unchanged.items()}


def staged_counties_write(
    *,
    table: str,
    runs: dict[str, int],
    year: int,
    rules: RuleSettings,
    now: dt.datetime,
    actor_id: int | None = None,
) -> dict[str, tuple[LeadOutcome, RuleCounts]]:
    """``staged_leads_write`` for several counties of the stage ``table`` at once — ``runs``: the
    county (6 digits) → its run (children of one parent), the counties locked by the caller — in
    one set of statements whatever their number (compare, decide, counts, households, the inserts
    with their audit rows — on SQLite the audit rows one statement per county —; the few merges
    county by county).  Returns each county's outcome and
    counts.  All or nothing: the caller writes county by county when it raises."""
    which = _Counties.of(list(runs), list(runs.values()))
    params: dict[str, Any] = {**which.params, "year": year, **stage_digest_params(year=year, rules=rules)}
    inserting = {**params, **_insert_params(year=year, now=now, actor_id=actor_id)}
    with connection.cursor() as cursor:
        cursor.execute(stage_compare_sql(table, counties=which.condition()), params)
        cursor.execute(stage_decide_sql(table, _decide_sql, counties=which.condition()), params)
        by_county = _counts_by_county(cursor, table=table, counties=which, params=params)
        raising = [county for county, by_action in by_county.items() if "C" in by_action]
        if raising:
            cursor.execute(_stage_insert_sql(table, counties=which), inserting)
            if connection.vendor != "postgresql":  # elsewhere in the insert's statement
                for county in raising:
                    raised_leads_audit(run_id=runs[county], now=now, actor_id=actor_id, id_range=None)
        households = _households_by_county(cursor, params=params)
    result: dict[str, tuple[LeadOutcome, RuleCounts]] = {}
    changed = set(raising)
    for county, by_action in by_county.items():
        outcome, counts = _stage_outcome(by_action, households.get(county, 0))
        if "M" in by_action:
            lo, hi = code_bounds(county)
            merged = _staged_merges(
                table=table,
                params={**params, "county": county, "lo": lo, "hi": hi},
                year=year,
                run_id=runs[county],
                now=now,
            )
            for outcome_of, rules_fired in merged.values():
                outcome.add(outcome_of, rules_fired)
            changed |= {county} if merged else set()
        result[county] = (outcome, counts)
    if changed:
        state_changes_follow(object_type="lead", region_codes=[county.ljust(12, "0") for county in sorted(changed)])
    return result


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
        household_id: (pk, OpenLead(as_list(sources), json_value(evidence) or {}, as_list(risks), category, []))
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
        result[hid] = (OUTCOME_OF[decision.action], fired_rules)
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
        leads_refresh(to_update[start : start + BATCH], run_id=run_id, now=now)
    return result
