"""The two income criteria of 风险消除 (SPEC §5.6), judged for many targets at once by the declared
screening rules.

* **收入** — 收入低于监测标准 (``LOW_INCOME``) must not fire on the latest 12 months of data;
* **刚性支出** — 刚性支出骤增 (``EXPENDITURE_SPIKE``) must not fire on the latest data.

"The latest 12 months of data" (decision record 2026-12-04-elimination-same-steps):

* the income is the 12-month 家庭收支核算 recorded at the proposal's 入户核实 (the 12 months up to
  the home check) when the village recorded one — judged, like the identification's 核算
  (``monitoring.selectors.accounting``), with the line of its end year (or the latest one set
  before it) and the province's deduction setting; otherwise the latest annual income record
  (年度收入), judged with that year's line, without deduction, as screening does;
* the out-of-pocket rigid spending is the ledger's for the 12 months up to the day of the
  assessment, counted as screening counts a year's (the same statement).

The rules are never written here: their ``fires`` / ``missing`` SQL comes from the declarations
through ``monitoring.selectors.screening_sql`` and is evaluated for every household in one
statement per province and line year (the same rendering ``rules_judge`` uses for one household).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from fanpin.core.regions import province_code_of
from monitoring.models import AnnualIncome
from monitoring.models.households import per_capita_floor
from monitoring.models.screening_rules import (
    BASE_FIGURES,
    EXPENDITURE_COLUMNS,
    EXPENDITURE_SPIKE,
    LOW_INCOME,
)
from monitoring.selectors.accounting import accounting_deduction_for, fen, window_start_for, yuan
from monitoring.selectors.lines import monitoring_line_year_latest
from monitoring.selectors.screening import rule_settings_for
from monitoring.selectors.screening_sql import out_of_pocket_window_many, rules_judge_many

JUDGED_RULES: tuple[str, ...] = (LOW_INCOME.code, EXPENDITURE_SPIKE.code)


@dataclass(frozen=True)
class IncomeBasis:
    """What the income criteria were judged on, said on the panel."""

    kind: str  # "ACCOUNTING" (the proposal's 12-month 核算) or "ANNUAL" (the latest 年度收入)
    label: str
    family_size: int
    income: Decimal  # the household's total income of the period (yuan)
    line_year: int


@dataclass(frozen=True)
class IncomeJudgement:
    basis: IncomeBasis | None  # None: no income data at all
    line: Decimal | None
    deduct: bool
    spend_start: dt.date
    spend_end: dt.date
    out_of_pocket: Decimal
    spike_ratio: Decimal
    low_income: tuple[bool, bool]  # (fires, missing)
    spike: tuple[bool, bool]

    @property
    def per_capita(self) -> Decimal | None:
        if self.basis is None:
            return None
        judged = self.basis.income - self.out_of_pocket if self.deduct else self.basis.income
        return per_capita_floor(judged, self.basis.family_size)


@dataclass(frozen=True)
class IncomeInput:
    """One target's data for the income criteria (the proposal's 核算, if any, is passed in)."""

    household_id: int
    village_code: str
    accounting_end: dt.date | None = None  # the home check's date, when a 核算 was recorded
    accounting_family_size: int | None = None
    accounting_income: Decimal | None = None


def income_judge_many(*, inputs: Iterable[IncomeInput], today: dt.date) -> dict[int, IncomeJudgement]:
    """The income criteria of each household (keyed by household id).  Queries: one for the
    latest annual incomes, one for the ledger, and per province and line year one for the line,
    one for the parameters, one for the deduction setting and one judging statement."""
    items = {i.household_id: i for i in inputs}
    if not items:
        return {}
    latest: dict[int, AnnualIncome] = {}
    annual_ids = [hid for hid, i in items.items() if i.accounting_family_size is None]
    for record in AnnualIncome.objects.filter(household_id__in=annual_ids).order_by("household_id", "year"):
        latest[record.household_id] = record
    spend_start, spend_end = window_start_for(today), today
    oop = out_of_pocket_window_many(household_ids=list(items), start=spend_start, end=spend_end)

    bases: dict[int, IncomeBasis | None] = {}
    line_years: dict[tuple[str, int], int] = {}
    for hid, item in items.items():
        province = province_code_of(item.village_code)
        if item.accounting_family_size is not None and item.accounting_end is not None:
            end = item.accounting_end
            key = (province, end.year)
            if key not in line_years:
                line_years[key] = monitoring_line_year_latest(province_code=province, up_to=end.year) or end.year
            period = f"{window_start_for(end):%Y-%m-%d} 至 {end:%Y-%m-%d}"
            bases[hid] = IncomeBasis(
                kind="ACCOUNTING",
                label=f"{end:%Y-%m-%d} 入户核实的 12 个月收支核算（{period}）",
                family_size=item.accounting_family_size,
                income=item.accounting_income or Decimal("0.00"),
                line_year=line_years[key],
            )
        elif hid in latest:
            annual = latest[hid]
            bases[hid] = IncomeBasis(
                kind="ANNUAL",
                label=f"最近年度收入记录（{annual.year} 年；未录入 12 个月收支核算）",
                family_size=annual.family_size,
                income=annual.total,
                line_year=annual.year,
            )
        else:
            bases[hid] = None

    # group by the settings the rules compare with: province and line year (no data: this year)
    groups: dict[tuple[str, int], list[int]] = {}
    for hid, basis in bases.items():
        groups.setdefault(
            (province_code_of(items[hid].village_code), basis.line_year if basis else today.year), []
        ).append(hid)
    deductions: dict[str, bool] = {}
    result: dict[int, IncomeJudgement] = {}
    for (province, year), hids in groups.items():
        rules = rule_settings_for(county_code=province, year=year)
        if province not in deductions and any(
            b is not None and b.kind == "ACCOUNTING" for h in hids if (b := bases[h])
        ):
            deductions[province] = accounting_deduction_for(province_code=province)
        figures: dict[int, dict[str, int | None]] = {}
        for hid in hids:
            basis = bases[hid]
            spent = oop.get(hid, {})
            x_total = spent.get("x_total", 0)
            deduct = basis is not None and basis.kind == "ACCOUNTING" and deductions.get(province, False)
            row: dict[str, int | None] = dict.fromkeys(BASE_FIGURES, 0)
            income_fen = fen(basis.income) if basis else None
            row.update(
                c_size=basis.family_size if basis else None,
                c_total=(income_fen - x_total if deduct else income_fen) if income_fen is not None else None,
                p_size=basis.family_size if basis else None,
                p_total=income_fen,
                x_total=x_total,
                **{column: spent.get(column, 0) for _code, column in EXPENDITURE_COLUMNS},
            )
            figures[hid] = row
        judged = rules_judge_many(codes=JUDGED_RULES, figures=figures, rules=rules)
        for hid in hids:
            basis = bases[hid]
            result[hid] = IncomeJudgement(
                basis=basis,
                line=rules.line,
                deduct=basis is not None and basis.kind == "ACCOUNTING" and deductions.get(province, False),
                spend_start=spend_start,
                spend_end=spend_end,
                out_of_pocket=yuan(oop.get(hid, {}).get("x_total", 0)),
                spike_ratio=rules.value("spike_ratio"),
                low_income=judged[hid][LOW_INCOME.code],
                spike=judged[hid][EXPENDITURE_SPIKE.code],
            )
    return result
