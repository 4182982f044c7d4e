"""The set-based rule evaluation of SPEC §4: one SQL statement per county, whatever its size.

The statements are generated here — the one place — from the rule declarations
(``monitoring.models.screening_rules``): ``_base_sql`` computes the figures of every household (the
base figures and the rules' own columns), ``_rule_sql`` renders a rule's ``fires`` / ``missing``
template over a base row, ``_evaluation_sql`` adds one fired and one missing flag per rule and the
counts, ``screening_compare_by_county`` counts households where any rule fires under two sets of
values (the what-if preview).

Exactness.  Every amount is an integer number of fen (``AnnualIncome.total_fen`` and
``RigidExpenditure.out_of_pocket_fen``, columns the database computes with ``ROUND(x * 100)``: exact on
PostgreSQL's numeric and, as a 64-bit integer, on SQLite, which stores decimals as doubles), and
every ratio parameter into basis points (1/10 000, the parameters have four decimals).  Divisions
are moved to the other side of the comparison in each declaration, so nothing is rounded.

The SQL text is built only from constants (table names from model metadata, fixed codes, the
declarations' templates); every value — region bounds, year, line, parameters — is a bound parameter.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from monitoring.models import (
    MAX_RISK_TYPES,
    AnnualIncome,
    Household,
    HouseholdType,
    Lead,
    Member,
    MemberStatus,
    MonitoringTarget,
    RigidExpenditure,
    RiskType,
    TargetCategory,
    TargetStatus,
)
from monitoring.models.screening_rules import (
    BASE_FIGURES,
    EXPENDITURE_COLUMNS,
    EXPENDITURE_RISK,
    LACK_OF_LABOR,
    MEDICAL_BASIS_COLUMNS,
    MEMBER_ABLE,
    MEMBER_ANY,
    MEMBER_DISABLED,
    MEMBER_ILL,
    MEMBER_RISK,
    Count,
    Evidence,
    LineText,
    ParameterText,
    PerCapitaYuan,
    RuleSettings,
    ScreeningRuleDeclaration,
    Term,
    Yuan,
    YuanByCode,
    YuanSum,
    line_text,
    rule_columns,
    rule_parameters,
    screening_rules,
)

# members' flags count the household's current members only (a deceased or removed one keeps the
# row; decision record 2026-12-04-member-departure.md)
CURRENT = MemberStatus.ACTIVE.value

__all__ = [
    "EXPENDITURE_COLUMNS",
    "MEDICAL_BASIS_COLUMNS",
    "MEMBER_ABLE",
    "MEMBER_ANY",
    "MEMBER_DISABLED",
    "MEMBER_ILL",
    "CountyComparison",
    "FiredRow",
    "RuleCounts",
    "RuleSettings",
    "code_bounds",
    "screening_compare_by_county",
    "screening_evaluate",
]

MEDICAL = "MEDICAL"


@dataclass(frozen=True)
class FiredRow:
    """A household where at least one rule fired: its figures (fen, persons; ``None`` = no record),
    the codes of the rules that fired (registry order) and its members' flags."""

    household_id: int
    household_type: str
    figures: Mapping[str, Any]
    fired: tuple[str, ...]
    member_flags: int

    @property
    def oop_fen(self) -> dict[str, int]:
        """Out-of-pocket rigid expenditure of Y in fen, by category."""
        return {code: int(self.figures[column] or 0) for code, column in EXPENDITURE_COLUMNS}

    @property
    def medical_basis_fen(self) -> tuple[int, int, int]:
        """医疗 fen counted from 医保 extracts, from other records, and set aside (MEDICAL_BASIS_COLUMNS)."""
        extract, records, set_aside = (int(self.figures[column] or 0) for column in MEDICAL_BASIS_COLUMNS)
        return extract, records, set_aside


@dataclass
class RuleCounts:
    """Of one county: households, and per rule code how many fired and how many lacked the data."""

    households: int = 0
    fired: dict[str, int] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)
    any_fired: int = 0
    # the county's household-id range (narrows later reads of leads and targets)
    lo_id: int = 0
    hi_id: int = -1


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def code_bounds(prefix: str) -> tuple[str, str]:
    """The range of 12-digit village codes below a region code prefix (an index range scan)."""
    return prefix.ljust(12, "0"), prefix.ljust(12, "9")


def _figure_names() -> tuple[str, ...]:
    return (*BASE_FIGURES, *rule_columns())


class _Names(dict[str, str]):
    """What a name in a declaration's template stands for: a figure of the row ``alias``, or a
    bound parameter (``<name><suffix>``, see ``_rule_params``)."""

    def __init__(self, alias: str, suffix: str) -> None:
        super().__init__()
        self.alias, self.suffix = alias, suffix

    def __missing__(self, name: str) -> str:
        if name == "has_line":
            return f"%(has_line{self.suffix})s"
        if name in BASE_FIGURES or name in rule_columns():
            return f"{self.alias}.{name}"
        # the line and every parameter: an integer (fen, basis points); cast so that PostgreSQL
        # multiplies in bigint
        return f"CAST(%({name}{self.suffix})s AS BIGINT)"


def _rule_sql(rule: ScreeningRuleDeclaration, alias: str, suffix: str = "") -> tuple[str, str]:
    """The rule's fires and missing conditions on a row of ``base`` (``alias``), parenthesised."""
    names = _Names(alias, suffix)
    return f"({rule.fires.format_map(names)})", f"({rule.missing.format_map(names)})"


