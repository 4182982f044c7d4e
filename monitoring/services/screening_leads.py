"""Turning fired rows into leads (SPEC 4.2 suggestions, 4.3 idempotency), in batches."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef

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
    RigidExpenditure,
    RiskType,
    ScreeningRule,
    TargetCategory,
    TargetStatus,
)
from monitoring.selectors.screening_sql import (
    MEMBER_ABLE,
    MEMBER_ANY,
    MEMBER_DISABLED,
    MEMBER_ILL,
    FiredRow,
    RuleSettings,
    code_bounds,
)

BATCH = 1000
CENT = Decimal("0.01")
EXPENDITURE_RISK = {
    "MEDICAL": RiskType.ILLNESS,
    "DISABILITY": RiskType.DISABILITY,
    "DISASTER": RiskType.DISASTER,
    "EPIDEMIC": RiskType.EPIDEMIC,
    "ACCIDENT": RiskType.ACCIDENT,
    "EDUCATION": RiskType.EDUCATION,
}
RISK_ORDER = {code: i for i, code in enumerate(RiskType.values)}
OUTCOMES = ("raised", "refreshed", "skipped_target", "skipped_rejected")


def _yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(CENT)


def _per_capita(total_fen: int, size: int) -> Decimal:
    """For display only, rounded down to the fen (rules compare exactly, see screening_sql)."""
    return (Decimal(total_fen) / 100 / size).quantize(CENT, rounding=ROUND_FLOOR)


def rules_of(row: FiredRow) -> list[str]:
    rules = []
    if row.low_income:
        rules.append(ScreeningRule.LOW_INCOME.value)
    if row.spike:
        rules.append(ScreeningRule.EXPENDITURE_SPIKE.value)
    if row.drop:
        rules.append(ScreeningRule.INCOME_DROP.value)
    return rules


def evidence_of(row: FiredRow, rules: RuleSettings) -> dict[str, dict[str, Any]]:
    """The figures that made each rule fire (money as strings of yuan with two decimals)."""
    line = str(rules.line) if rules.line is not None else None
    result: dict[str, dict[str, Any]] = {}
    if row.low_income:
        assert row.cur_total_fen is not None and row.cur_size
        result[ScreeningRule.LOW_INCOME] = {
            "per_capita_income": str(_per_capita(row.cur_total_fen, row.cur_size)),
            "line": line,
            "total_income": str(_yuan(row.cur_total_fen)),
            "family_size": row.cur_size,
        }
    if row.spike:
        assert row.prev_total_fen is not None
        result[ScreeningRule.EXPENDITURE_SPIKE] = {
            "out_of_pocket_by_category": {code: str(_yuan(v)) for code, v in row.oop_fen.items() if v > 0},
            "out_of_pocket_total": str(_yuan(sum(row.oop_fen.values()))),
            "previous_total_income": str(_yuan(row.prev_total_fen)),
            "ratio": str(rules.spike_ratio),
        }
        extract, records, set_aside = row.medical_basis_fen
        if extract or records:
            # SPEC §2: per member, the larger of the 医保 extract total and the other 医疗 records
            result[ScreeningRule.EXPENDITURE_SPIKE].update(
                medical_extract=str(_yuan(extract)),
                medical_records=str(_yuan(records)),
                medical_set_aside=str(_yuan(set_aside)),
            )
    if row.drop:
        assert row.cur_total_fen is not None and row.cur_size and row.prev_total_fen is not None and row.prev_size
        result[ScreeningRule.INCOME_DROP] = {
            "per_capita_income": str(_per_capita(row.cur_total_fen, row.cur_size)),
            "previous_per_capita_income": str(_per_capita(row.prev_total_fen, row.prev_size)),
            "drop_ratio": str(rules.drop_ratio),
            "line": line,
            "line_multiple": str(rules.drop_line_multiple),
        }
    return result


def suggested_category(*, household_type: str, low_income: bool) -> str:
    """SPEC 4.2: 脱贫户 → 脱贫不稳定户; otherwise LOW_INCOME → 边缘易致贫户; else 突发严重困难户."""
    if household_type == HouseholdType.EXITED:
        return TargetCategory.UNSTABLE_EXITED.value
    if low_income:
        return TargetCategory.EDGE_AT_RISK.value
    return TargetCategory.SUDDEN_HARDSHIP.value


def suggested_risk_types(*, oop_fen: dict[str, int], member_flags: int) -> list[str]:
    """SPEC 4.2: from expenditure categories with out-of-pocket spending in Y, members' health, and
    labor capacity (缺劳动力 when no member is 普通/技能劳动力); at most 5, in RiskType order."""
    found = {EXPENDITURE_RISK[code].value for code, fen in oop_fen.items() if fen > 0}
    if member_flags & MEMBER_ILL:
        found.add(RiskType.ILLNESS.value)
    if member_flags & MEMBER_DISABLED:
        found.add(RiskType.DISABILITY.value)
    if member_flags & MEMBER_ANY and not member_flags & MEMBER_ABLE:
        found.add(RiskType.LACK_OF_LABOR.value)
    return sorted(found, key=RISK_ORDER.__getitem__)[:MAX_RISK_TYPES]


@dataclass
class LeadOutcome:
    per_rule: dict[str, dict[str, int]] = field(
        default_factory=lambda: {rule: dict.fromkeys(OUTCOMES, 0) for rule in ScreeningRule.values}
    )
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))

    def add(self, outcome: str, rules: Iterable[str]) -> None:
        self.totals[outcome] += 1
        for rule in rules:
            self.per_rule[rule][outcome] += 1


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
        household_id: (pk, sources, evidence)
        for pk, household_id, sources, evidence in Lead.objects.open()
        .filter(**in_scope)
        .values_list("pk", "household_id", "sources", "evidence")
    }
    # The latest rejection this year per household, and whether rigid expenditure arrived since.
    rejected: dict[int, tuple[list[str], bool]] = {}
    newer_expenditure = RigidExpenditure.objects.filter(
        household_id=OuterRef("household_id"), created_at__gt=OuterRef("decided_at")
    )
    for household_id, rules_fired, has_new in (
        Lead.objects.filter(state=LeadState.REJECTED, year=year, **in_scope)
        .annotate(has_new=Exists(newer_expenditure))
        .order_by("household_id", "decided_at", "id")
        .values_list("household_id", "rules_fired", "has_new")
    ):
        rejected[household_id] = (_as_list(rules_fired), bool(has_new))  # the latest wins

    to_create: list[tuple[Any, ...]] = []
    to_update: list[tuple[Any, ...]] = []
    screening = LeadSource.SCREENING.value
    for row in fired:
        fired_rules = rules_of(row)
        if row.household_id in active_targets:
            outcome.add("skipped_target", fired_rules)
            continue
        screening_evidence = {"year": year, "run": run_id, "rules": evidence_of(row, rules)}
        category = suggested_category(household_type=row.household_type, low_income=row.low_income)
        risks = json.dumps(suggested_risk_types(oop_fen=row.oop_fen, member_flags=row.member_flags))
        existing = open_leads.get(row.household_id)
        if existing is not None:
            pk, sources, evidence = existing
            to_update.append(
                (
                    pk,
                    json.dumps(sorted({*_as_list(sources), screening})),
                    json.dumps(fired_rules),
                    json.dumps({**(_json(evidence) or {}), screening: screening_evidence}, ensure_ascii=False),
                    category,
                    risks,
                )
            )
            outcome.add("refreshed", fired_rules)
            continue
        if row.household_id in rejected:
            before, has_new_expenditure = rejected[row.household_id]
            if set(fired_rules) <= set(before) and not has_new_expenditure:
                outcome.add("skipped_rejected", fired_rules)
                continue
        to_create.append(
            (
                row.household_id,
                json.dumps(fired_rules),
                json.dumps({screening: screening_evidence}, ensure_ascii=False),
                category,
                risks,
            )
        )
        outcome.add("raised", fired_rules)
    for start in range(0, len(to_create), BATCH):
        _leads_insert(to_create[start : start + BATCH], year=year, run_id=run_id, now=now)
    for start in range(0, len(to_update), BATCH):
        _leads_refresh(to_update[start : start + BATCH], run_id=run_id, now=now)
    if to_create:
        _raised_leads_audit(run_id=run_id, now=now, actor_id=actor_id, id_range=id_range)
    if to_create or to_update:
        # the audit rows above bypass ``audit_record``: tell its followers (the county's dashboards expire)
        state_changes_follow(object_type="lead", region_codes=[prefix[:6].ljust(12, "0")])
    return outcome


def _raised_leads_audit(
    *, run_id: int, now: dt.datetime, actor_id: int | None, id_range: tuple[int, int] | None
) -> None:
    """One audit row per lead this call raised (the leads of this run with ``raised_at = now``),
    as ``lead_raise_or_merge`` writes for the other sources: action ``raise``, → NEW, the source,
    the run and the rules.  One INSERT … SELECT, so the cost does not grow with Python loops."""
    audit, lead, household = AuditEntry._meta.db_table, Lead._meta.db_table, Household._meta.db_table
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
        SELECT %(actor)s, %(now)s, 'lead', {object_id}, h.village_id, 'raise', '', %(state)s, '', {data}
        FROM {lead} l JOIN {household} h ON h.id = l.household_id
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
    columns = (
        "household_id, state, sources, rules_fired, evidence, suggested_category, suggested_risk_types, "
        "year, raised_at, last_run_id, rejection_reason"
    )
    if connection.vendor == "postgresql":
        # COPY is about twice as fast as a 1 000-row INSERT … VALUES (no statement to parse).
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for household_id, rules_fired, evidence, category, risks in rows:
            head = [household_id, LeadState.NEW.value, sources, rules_fired, evidence, category, risks]
            writer.writerow([*head, year, now.isoformat(), run_id, ""])
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(
                f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (rejection_reason))", buffer
            )
        return
    j = _json_cast()
    row_sql = f"(%s, %s, {j.format('%s')}, {j.format('%s')}, {j.format('%s')}, %s, {j.format('%s')}, %s, %s, %s, '')"
    params: list[Any] = []
    for household_id, rules_fired, evidence, category, risks in rows:
        params += [
            household_id,
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
    """One ``UPDATE … FROM (VALUES …)`` per batch (``bulk_update``'s CASE per row is far slower).
    SQL from constants only; all values are bound parameters."""
    table = Lead._meta.db_table
    j = _json_cast()
    params: list[Any] = [now, run_id]
    for row in rows:
        params += row
    sql = f"""
        UPDATE {table} SET refreshed_at = %s, last_run_id = %s,
            sources = {j.format("v.column2")}, rules_fired = {j.format("v.column3")},
            evidence = {j.format("v.column4")}, suggested_category = v.column5,
            suggested_risk_types = {j.format("v.column6")}
        FROM (VALUES {", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))}) AS v
        WHERE {table}.id = v.column1
    """  # noqa: S608  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
