"""The set-based rule evaluation of SPEC §4: one SQL statement per county, whatever its size.

The statements are generated here — the one place — from the rule declarations
(``monitoring.models.screening_rules``): ``_base_sql`` computes the figures of every household (the
base figures and the rules' own columns), ``_rule_sql`` renders a rule's ``fires`` / ``missing``
template over a base row, ``_evaluation_sql`` adds one fired and one missing flag per rule and the
counts, ``screening_compare_by_county`` counts households where any rule fires under two sets of
values (the what-if preview).

Exactness.  Every amount is turned into an integer number of fen (``ROUND(x * 100)``; exact on
PostgreSQL's numeric and, as a 64-bit integer, on SQLite, which stores decimals as doubles), and
every ratio parameter into basis points (1/10 000, the parameters have four decimals).  Divisions
are moved to the other side of the comparison in each declaration, so nothing is rounded.

The SQL text is built only from constants (table names from model metadata, fixed codes, the
declarations' templates); every value — region bounds, year, line, parameters — is a bound parameter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from monitoring.models import AnnualIncome, Household, Member, RigidExpenditure
from monitoring.models.screening_rules import (
    BASE_FIGURES,
    EXPENDITURE_COLUMNS,
    MEDICAL_BASIS_COLUMNS,
    MEMBER_ABLE,
    MEMBER_ANY,
    MEMBER_DISABLED,
    MEMBER_ILL,
    RuleSettings,
    ScreeningRuleDeclaration,
    rule_columns,
    rule_parameters,
    screening_rules,
)

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

INCOME_COLUMNS = ("wage_income", "business_income", "property_income", "transfer_income")


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


def _fen_expr(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST({column} * 100 AS BIGINT)"
    return f"CAST(ROUND({column} * 100) AS INTEGER)"


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


def _base_sql(*, narrow_to_ids: bool) -> str:
    """One row per household below the region bounds: the two years' totals in fen and sizes, and
    out-of-pocket expenditure by category.  ``narrow_to_ids``: see the comment below (needs the
    ``ids`` CTE); without it, a region-wide statement lets PostgreSQL scan and hash in parallel."""
    hh = Household._meta.db_table
    inc = AnnualIncome._meta.db_table
    exp = RigidExpenditure._meta.db_table

    def total(alias: str) -> str:
        if connection.vendor == "postgresql":  # numeric is exact; bigint fen keeps the rest fast
            parts = " + ".join(f"{alias}.{c}" for c in INCOME_COLUMNS)
            return f"CAST(({parts}) * 100 AS BIGINT)"
        return " + ".join(_fen_expr(f"{alias}.{c}") for c in INCOME_COLUMNS)

    oop = f"CASE WHEN x.amount > x.reimbursed THEN {_fen_expr('x.amount')} - {_fen_expr('x.reimbursed')} ELSE 0 END"
    # The one ledger (SPEC §2), per household and member first: for 医疗 a member counts the larger
    # of the 医保 extract rows (m_ext) and its other rows (m_oth), never both (a row reported by
    # both is in both sums); rows without a member are their own group, with no extract.
    per_member_category = ",\n".join(
        f"SUM(CASE WHEN x.category = '{code}' THEN {oop} ELSE 0 END) AS {col}"
        for code, col in EXPENDITURE_COLUMNS
        if code != MEDICAL
    )
    larger = "CASE WHEN g.m_ext > g.m_oth THEN g.m_ext ELSE g.m_oth END"
    per_category = ",\n".join(
        f"SUM({larger}) AS {col}" if code == MEDICAL else f"SUM(g.{col}) AS {col}" for code, col in EXPENDITURE_COLUMNS
    )
    # The county's households are found by village code; their incomes and expenditures by
    # household id, restricted to the county's id range first (``ids``): counties are imported
    # together, so the range is narrow and the planner reads only that slice of the income index
    # instead of hashing the whole table for every county.  The range never changes the result.
    in_range = "BETWEEN (SELECT lo_id FROM ids) AND (SELECT hi_id FROM ids)"
    narrow = (lambda column: f"AND {column} {in_range}") if narrow_to_ids else (lambda column: "")
    incomes = f"""
    LEFT JOIN {inc} c ON c.household_id = h.id AND c.year = %(year)s {narrow("c.household_id")}
    LEFT JOIN {inc} p ON p.household_id = h.id AND p.year = %(prev_year)s {narrow("p.household_id")}
    LEFT JOIN (
        SELECT g.household_id AS household_id, SUM(g.o_rest + {larger}) AS x_total,
               {per_category},
               SUM(CASE WHEN g.m_ext > g.m_oth THEN g.m_ext ELSE 0 END) AS xm_extract,
               SUM(CASE WHEN g.m_ext > g.m_oth THEN 0 ELSE g.m_oth END) AS xm_records,
               SUM(CASE WHEN g.m_ext > g.m_oth THEN g.m_oth ELSE g.m_ext END) AS xm_set_aside
        FROM (
            SELECT x.household_id AS household_id,
                   SUM(CASE WHEN x.category <> '{MEDICAL}' THEN {oop} ELSE 0 END) AS o_rest,
                   {per_member_category},
                   SUM(CASE WHEN x.category = '{MEDICAL}' AND x.source_extract THEN {oop} ELSE 0 END) AS m_ext,
                   SUM(CASE WHEN x.category = '{MEDICAL}' AND (x.source_import OR x.source_alert)
                       THEN {oop} ELSE 0 END) AS m_oth
            FROM {exp} x
            WHERE x.occurred_on >= %(year_start)s AND x.occurred_on <= %(year_end)s {narrow("x.household_id")}
            GROUP BY x.household_id, x.member_id
        ) g
        GROUP BY g.household_id
    ) e ON e.household_id = h.id"""  # noqa: S608  # nosec B608
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
        FROM {mem} m WHERE m.household_id = ev.hid)"""  # noqa: S608  # nosec B608
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