def _flag_columns(alias: str) -> str:
    columns = []
    for rule in screening_rules():
        fires, missing = _rule_sql(rule, alias)
        columns += [
            f"CASE WHEN {fires} THEN 1 ELSE 0 END AS f_{rule.key}",
            f"CASE WHEN {missing} THEN 1 ELSE 0 END AS m_{rule.key}",
        ]
    return ",\n      ".join(columns)


def _any_fired() -> str:
    return " + ".join(f"f_{rule.key}" for rule in screening_rules()) or "0"


def _base_sql(*, narrow_to_ids: bool, expenditure_sums: str | None = None) -> str:
    """One row per household below the region bounds: the two years' totals in fen and sizes, and
    out-of-pocket expenditure by category.  ``narrow_to_ids``: see the comment below (needs the
    ``ids`` CTE); without it, a region-wide statement lets PostgreSQL scan and hash in parallel.
    ``expenditure_sums``: the name of a table holding the expenditure sums per household (bounds
    ``%(lo_id)s``–``%(hi_id)s``); ``""`` returns the statement computing those sums instead."""
    hh = Household._meta.db_table
    inc = AnnualIncome._meta.db_table
    exp = RigidExpenditure._meta.db_table

    def total(alias: str) -> str:
        # the four components' sum in fen, a column the database keeps (AnnualIncome.total_fen)
        return f"{alias}.total_fen"

    oop = "x.out_of_pocket_fen"  # max(amount − reimbursed, 0) in fen (RigidExpenditure.out_of_pocket_fen)

    # The one ledger (SPEC §2), per household and member first: for 医疗 a member counts the larger
    # of the 医保 extract rows (m_ext) and its other rows (m_oth), never both (a row reported by
    # both is in both sums); rows without a member are their own group, with no extract.
    medical, other_source = f"x.category = '{MEDICAL}'", "(x.source_import OR x.source_alert)"

    # Sums as BIGINT: PostgreSQL's SUM of bigint is numeric, and numeric is slow to add and compare.
    def total_of(expr: str) -> str:
        return f"CAST(SUM({expr}) AS BIGINT)"

    per_member_category = ",\n".join(
        f"{total_of(f'CASE WHEN x.category = {_literal(code)} THEN {oop} ELSE 0 END')} AS {col}"
        for code, col in EXPENDITURE_COLUMNS
        if code != MEDICAL
    )
    larger = "CASE WHEN g.m_ext > g.m_oth THEN g.m_ext ELSE g.m_oth END"
    per_category = ",\n".join(
        f"{total_of(larger)} AS {col}" if code == MEDICAL else f"{total_of(f'g.{col}')} AS {col}"
        for code, col in EXPENDITURE_COLUMNS
    )
    # The county's households are found by village code; their incomes and expenditures by
    # household id, restricted to the county's id range first (``ids``): counties are imported
    # together, so the range is narrow and the planner reads only that slice of the income index
    # instead of hashing the whole table for every county.  The range never changes the result.
    in_range = "BETWEEN (SELECT lo_id FROM ids) AND (SELECT hi_id FROM ids)"
    narrow = (lambda column: f"AND {column} {in_range}") if narrow_to_ids else (lambda column: "")
    sums = f"""
        SELECT g.household_id AS household_id, {total_of(f"g.o_rest + {larger}")} AS x_total,
               {per_category},
               {total_of("CASE WHEN g.m_ext > g.m_oth THEN g.m_ext ELSE 0 END")} AS xm_extract,
               {total_of("CASE WHEN g.m_ext > g.m_oth THEN 0 ELSE g.m_oth END")} AS xm_records,
               {total_of("CASE WHEN g.m_ext > g.m_oth THEN g.m_oth ELSE g.m_ext END")} AS xm_set_aside
        FROM (
            SELECT x.household_id AS household_id,
                   {total_of(f"CASE WHEN x.category <> '{MEDICAL}' THEN {oop} ELSE 0 END")} AS o_rest,
                   {per_member_category},
                   {total_of(f"CASE WHEN {medical} AND x.source_extract THEN {oop} ELSE 0 END")} AS m_ext,
                   {total_of(f"CASE WHEN {medical} AND {other_source} THEN {oop} ELSE 0 END")} AS m_oth
            FROM {exp} x
            WHERE x.occurred_on >= %(year_start)s AND x.occurred_on <= %(year_end)s {{narrow}}
            GROUP BY x.household_id, x.member_id
        ) g
        GROUP BY g.household_id"""  # noqa: S608  # nosec B608
    if expenditure_sums == "":  # the caller wants the sums' own statement (see ``screening_stage_create``)
        return sums.format(narrow="AND x.household_id BETWEEN %(lo_id)s AND %(hi_id)s")
    if expenditure_sums is not None:
        # sums written beforehand to a table (one aggregation, which every parallel worker joins)
        # and the incomes of the region's id range
        narrow = lambda column: f"AND {column} BETWEEN %(lo_id)s AND %(hi_id)s"  # noqa: E731
        sums_join = f"LEFT JOIN {expenditure_sums} e ON e.household_id = h.id"
    else:
        sums_join = f"LEFT JOIN ({sums.format(narrow=narrow('x.household_id'))}\n    ) e ON e.household_id = h.id"
    incomes = f"""
    LEFT JOIN {inc} c ON c.household_id = h.id AND c.year = %(year)s {narrow("c.household_id")}
    LEFT JOIN {inc} p ON p.household_id = h.id AND p.year = %(prev_year)s {narrow("p.household_id")}
    {sums_join}"""
    c_total, p_total = total("c"), total("p")
    # the figures rules declare for themselves (SQL over h, c, p, e)
    extra = "".join(f",\n           ({sql}) AS {name}" for name, sql in rule_columns().items())
    # SQL from constants only (table names, fixed codes); every value is a bound parameter.
    return f"""
    SELECT h.id AS hid, h.household_type AS htype, h.village_id AS village,
           c.family_size AS c_size, {c_total} AS c_total,
           p.family_size AS p_size, {p_total} AS p_total,
           COALESCE(e.x_total, 0) AS x_total,
           {", ".join(f"COALESCE(e.{col}, 0) AS {col}" for _, col in EXPENDITURE_COLUMNS)},
           {", ".join(f"COALESCE(e.{col}, 0) AS {col}" for col in MEDICAL_BASIS_COLUMNS)}{extra}
    FROM {hh} h
    {incomes}
    WHERE h.village_id >= %(lo)s AND h.village_id <= %(hi)s
    """  # noqa: S608  # nosec B608


