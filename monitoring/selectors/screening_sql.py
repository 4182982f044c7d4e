"""The set-based rule evaluation of SPEC §4: one SQL statement per county, whatever its size.

Exactness.  Every amount is turned into an integer number of fen (``ROUND(x * 100)``; exact on
PostgreSQL's numeric and, as a 64-bit integer, on SQLite, which stores decimals as doubles), and
every ratio parameter into basis points (1/10 000, the parameters have four decimals).  Divisions
are moved to the other side of the comparison, so nothing is rounded:

* LOW_INCOME: ``total / size < line``  ⇔  ``total_fen < line_fen × size``
* EXPENDITURE_SPIKE: ``oop > r × prev_total``  ⇔  ``oop_fen × 10000 > r_bp × prev_total_fen``
  (and ``oop > 0``: a spike needs spending — with a negative previous income, zero would fire)
* INCOME_DROP: ``cur_total / cur_size ≤ (1 − d) × prev_total / prev_size``
  ⇔ ``cur_total_fen × prev_size × 10000 ≤ (10000 − d_bp) × prev_total_fen × cur_size``, and
  ``cur_total / cur_size < m × line``  ⇔  ``cur_total_fen × 10000 < m_bp × line_fen × cur_size``

The SQL text is built only from constants (table names from model metadata, fixed codes); every
value — region bounds, year, line, ratios — is a bound parameter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection

from monitoring.models import AnnualIncome, Household, Member, RigidExpenditure

# Out-of-pocket columns, in ExpenditureCategory order.
EXPENDITURE_COLUMNS = (
    ("MEDICAL", "x_medical"),
    ("DISABILITY", "x_disability"),
    ("DISASTER", "x_disaster"),
    ("EPIDEMIC", "x_epidemic"),
    ("ACCIDENT", "x_accident"),
    ("EDUCATION", "x_education"),
)

MEDICAL = "MEDICAL"
# How a household's 医疗 out-of-pocket was counted (screening evidence): from members' 医保 extract
# totals, from the other records, and the smaller side of each member set aside (not counted twice).
MEDICAL_BASIS_COLUMNS = ("xm_extract", "xm_records", "xm_set_aside")

INCOME_COLUMNS = ("wage_income", "business_income", "property_income", "transfer_income")

# Member flags (bit mask) computed only for households where a rule fired.
MEMBER_ILL = 1  # 患有大病 / 长期慢性病
MEMBER_DISABLED = 2  # 残疾 (health) or a disability grade
MEMBER_ABLE = 4  # 普通劳动力 / 技能劳动力
MEMBER_ANY = 8  # the household has members at all


@dataclass(frozen=True)
class RuleSettings:
    """The values the rules compare with, for one province and year."""

    line: Decimal | None
    spike_ratio: Decimal
    drop_ratio: Decimal
    drop_line_multiple: Decimal


@dataclass(frozen=True)
class FiredRow:
    household_id: int
    household_type: str
    cur_size: int | None
    cur_total_fen: int | None
    prev_size: int | None
    prev_total_fen: int | None
    oop_fen: dict[str, int]
    low_income: bool
    spike: bool
    drop: bool
    member_flags: int
    # 医疗 fen counted from 医保 extracts, from other records, and set aside (see MEDICAL_BASIS_COLUMNS)
    medical_basis_fen: tuple[int, int, int] = (0, 0, 0)


@dataclass
class RuleCounts:
    households: int = 0
    low_income_fired: int = 0
    low_income_missing: int = 0
    spike_fired: int = 0
    spike_missing: int = 0
    drop_fired: int = 0
    drop_missing: int = 0
    any_fired: int = 0
    # the county's household-id range (narrows later reads of leads and targets)
    lo_id: int = 0
    hi_id: int = -1


def _bp(value: Decimal) -> int:
    return int((value * 10000).to_integral_value())


def _fen_expr(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST({column} * 100 AS BIGINT)"
    return f"CAST(ROUND({column} * 100) AS INTEGER)"


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def code_bounds(prefix: str) -> tuple[str, str]:
    """The range of 12-digit village codes below a region code prefix (an index range scan)."""
    return prefix.ljust(12, "0"), prefix.ljust(12, "9")


def _rule_conditions(alias: str, suffix: str = "") -> dict[str, str]:
    """The three rules (and their 数据缺失 cases) as SQL conditions on a row of ``base`` (``alias``),
    with the rule values as bound parameters named ``<name><suffix>`` (see ``_params``).  The one
    place the rules are written in SQL: the county evaluation and the what-if counts use it."""
    a, s = alias, suffix
    return {
        "f_low": f"""%(has_line{s})s = 1 AND {a}.c_total IS NOT NULL
                AND {a}.c_total < CAST(%(line_fen{s})s AS BIGINT) * {a}.c_size""",
        "m_low": f"%(has_line{s})s = 0 OR {a}.c_total IS NULL",
        "f_spike": f"""{a}.p_total IS NOT NULL AND {a}.x_total > 0
                AND {a}.x_total * 10000 > CAST(%(spike_bp{s})s AS BIGINT) * {a}.p_total""",
        "m_spike": f"{a}.p_total IS NULL AND {a}.x_total > 0",
        "f_drop": f"""%(has_line{s})s = 1 AND {a}.c_total IS NOT NULL AND {a}.p_total IS NOT NULL
                AND {a}.c_total * {a}.p_size * 10000 <= CAST(%(keep_bp{s})s AS BIGINT) * {a}.p_total * {a}.c_size
                AND {a}.c_total * 10000
                    < CAST(%(multiple_bp{s})s AS BIGINT) * CAST(%(line_fen{s})s AS BIGINT) * {a}.c_size""",
        "m_drop": f"%(has_line{s})s = 0 OR {a}.c_total IS NULL OR {a}.p_total IS NULL",
    }


def _flag_columns(alias: str) -> str:
    return ",\n      ".join(
        f"CASE WHEN {condition} THEN 1 ELSE 0 END AS {name}" for name, condition in _rule_conditions(alias).items()
    )


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
    # SQL from constants only (table names, fixed codes); every value is a bound parameter.
    return f"""
    SELECT h.id AS hid, h.household_type AS htype, h.village_id AS village,
           c.family_size AS c_size, {c_total} AS c_total,
           p.family_size AS p_size, {p_total} AS p_total,
           COALESCE(e.x_total, 0) AS x_total,
           {", ".join(f"COALESCE(e.{col}, 0) AS {col}" for _, col in EXPENDITURE_COLUMNS)},
           {", ".join(f"COALESCE(e.{col}, 0) AS {col}" for col in MEDICAL_BASIS_COLUMNS)}
    FROM {hh} h
    {incomes}
    WHERE h.village_id >= %(lo)s AND h.village_id <= %(hi)s
    """  # noqa: S608  # nosec B608


def _evaluation_sql() -> str:
    hh = Household._meta.db_table
    mem = Member._meta.db_table
    base = _base_sql(narrow_to_ids=True)
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
    counts = """
    SELECT 0 AS kind, COUNT(*) AS hid, NULL AS htype,
           SUM(f_low) AS c_size, SUM(m_low) AS c_total, SUM(f_spike) AS p_size, SUM(m_spike) AS p_total,
           SUM(f_drop) AS x_total, SUM(m_drop) AS x_medical,
           SUM(CASE WHEN f_low + f_spike + f_drop > 0 THEN 1 ELSE 0 END) AS x_disability,
           (SELECT lo_id FROM ids) AS x_disaster, (SELECT hi_id FROM ids) AS x_epidemic,
           0 AS x_accident, 0 AS x_education,
           0 AS f_low, 0 AS f_spike, 0 AS f_drop, 0 AS member_flags,
           0 AS xm_extract, 0 AS xm_records, 0 AS xm_set_aside
    FROM ev
    """
    member_flags = f"""(SELECT
          MAX(CASE WHEN m.health IN ('SERIOUS', 'CHRONIC') THEN {MEMBER_ILL} ELSE 0 END)
        + MAX(CASE WHEN m.health = 'DISABLED' OR m.disability_grade <> '' THEN {MEMBER_DISABLED} ELSE 0 END)
        + MAX(CASE WHEN m.labor IN ('NORMAL', 'SKILLED') THEN {MEMBER_ABLE} ELSE 0 END)
        + {MEMBER_ANY}
        FROM {mem} m WHERE m.household_id = ev.hid)"""  # noqa: S608  # nosec B608
    rows = f"""
    SELECT 1 AS kind, hid, htype, c_size, c_total, p_size, p_total, x_total,
           {", ".join(col for _, col in EXPENDITURE_COLUMNS)},
           f_low, f_spike, f_drop, {member_flags} AS member_flags,
           {", ".join(MEDICAL_BASIS_COLUMNS)}
    FROM ev WHERE f_low + f_spike + f_drop > 0
    """  # noqa: S608  # nosec B608
    return f"WITH {ids}, base AS {materialized}({base}), ev AS ({flags}) {rows} UNION ALL {counts}"


def _rule_params(rules: RuleSettings, suffix: str = "") -> dict[str, Any]:
    line_fen = int((rules.line * 100).to_integral_value()) if rules.line is not None else 0
    return {
        f"has_line{suffix}": 1 if rules.line is not None else 0,
        f"line_fen{suffix}": line_fen,
        f"spike_bp{suffix}": _bp(rules.spike_ratio),
        f"keep_bp{suffix}": 10000 - _bp(rules.drop_ratio),
        f"multiple_bp{suffix}": _bp(rules.drop_line_multiple),
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


def _counts_from(row: tuple[Any, ...]) -> RuleCounts:
    values = [int(v or 0) for v in row[1:]]
    return RuleCounts(
        households=values[0],
        low_income_fired=values[2],
        low_income_missing=values[3],
        spike_fired=values[4],
        spike_missing=values[5],
        drop_fired=values[6],
        drop_missing=values[7],
        any_fired=values[8],
        lo_id=values[9],
        hi_id=values[10] if row[11] is not None else -1,
    )


def screening_evaluate(*, prefix: str, year: int, rules: RuleSettings) -> tuple[list[FiredRow], RuleCounts]:
    """Evaluate the three rules for every household below ``prefix`` (one query).

    Returns the households where at least one rule fired (with the figures) and the counts of
    fired and missing-data households per rule.
    """
    sql = _evaluation_sql()
    fired: list[FiredRow] = []
    counts = RuleCounts()
    with connection.cursor() as cursor:
        cursor.execute(sql, _params(prefix=prefix, year=year, rules=rules))
        for row in cursor.fetchall():
            if row[0] == 0:
                counts = _counts_from(row)
                continue
            fired.append(
                FiredRow(
                    household_id=int(row[1]),
                    household_type=str(row[2]),
                    cur_size=_int(row[3]),
                    cur_total_fen=_int(row[4]),
                    prev_size=_int(row[5]),
                    prev_total_fen=_int(row[6]),
                    oop_fen={code: int(row[8 + i] or 0) for i, (code, _) in enumerate(EXPENDITURE_COLUMNS)},
                    low_income=bool(row[14]),
                    spike=bool(row[15]),
                    drop=bool(row[16]),
                    member_flags=int(row[17] or 0),
                    medical_basis_fen=(int(row[18] or 0), int(row[19] or 0), int(row[20] or 0)),
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
    a, b = _rule_conditions("b", "_a"), _rule_conditions("b", "_b")
    fires_a = " OR ".join(f"({a[rule]})" for rule in ("f_low", "f_spike", "f_drop"))
    fires_b = " OR ".join(f"({b[rule]})" for rule in ("f_low", "f_spike", "f_drop"))
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