def _evaluation_sql() -> str:
    """``ev``: the base rows with ``f_<rule>`` / ``m_<rule>`` flags; the result is the households
    where a rule fired (kind 1: id, type, figures, flags, member flags) and one row of counts
    (kind 0: households, per rule fired and missing, any fired, the county's id range).  The two
    kinds share the columns (``NULL`` where a kind has nothing), so one statement answers both."""
    hh = Household._meta.db_table
    mem = Member._meta.db_table
    base = _base_sql(narrow_to_ids=True)
    rules = screening_rules()
    # "id + 0": read the ids through the village index (not the primary key, as MIN(id) would).
    ids = f"""ids AS (SELECT MIN(id + 0) AS lo_id, MAX(id + 0) AS hi_id FROM {hh}
               WHERE village_id >= %(lo)s AND village_id <= %(hi)s)"""  # noqa: S608  # nosec B608
    # PostgreSQL would inline ``base`` and compute each total once per reference in the flags.
    materialized = "MATERIALIZED " if connection.vendor == "postgresql" else ""
    flags = f"""
    SELECT b.*,
      {_flag_columns("b")}
    FROM base b
    """  # noqa: S608  # nosec B608
    member_flags = f"""(SELECT
          MAX(CASE WHEN m.health IN ('SERIOUS', 'CHRONIC') THEN {MEMBER_ILL} ELSE 0 END)
        + MAX(CASE WHEN m.health = 'DISABLED' OR m.disability_grade <> '' THEN {MEMBER_DISABLED} ELSE 0 END)
        + MAX(CASE WHEN m.labor IN ('NORMAL', 'SKILLED') THEN {MEMBER_ABLE} ELSE 0 END)
        + {MEMBER_ANY}
        FROM {mem} m WHERE m.household_id = ev.hid AND m.status = '{CURRENT}')"""  # noqa: S608  # nosec B608
    figures = _figure_names()
    fired_flags = [f"f_{rule.key}" for rule in rules]
    counts = [
        "COUNT(*)",
        *(f"SUM({flag}{rule.key})" for rule in rules for flag in ("f_", "m_")),
        f"SUM(CASE WHEN {_any_fired()} > 0 THEN 1 ELSE 0 END)",
        "(SELECT lo_id FROM ids)",
        "(SELECT hi_id FROM ids)",
    ]
    nulls = lambda n: ["NULL"] * n  # noqa: E731
    rows = [
        "1 AS kind",
        "hid",
        "htype",
        *figures,
        *fired_flags,
        f"{member_flags} AS member_flags",
        *(f"{value} AS n{i}" for i, value in enumerate(nulls(len(counts)))),
    ]
    totals = ["0", "NULL", "NULL", *nulls(len(figures) + len(fired_flags) + 1), *counts]
    return f"""WITH {ids}, base AS {materialized}({base}), ev AS ({flags})
    SELECT {", ".join(rows)} FROM ev WHERE {_any_fired()} > 0
    UNION ALL
    SELECT {", ".join(totals)} FROM ev"""  # noqa: S608  # nosec B608


def _rule_params(rules: RuleSettings, suffix: str = "") -> dict[str, Any]:
    """The bound values of the rules: the line (fen) and every parameter (fen or basis points)."""
    line_fen = int((rules.line * 100).to_integral_value()) if rules.line is not None else 0
    return {
        f"has_line{suffix}": 1 if rules.line is not None else 0,
        f"line{suffix}": line_fen,
        **{f"{p.name}{suffix}": p.sql_value(rules.value(p.name)) for p in rule_parameters()},
    }


def _params(*, prefix: str, year: int, rules: RuleSettings) -> dict[str, Any]:
    lo, hi = code_bounds(prefix)
    return {
        "lo": lo,
        "hi": hi,
        "year": year,
        "prev_year": year - 1,
        "year_start": dt.date(year, 1, 1),
        "year_end": dt.date(year, 12, 31),
        **_rule_params(rules),
    }


def screening_evaluate(*, prefix: str, year: int, rules: RuleSettings) -> tuple[list[FiredRow], RuleCounts]:
    """Evaluate every registered rule for every household below ``prefix`` (one query).

    Returns the households where at least one rule fired (with the figures) and the counts of
    fired and missing-data households per rule.
    """
    declared = screening_rules()
    codes = [rule.code for rule in declared]
    figures = _figure_names()
    first_flag = 3 + len(figures)
    member_at = first_flag + len(codes)
    sql = _evaluation_sql()
    fired: list[FiredRow] = []
    counts = RuleCounts(fired=dict.fromkeys(codes, 0), missing=dict.fromkeys(codes, 0))
    with connection.cursor() as cursor:
        cursor.execute(sql, _params(prefix=prefix, year=year, rules=rules))
        for row in cursor.fetchall():
            if row[0] == 0:
                values = [_int(v) for v in row[member_at + 1 :]]
                per_rule = values[1 : 1 + 2 * len(codes)]
                counts = RuleCounts(
                    households=values[0] or 0,
                    fired={code: per_rule[2 * i] or 0 for i, code in enumerate(codes)},
                    missing={code: per_rule[2 * i + 1] or 0 for i, code in enumerate(codes)},
                    any_fired=values[-3] or 0,
                    lo_id=values[-2] or 0,
                    hi_id=values[-1] if values[-1] is not None else -1,
                )
                continue
            fired.append(
                FiredRow(
                    household_id=int(row[1]),
                    household_type=str(row[2]),
                    figures={name: _int(row[3 + i]) for i, name in enumerate(figures)},
                    fired=tuple(code for i, code in enumerate(codes) if row[first_flag + i]),
                    member_flags=int(row[member_at] or 0),
                )
            )
    return fired, counts


@dataclass(frozen=True)
class CountyComparison:
    households: int
    current: int
    proposed: int


def screening_compare_by_county(
    *, prefix: str, year: int, current: RuleSettings, proposed: RuleSettings
) -> dict[str, CountyComparison]:
    """For every county below ``prefix`` (a province or smaller, one monitoring line): households,
    and how many are in scope (any rule fires) under ``current`` and under ``proposed`` values.

    One statement for the whole region (the what-if preview): no id-range narrowing, so PostgreSQL
    can scan and hash in parallel instead of doing a county-by-county index walk.  Keyed by the
    12-digit county code.  Nothing is written.
    """
    rules = screening_rules()
    fires_a = " OR ".join(_rule_sql(rule, "b", "_a")[0] for rule in rules) or "1 = 0"
    fires_b = " OR ".join(_rule_sql(rule, "b", "_b")[0] for rule in rules) or "1 = 0"
    sql = f"""
    WITH base AS ({_base_sql(narrow_to_ids=False)})
    SELECT SUBSTR(b.village, 1, 6) AS county, COUNT(*),
           SUM(CASE WHEN {fires_a} THEN 1 ELSE 0 END), SUM(CASE WHEN {fires_b} THEN 1 ELSE 0 END)
    FROM base b GROUP BY SUBSTR(b.village, 1, 6)
    """  # noqa: S608  # nosec B608
    params = {**_params(prefix=prefix, year=year, rules=current), **_rule_params(current, "_a")}
    params.update(_rule_params(proposed, "_b"))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {
        str(county).ljust(12, "0"): CountyComparison(int(n), int(now or 0), int(then or 0))
        for county, n, now, then in rows
    }


# -- the staged evaluation: a whole region at once, leads written by batches of counties ------------
# ``screening_stage_create`` evaluates a region into a scratch table (the stage), one row per
# household where a rule fired or lacked data: its figures and flags, the digest of the inputs of
# what screening would write for it, and the digest of its open lead if it has one.  A province is
# one statement that PostgreSQL runs in parallel.  The batches of counties
# (``monitoring.services.screening_staged.staged_counties_write``; ``staged_leads_write`` for a
# county alone) then take their counties' rows:
#
# * ``stage_compare_sql`` — an open lead whose digest equals the household's (its inputs and its
#   members' flags) already says what screening would write: left alone, counted as refreshed;
# * ``stage_decide_sql`` — every other fired household: its members' flags, its digest, and the
#   lead rule's decision;
# * ``stage_texts`` — what a lead is written from (rules fired, the evidence of each fired rule,
#   suggested category and risk types), rendered as SQL from the declarations.
#
# The digest is an md5 of the inputs of those texts, not of the texts: the household type, the
# fired rules, whether each expenditure category has out-of-pocket spending, for each fired rule the
# figures and settings its evidence shows (``inputs``, computed by the parallel statement), and the
# members' flags (looked up by the county step, for fired households only).  It is salted with the
# year and the SQL that renders the texts, so a change of the rendering writes every lead once.
STAGE_UNCHANGED = "N"  # an open lead that (once compared) already says what screening would write
STAGE_TO_DECIDE = "W"  # fired, to be decided (target, open lead, rejection, new lead)
STAGE_MOVED = "X"  # decided: an import moved the household out of the county after the stage was built
OPEN_LEAD_STATES = ("NEW", "VERIFIED", "REVIEWED")


def _literal(text: str) -> str:
    """A constant of the declarations as an SQL string literal (codes, JSON keys)."""
    return "'" + text.replace("'", "''") + "'"


def _text(expr: str) -> str:
    return f"COALESCE(CAST({expr} AS TEXT), '~')"


def _yuan_text(fen: str) -> str:
    """SQL: the text of an integer number of fen as yuan with two decimals (``yuan``'s ``str``), in
    integer arithmetic."""
    cents = f"'0' || CAST(ABS({fen}) %% 100 AS TEXT)"
    cents = f"RIGHT({cents}, 2)" if connection.vendor == "postgresql" else f"SUBSTR({cents}, -2, 2)"
    return f"(CASE WHEN {fen} < 0 THEN '-' ELSE '' END || CAST(ABS({fen}) / 100 AS TEXT) || '.' || {cents})"


def _json_string(text: str) -> str:
    # the texts are numbers (digits, '-', '.'), so they need no escaping
    return f"""'"' || {text} || '"'"""


def _term_json(term: Term, col: Callable[[str], str]) -> str:
    """SQL: the JSON text of one evidence term (``'null'`` for a missing figure)."""
    if isinstance(term, Yuan):
        return f"COALESCE({_json_string(_yuan_text(col(term.figure)))}, 'null')"
    if isinstance(term, YuanSum):
        total = " + ".join(f"COALESCE({col(name)}, 0)" for name in term.figures) or "0"
        return _json_string(_yuan_text(f"({total})"))
    if isinstance(term, PerCapitaYuan):
        total, size = col(term.total), f"NULLIF({col(term.size)}, 0)"
        # rounded down to the fen, also below zero: total − ((total mod size) + size) mod size is
        # a multiple of size whatever the sign of total
        floor = f"(({total}) - ((({total}) %% {size}) + {size}) %% {size}) / {size}"
        return f"COALESCE({_json_string(_yuan_text(floor))}, 'null')"
    if isinstance(term, Count):
        return f"COALESCE(CAST({col(term.figure)} AS TEXT), 'null')"
    if isinstance(term, ParameterText | LineText):
        return _setting(term)
    if isinstance(term, YuanByCode):
        parts = [
            f"CASE WHEN COALESCE({col(name)}, 0) > 0 THEN {_literal(f',{json.dumps(code)}:')}"
            f" || {_json_string(_yuan_text(col(name)))} ELSE '' END"
            for code, name in term.figures
        ]
        return _object_of(parts)
    raise TypeError(f"unknown evidence term {term!r}")


def _setting(term: ParameterText | LineText) -> str:
    """The bound JSON text of a setting the evidence shows (see ``_settings_params``)."""
    return "%(evp_line)s" if isinstance(term, LineText) else f"%(evp_{term.name})s"


def _settings_params(rules: RuleSettings) -> dict[str, str]:
    return {
        "evp_line": json.dumps(line_text(rules)),
        **{f"evp_{p.name}": json.dumps(str(rules.value(p.name))) for p in rule_parameters()},
    }


def _object_of(parts: list[str]) -> str:
    """SQL: a JSON object from parts that each start with ``,"key":`` (or are empty)."""
    if not parts:
        return "'{}'"
    return f"'{{' || SUBSTR({' || '.join(parts)}, 2) || '}}'"


def _list_of(parts: list[str]) -> str:
    """SQL: a JSON list from parts that each start with ``,`` (or are empty)."""
    if not parts:
        return "'[]'"
    return f"'[' || SUBSTR({' || '.join(parts)}, 2) || ']'"


def _evidence(rule: ScreeningRuleDeclaration) -> Evidence:
    if not isinstance(rule.evidence, Evidence):  # callers check evidence_in_sql()
        raise TypeError(f"screening rule {rule.code}: its evidence is not an Evidence")
    return rule.evidence


def _evidence_json(evidence: Evidence, col: Callable[[str], str]) -> str:
    parts = [f"{_literal(f',{json.dumps(key)}:')} || {_term_json(term, col)}" for key, term in evidence.fields.items()]
    for group in evidence.optional:
        when = " OR ".join(f"COALESCE({col(name)}, 0) <> 0" for name in group.figures)
        then = " || ".join(
            f"{_literal(f',{json.dumps(key)}:')} || {_term_json(term, col)}" for key, term in group.fields.items()
        )
        parts.append(f"CASE WHEN {when} THEN {then} ELSE '' END")
    return _object_of(parts)


def evidence_in_sql() -> bool:
    """Whether every registered rule's evidence can be rendered as SQL (is an ``Evidence``)."""
    return all(isinstance(rule.evidence, Evidence) for rule in screening_rules())


def _fired(col: Callable[[str], str], rule: ScreeningRuleDeclaration) -> str:
    return f"{col('f_' + rule.key)} = 1"


def _rules_list_json(col: Callable[[str], str]) -> str:
    return _list_of(
        [f"CASE WHEN {_fired(col, r)} THEN {_literal(',' + json.dumps(r.code))} ELSE '' END" for r in screening_rules()]
    )


def _rules_evidence_json(col: Callable[[str], str]) -> str:
    """SQL: ``{code: evidence}`` of the fired rules (``ScreeningRuleDeclaration.evidence``)."""
    return _object_of(
        [
            f"CASE WHEN {_fired(col, r)} THEN {_literal(f',{json.dumps(r.code)}:')}"
            f" || {_evidence_json(_evidence(r), col)} ELSE '' END"
            for r in screening_rules()
        ]
    )


def _category_sql(col: Callable[[str], str]) -> str:
    """SQL twin of ``category_suggest`` (SPEC 4.2), from the same declarations."""
    exited = f"WHEN {col('htype')} = {_literal(HouseholdType.EXITED)} THEN {_literal(TargetCategory.UNSTABLE_EXITED)}"
    whens = [exited, *(f"WHEN {_fired(col, r)} THEN {_literal(r.category)}" for r in screening_rules() if r.category)]
    return f"CASE {' '.join(whens)} ELSE {_literal(TargetCategory.SUDDEN_HARDSHIP)} END"


def _risk_presence(col: Callable[[str], str]) -> list[tuple[str, str]]:
    """(risk type, SQL 1/0 whether the household suggests it), in ``RiskType`` order — the table of
    ``risk_types_suggest``."""
    figure_of = dict(EXPENDITURE_COLUMNS)
    flags = col("mflags")
    present: list[tuple[str, str]] = []
    for risk in RiskType.values:
        conditions = [f"COALESCE({col(figure_of[code])}, 0) > 0" for code, r in EXPENDITURE_RISK.items() if r == risk]
        conditions += [f"({flags} & {flag}) <> 0" for flag, r in MEMBER_RISK if r == risk]
        if risk == LACK_OF_LABOR:
            conditions.append(f"(({flags} & {MEMBER_ANY}) <> 0 AND ({flags} & {MEMBER_ABLE}) = 0)")
        if conditions:
            present.append((risk, f"CASE WHEN {' OR '.join(conditions)} THEN 1 ELSE 0 END"))
    return present


def _risk_types_json(col: Callable[[str], str]) -> str:
    """SQL twin of ``risk_types_suggest`` (SPEC 4.2): the present risk types in ``RiskType`` order,
    at most ``MAX_RISK_TYPES`` (a type is kept while fewer than that many come before it)."""
    present = _risk_presence(col)
    parts = []
    for i, (risk, is_present) in enumerate(present):
        before = " + ".join(flag for _risk, flag in present[:i]) or "0"
        parts.append(
            f"CASE WHEN {is_present} = 1 AND {before} < {MAX_RISK_TYPES}"
            f" THEN {_literal(',' + json.dumps(risk))} ELSE '' END"
        )
    return _list_of(parts)


def stage_texts(col: Callable[[str], str]) -> dict[str, str]:
    """SQL of the texts a lead is written from, over a stage row (``col(name)`` → its column): the
    rules fired (JSON list), their evidence (JSON object by rule code), the suggested category and
    risk types (JSON list).  Needs ``_settings_params``."""
    return {
        "rules_fired": _rules_list_json(col),
        "rules_evidence": _rules_evidence_json(col),
        "category": _category_sql(col),
        "risk_types": _risk_types_json(col),
    }


def _inputs_digest_sql(col: Callable[[str], str]) -> str:
    """SQL: the digest of a fired row's inputs but the members (see above).  Needs
    ``stage_digest_params``."""
    rules = screening_rules()
    figure_of = dict(EXPENDITURE_COLUMNS)
    parts = ["%(digest_salt)s", _text(col("htype"))]
    parts += [_text(col("f_" + r.key)) for r in rules]
    parts += [f"CASE WHEN COALESCE({col(figure_of[code])}, 0) > 0 THEN '1' ELSE '0' END" for code in EXPENDITURE_RISK]
    for rule in rules:
        evidence = _evidence(rule)
        shown = [_text(col(name)) for name in sorted(evidence.figure_names())]
        shown += [
            _setting(term) for term in dict.fromkeys(evidence.terms()) if isinstance(term, ParameterText | LineText)
        ]
        shown_sql = " || ',' || ".join(shown) or "''"
        parts.append(f"CASE WHEN {_fired(col, rule)} THEN {shown_sql} ELSE '' END")
    return "MD5(" + " || '|' || ".join(parts) + ")"


def _digest_sql(inputs: str, member_flags: str) -> str:
    return f"MD5({inputs} || '|' || {_text(member_flags)})"


def stage_digest(col: Callable[[str], str]) -> str:
    """SQL: the whole digest of a fired stage row (its inputs and its members' flags ``mflags``)."""
    return _digest_sql(_inputs_digest_sql(col), col("mflags"))


def stage_digest_params(*, year: int, rules: RuleSettings) -> dict[str, Any]:
    """Bound values of the digest and the texts: the settings, and the salt (year, rendering)."""
    col = lambda name: f"s.{name}"  # noqa: E731
    rendering = "|".join([str(year), *stage_texts(col).values(), _inputs_digest_sql(col), _digest_sql("i", "m")])
    return {
        **_settings_params(rules),
        "digest_salt": hashlib.md5(rendering.encode(), usedforsecurity=False).hexdigest(),
    }


def _member_flags_sql(hid: str) -> str:
    mem = Member._meta.db_table
    return f"""(SELECT
          MAX(CASE WHEN m.health IN ('SERIOUS', 'CHRONIC') THEN {MEMBER_ILL} ELSE 0 END)
        + MAX(CASE WHEN m.health = 'DISABLED' OR m.disability_grade <> '' THEN {MEMBER_DISABLED} ELSE 0 END)
        + MAX(CASE WHEN m.labor IN ('NORMAL', 'SKILLED') THEN {MEMBER_ABLE} ELSE 0 END)
        + {MEMBER_ANY}
        FROM {mem} m WHERE m.household_id = {hid} AND m.status = '{CURRENT}')"""  # noqa: S608  # nosec B608


def _stage_columns() -> list[str]:
    """The figure and flag columns of a stage row (after ``county``, ``hid``, ``htype``)."""
    return [*_figure_names(), *(f"{kind}_{r.key}" for r in screening_rules() for kind in ("f", "m"))]


def stage_compare_sql(table: str, counties: str = "county = %(county)s") -> str:
    """UPDATE: the rows of the county (``%(county)s``, or the condition ``counties``) whose open
    lead's digest differs from theirs go to be decided (``W``); the rows left ``N`` are leads
    screening would write unchanged."""
    return f"""
    UPDATE {table} SET action = {_literal(STAGE_TO_DECIDE)}
    WHERE {counties} AND action = {_literal(STAGE_UNCHANGED)}
      AND {_digest_sql("inputs", _member_flags_sql(f"{table}.hid"))} <> lead_digest
    """  # noqa: S608  # nosec B608


def stage_decide_sql(table: str, decide: Callable[[str], str], counties: str = "s.county = %(county)s") -> str:
    """UPDATE: for every row to decide (``W``) of the county (``%(county)s``, or the condition
    ``counties`` over the row ``s``), the members' flags, the digest and the action
    ``decide(alias)`` says (SQL over the row ``alias``, see ``screening_staged``)."""
    # The member look-up once per row (PostgreSQL and SQLite would otherwise inline it into every
    # use), each row found again by its physical address, not by a join the planner could not size.
    if connection.vendor == "postgresql":
        fence, tid = "OFFSET 0", "ctid"
    else:
        fence, tid = "LIMIT -1 OFFSET 0", "rowid"
    return f"""
    UPDATE {table} SET mflags = x.mflags, digest = {_digest_sql("x.inputs", "x.mflags")}, action = {decide(table)}
    FROM (
        SELECT s.{tid} AS tid, s.inputs AS inputs, {_member_flags_sql("s.hid")} AS mflags FROM {table} s
        WHERE {counties} AND s.action = {_literal(STAGE_TO_DECIDE)}
        {fence}
    ) x
    WHERE {table}.{tid} = x.tid
    """  # noqa: S608  # nosec B608


def _stage_sql(*, narrow_to_ids: bool, expenditure_sums: str | None) -> str:
    """The stage of the households below ``%(lo)s``–``%(hi)s`` (see above): figures and flags of
    those where a rule fired or lacked data, with their open lead's digest and whether they are an
    active target.  One query level of plain joins, so that PostgreSQL's parallel workers do all of
    it."""
    hh, lead, target = Household._meta.db_table, Lead._meta.db_table, MonitoringTarget._meta.db_table
    rules = screening_rules()
    fired = " + ".join(f"ev.f_{r.key}" for r in rules) or "0"
    missing = " + ".join(f"ev.m_{r.key}" for r in rules) or "0"
    ids = ""
    narrow = ""
    if narrow_to_ids:
        ids = f"""ids AS (SELECT MIN(id + 0) AS lo_id, MAX(id + 0) AS hi_id FROM {hh}
               WHERE village_id >= %(lo)s AND village_id <= %(hi)s), """  # noqa: S608  # nosec B608
        narrow = "AND l.household_id BETWEEN (SELECT lo_id FROM ids) AND (SELECT hi_id FROM ids)"
    open_states = ", ".join(_literal(state) for state in OPEN_LEAD_STATES)
    text = "VARCHAR" if connection.vendor == "postgresql" else "TEXT"
    action = f"""CASE WHEN {fired} = 0 THEN ''
                WHEN tg.id IS NULL AND l.screening_digest <> '' THEN {_literal(STAGE_UNCHANGED)}
                ELSE {_literal(STAGE_TO_DECIDE)} END"""
    inputs = f"CASE WHEN {fired} > 0 THEN {_inputs_digest_sql(lambda name: f'ev.{name}')} END"
    return f"""WITH {ids}base AS ({_base_sql(narrow_to_ids=narrow_to_ids, expenditure_sums=expenditure_sums)})
    SELECT CAST(SUBSTR(ev.village, 1, 6) AS {text}) AS county, ev.hid, ev.htype,
           {", ".join(f"ev.{name}" for name in _stage_columns())},
           l.screening_digest AS lead_digest, CAST({action} AS {text}) AS action, {inputs} AS inputs,
           CAST(NULL AS INTEGER) AS mflags, CAST(NULL AS {text}) AS digest
    FROM (SELECT b.*, {_flag_columns("b")} FROM base b) ev
    LEFT JOIN {lead} l ON l.household_id = ev.hid AND l.state IN ({open_states}) {narrow}
    LEFT JOIN {target} tg ON tg.household_id = ev.hid AND tg.status = {_literal(TargetStatus.ACTIVE)}
    WHERE {fired} > 0 OR {missing} > 0
    """  # noqa: S608  # nosec B608


def screening_stage_create(*, table: str, prefix: str, year: int, rules: RuleSettings, shared: bool) -> None:
    """Evaluate every household below ``prefix`` into the new scratch table ``table`` (see above),
    indexed by county and action.  ``shared``: other connections read it (the county tasks of a
    province run; on PostgreSQL an unlogged table), else a temporary table of this connection.

    A county is one statement that reads its slice of incomes and expenditures by household id.  A
    larger region is two: the expenditure sums of its households first (a small table), then the
    evaluation, which PostgreSQL runs in parallel — every worker joins the one table of sums
    instead of aggregating all expenditures itself."""
    postgres = connection.vendor == "postgresql"
    kind = "TEMPORARY" if not shared else ("UNLOGGED" if postgres else "")
    params = {**_params(prefix=prefix, year=year, rules=rules), **stage_digest_params(year=year, rules=rules)}
    county = len(prefix) >= 6
    with connection.cursor() as cursor:
        if postgres and not county:
            # the hashes of a region-wide statement stay in memory
            cursor.execute("SET LOCAL work_mem = '64MB'")
        if county:
            sql = _stage_sql(narrow_to_ids=True, expenditure_sums=None)
        else:
            hh = Household._meta.db_table
            cursor.execute(
                f"SELECT MIN(id + 0), MAX(id + 0) FROM {hh} WHERE village_id >= %(lo)s AND village_id <= %(hi)s",  # noqa: S608  # nosec B608
                params,
            )
            lo_id, hi_id = cursor.fetchone()
            params.update(lo_id=lo_id or 0, hi_id=hi_id if hi_id is not None else -1)
            sums = f"{table}_x"
            if postgres:  # rows come in household order: grouping as they come needs no big hash
                cursor.execute("SET LOCAL enable_hashagg = off")
            cursor.execute(
                f"CREATE {kind} TABLE {sums} AS {_base_sql(narrow_to_ids=False, expenditure_sums='')}", params
            )
            if postgres:
                cursor.execute("SET LOCAL enable_hashagg = on")
            if postgres:
                cursor.execute(f"ANALYZE {sums}")
                # Registry tables a bulk load left without statistics make the planner expect a few
                # dozen households and join the year's incomes by nested loops: 157 s instead of
                # 0.4 s at 100 000 households.  The analyzed plan has none (docs/benchmarks.md, session 9).
                cursor.execute("SET LOCAL enable_nestloop = off")
            sql = _stage_sql(narrow_to_ids=False, expenditure_sums=sums)
        cursor.execute(f"CREATE {kind} TABLE {table} AS {sql}", params)
        if not county:
            if postgres:
                cursor.execute("SET LOCAL enable_nestloop = on")
            cursor.execute(f"DROP TABLE {table}_x")
        if shared:  # a temporary stage holds one county
            cursor.execute(f"CREATE INDEX {table}_county ON {table} (county, action)")


def screening_stages() -> list[str]:
    """The names of the stage tables there are (``screening_stage_<run id>``)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE %s",
                ["screening\\_stage\\_%"],
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE %s ESCAPE '\\'",
                ["screening\\_stage\\_%"],
            )
        return [name for (name,) in cursor.fetchall() if name.rsplit("_", 1)[1].isdigit()]


def screening_stage_exists(table: str) -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # a query of the catalog, not to_regclass: its cache may not yet know a table another
            # connection just created
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = %s)",
                [table],
            )
            return bool(cursor.fetchone()[0])
        cursor.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
        return bool(cursor.fetchone()[0])


def screening_stage_drop(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


# -- households, any window (the 12-month 收支核算 at 入户核实, monitoring.selectors.accounting;
# the 风险消除 criteria, assistance.selectors.elimination_data) ----------------------------------
JUDGE_CHUNK = 400  # households per judging statement (bound parameters stay far below SQLite's limit)


def out_of_pocket_window_many(
    *, household_ids: Sequence[int], start: dt.date, end: dt.date
) -> dict[int, dict[str, int]]:
    """The ledger's out-of-pocket rigid expenditure per household dated ``start`` … ``end``
    (inclusive), in fen, counted exactly as screening counts a year's (the same statement: per
    member the larger of the 医保 extract and the other 医疗 records): ``x_total``, ``x_<category>``
    and ``MEDICAL_BASIS_COLUMNS``; zeros for a household the ledger has nothing on in the window.
    One statement over the ids' range."""
    if not household_ids:
        return {}
    wanted = set(household_ids)
    names = ["x_total", *(column for _code, column in EXPENDITURE_COLUMNS), *MEDICAL_BASIS_COLUMNS]
    params: dict[str, Any] = {"year_start": start, "year_end": end, "lo_id": min(wanted), "hi_id": max(wanted)}
    result = {hid: dict.fromkeys(names, 0) for hid in wanted}
    with connection.cursor() as cursor:
        cursor.execute(_base_sql(narrow_to_ids=False, expenditure_sums=""), params)
        for row in cursor.fetchall():
            if row[0] in wanted:
                result[row[0]] = {name: int(row[1 + i] or 0) for i, name in enumerate(names)}
    return result


def out_of_pocket_window_fen(*, household_id: int, start: dt.date, end: dt.date) -> dict[str, int]:
    """``out_of_pocket_window_many`` of one household."""
    return out_of_pocket_window_many(household_ids=[household_id], start=start, end=end)[household_id]


def rules_judge_many(
    *, codes: tuple[str, ...], figures: Mapping[int, Mapping[str, int | None]], rules: RuleSettings
) -> dict[int, dict[str, tuple[bool, bool]]]:
    """Judge each key's figures (``BASE_FIGURES`` in fen and persons; a name not given is ``NULL``)
    with the declared rules ``codes`` — their own ``fires`` / ``missing`` SQL, rendered as for a
    run — and ``rules`` (line and parameters).  ``{key: {code: (fires, missing)}}``; one statement
    per ``JUDGE_CHUNK`` keys (a ``UNION ALL`` of literal rows), nothing written.  Rules that declare
    columns of their own cannot be judged on figures alone."""
    declared = []
    for code in codes:
        rule = next((r for r in screening_rules() if r.code == code), None)
        if rule is None or rule.columns:
            raise ValueError(f"rule {code!r} is not registered or needs its own columns")
        declared.append(rule)
    if not declared:
        return {key: {} for key in figures}
    flags = []
    for rule in declared:
        fires, missing = _rule_sql(rule, "w")
        flags += [f"CASE WHEN {fires} THEN 1 ELSE 0 END", f"CASE WHEN {missing} THEN 1 ELSE 0 END"]
    result: dict[int, dict[str, tuple[bool, bool]]] = {}
    keys = list(figures)
    for lo in range(0, len(keys), JUDGE_CHUNK):
        chunk = keys[lo : lo + JUDGE_CHUNK]
        params: dict[str, Any] = dict(_rule_params(rules))
        selects = []
        for i, key in enumerate(chunk):
            params[f"h{i}"] = key
            values = [f"CAST(%(h{i})s AS BIGINT) AS hid"]
            for name in BASE_FIGURES:
                params[f"f{i}_{name}"] = figures[key].get(name)
                values.append(f"CAST(%(f{i}_{name})s AS BIGINT) AS {name}")
            selects.append("SELECT " + ", ".join(values))
        rows_sql = " UNION ALL ".join(selects)
        sql = f"SELECT w.hid, {', '.join(flags)} FROM ({rows_sql}) w"  # noqa: S608  # nosec B608
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for row in cursor.fetchall():
                result[int(row[0])] = {
                    rule.code: (bool(row[1 + 2 * i]), bool(row[2 + 2 * i])) for i, rule in enumerate(declared)
                }
    return result


def rules_judge(
    *, codes: tuple[str, ...], figures: Mapping[str, int | None], rules: RuleSettings
) -> dict[str, tuple[bool, bool]]:
    """``rules_judge_many`` of one set of figures."""
    return rules_judge_many(codes=codes, figures={0: figures}, rules=rules)[0]
