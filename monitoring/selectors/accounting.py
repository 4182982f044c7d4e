"""Reads of the 12-month 家庭收支核算: the window, the ledger's figures for it, the
province's deduction setting, and the judgement.

The judgement is the screening rules' own: ``WINDOW_RULES`` names declarations of
``monitoring.models.screening_rules`` (收入低于监测标准 and 刚性支出骤增) and
``monitoring.selectors.screening_sql.rules_judge`` renders their ``fires`` / ``missing`` SQL over the
window's figures, with the line of the window's end year and the stored rule parameters — no rule
is written a second time here.  The window's figures take the places of a year's:

* ``c_total`` / ``c_size``: the window's income (less its out-of-pocket rigid spending when the
  province deducts it, the 民政 支出型困难 method) and the household size;
* ``p_total`` / ``p_size``: the window's income before any deduction (the spike compares the
  window's out-of-pocket spending with the income of the same 12 months);
* ``x_total`` and ``x_<category>``: the out-of-pocket spending the village recorded for the window.

Batch screening keeps calendar years (``screening_sql``); nothing here changes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from fanpin.core.models import AuditEntry
from fanpin.core.regions import province_code_of
from monitoring.models import (
    Application,
    ExpenditureCategory,
    IncomeAccounting,
    IncomeAccountingSetting,
    Lead,
    MonitoringTarget,
    Region,
    WindowBasis,
)
from monitoring.models.households import per_capita_floor, yuan
from monitoring.models.screening_rules import (
    BASE_FIGURES,
    EXPENDITURE_COLUMNS,
    EXPENDITURE_SPIKE,
    LOW_INCOME,
    screening_rule,
)
from monitoring.selectors.lines import monitoring_line_year_latest
from monitoring.selectors.screening import rule_settings_for
from monitoring.selectors.screening_sql import out_of_pocket_window_fen, rules_judge

# The declared rules the window is judged with (their parameters are the stored ones).
WINDOW_RULES: tuple[str, ...] = (LOW_INCOME.code, EXPENDITURE_SPIKE.code)
INCOME_FIELDS: tuple[tuple[str, str], ...] = (
    ("wage_income", "工资性收入"),
    ("business_income", "生产经营净收入"),
    ("property_income", "财产净收入"),
    ("transfer_income", "转移净收入"),
)
AUDIT_TYPE = "income_accounting"
SETTING_AUDIT_TYPE = "income_accounting_setting"


def fen(amount: Decimal) -> int:
    """Yuan with at most two decimals → fen (exact)."""
    return int((amount * 100).to_integral_value())


# -- the window ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    basis: str  # WindowBasis
    start: dt.date
    end: dt.date

    @property
    def basis_label(self) -> str:
        return WindowBasis(self.basis).label


def window_start_for(end: dt.date) -> dt.date:
    """The first day of the 12 months ending on ``end`` (inclusive): the day after the same date a
    year earlier (29 February → the year before's 28 February, so the window starts on 1 March)."""
    try:
        year_before = end.replace(year=end.year - 1)
    except ValueError:  # 29 February
        year_before = end.replace(year=end.year - 1, day=28)
    return year_before + dt.timedelta(days=1)


def accounting_window(*, lead: Lead) -> Window:
    """The 12 months before (and including) the household's application that the lead came from —
    its first, if several were merged into it — or, without one, the day the lead was raised."""
    applied = Application.objects.filter(lead=lead).order_by("created_at").values_list("created_at", flat=True).first()
    if applied is not None:
        end, basis = timezone.localdate(applied), WindowBasis.APPLICATION
    else:
        end, basis = timezone.localdate(lead.raised_at), WindowBasis.LEAD
    return Window(basis=basis.value, start=window_start_for(end), end=end)


def accounting_ledger(*, household_id: int, window: Window) -> dict[str, Decimal]:
    """The ledger's out-of-pocket rigid expenditure of the window by category (yuan), counted as
    screening counts a year's."""
    sums = out_of_pocket_window_fen(household_id=household_id, start=window.start, end=window.end)
    return {code: yuan(sums[column]) for code, column in EXPENDITURE_COLUMNS}


# -- the province's setting ----------------------------------------------------------------------
def accounting_deduction_for(*, province_code: str) -> bool:
    """Whether the province deducts out-of-pocket rigid spending from income when judging (default off)."""
    return bool(
        IncomeAccountingSetting.objects.filter(province_id=province_code)
        .values_list("deduct_out_of_pocket", flat=True)
        .first()
    )


@dataclass(frozen=True)
class SettingRow:
    province: Region
    deduct: bool
    updated_at: dt.datetime | None
    updated_by: Any


def accounting_settings(*, user: Any) -> list[SettingRow]:
    """Every province in the user's scope with its setting (no row: off)."""
    provinces = list(Region.objects.for_user(user).filter(level=Region.Level.PROVINCE).order_by("code"))
    stored = {
        s.province_id: s
        for s in IncomeAccountingSetting.objects.filter(province__in=provinces).select_related("updated_by")
    }
    rows = []
    for province in provinces:
        s = stored.get(province.code)
        rows.append(
            SettingRow(
                province=province,
                deduct=bool(s and s.deduct_out_of_pocket),
                updated_at=s.updated_at if s else None,
                updated_by=s.updated_by if s else None,
            )
        )
    return rows


def accounting_setting_history(*, user: Any) -> QuerySet[AuditEntry]:
    codes = [row.province.code for row in accounting_settings(user=user)]
    return (
        AuditEntry.objects.filter(object_type=SETTING_AUDIT_TYPE, object_id__in=codes)
        .select_related("actor")
        .order_by("-at", "-id")[:50]
    )


# -- the judgement -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Judgement:
    """The window judged: figures (yuan, persons), the line of the end year, the province's
    deduction choice, the rule parameters used, and which rules fired or could not be judged."""

    family_size: int
    income: Decimal
    out_of_pocket: Decimal
    line_year: int
    line: Decimal | None
    deduct: bool
    values: Mapping[str, str] = field(default_factory=dict)
    fired: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()

    @property
    def per_capita_income(self) -> Decimal:
        return per_capita_floor(self.income, self.family_size)

    @property
    def per_capita_out_of_pocket(self) -> Decimal:
        return per_capita_floor(self.out_of_pocket, self.family_size)

    @property
    def per_capita_judged(self) -> Decimal:
        """What is compared with the line: per-capita income, less per-capita out-of-pocket when deducting."""
        judged = self.income - self.out_of_pocket if self.deduct else self.income
        return per_capita_floor(judged, self.family_size)

    @property
    def verdict_key(self) -> tuple[Any, ...]:
        """What a change of line or setting can change (to tell a stale stored judgement)."""
        return (self.line, self.deduct, dict(self.values), self.fired, self.missing)

    def rows(self) -> list[dict[str, Any]]:
        """One row per judged rule: label, outcome and the comparison in words."""
        result = []
        for code in WINDOW_RULES:
            rule = screening_rule(code)
            label = rule.label if rule is not None else code
            if code in self.fired:
                outcome, css = "触发", "danger"
            elif code in self.missing:
                outcome, css = "无法判断", "secondary"
            else:
                outcome, css = "未触发", "success"
            result.append(
                {"code": code, "label": label, "outcome": outcome, "css": css, "detail": self._detail(code, outcome)}
            )
        return result

    def _detail(self, code: str, outcome: str) -> str:
        if code == LOW_INCOME.code:
            if self.line is None:
                return f"{self.line_year} 年监测标准未设置。"
            judged = (
                f"人均可支配收入 {self.per_capita_income} 元减人均自付刚性支出 {self.per_capita_out_of_pocket} 元"
                f"为 {self.per_capita_judged} 元"
                if self.deduct
                else f"人均可支配收入 {self.per_capita_income} 元"
            )
            compare = "低于" if outcome == "触发" else "不低于"
            return f"{judged}，{compare} {self.line_year} 年监测标准 {self.line} 元。"
        if code == EXPENDITURE_SPIKE.code:
            ratio = self.values.get("spike_ratio", "")
            compare = "超过" if outcome == "触发" else "未超过"
            spent = f"核算期自付刚性支出 {self.out_of_pocket} 元"
            return f"{spent}，{compare} {ratio} 倍核算期家庭纯收入（{self.income} 元）。"
        return ""


def accounting_judge(
    *, village_code: str, end_year: int, family_size: int, income: Decimal, out_of_pocket: Mapping[str, Decimal]
) -> Judgement:
    """Judge a window's figures with ``WINDOW_RULES`` against the line of ``end_year`` of the
    village's province, with the province's deduction setting (one query for the rules).  While
    the province has no line for ``end_year`` yet, the latest line set before it is used (the
    judgement's ``line_year`` says which; the panel says so)."""
    province = province_code_of(village_code)
    line_year = monitoring_line_year_latest(province_code=province, up_to=end_year) or end_year
    rules = rule_settings_for(county_code=village_code, year=line_year)
    deduct = accounting_deduction_for(province_code=province)
    income_fen = fen(income)
    oop_fen = {code: fen(out_of_pocket.get(code, Decimal(0))) for code in ExpenditureCategory.values}
    oop_total = sum(oop_fen.values())
    figures: dict[str, int | None] = dict.fromkeys(BASE_FIGURES, 0)
    figures.update(
        c_size=family_size,
        c_total=income_fen - oop_total if deduct else income_fen,
        p_size=family_size,
        p_total=income_fen,
        x_total=oop_total,
        **{column: oop_fen[code] for code, column in EXPENDITURE_COLUMNS},
    )
    outcome = rules_judge(codes=WINDOW_RULES, figures=figures, rules=rules)
    names = [p.name for code in WINDOW_RULES if (rule := screening_rule(code)) for p in rule.parameters]
    return Judgement(
        family_size=family_size,
        income=income,
        out_of_pocket=yuan(oop_total),
        line_year=line_year,
        line=rules.line,
        deduct=deduct,
        values={name: str(rules.value(name)) for name in names},
        fired=tuple(code for code in WINDOW_RULES if outcome[code][0]),
        missing=tuple(code for code in WINDOW_RULES if outcome[code][1] and not outcome[code][0]),
    )


def judgement_stored(accounting: IncomeAccounting) -> Judgement:
    """The judgement kept on the row (as made when recorded, edited or confirmed)."""
    return Judgement(
        family_size=accounting.family_size,
        income=accounting.total_income,
        out_of_pocket=sum((e.amount for e in accounting.expenditures.all()), Decimal("0.00")),
        line_year=accounting.line_year,
        line=accounting.line,
        deduct=accounting.deduct_out_of_pocket,
        values=dict(accounting.rule_values or {}),
        fired=tuple(accounting.rules_fired or ()),
        missing=tuple(accounting.rules_missing or ()),
    )


def judgement_current(accounting: IncomeAccounting, *, village_code: str) -> Judgement:
    """The stored figures judged with today's line, parameters and setting."""
    return accounting_judge(
        village_code=village_code,
        end_year=accounting.window_end.year,
        family_size=accounting.family_size,
        income=accounting.total_income,
        out_of_pocket={e.category: e.amount for e in accounting.expenditures.all()},
    )


def verdict_text(judgement: Judgement) -> str:
    """Short (≤ 32 characters, the audit row's state columns)."""
    if judgement.fired:
        return f"触发 {len(judgement.fired)} 条规则"
    if judgement.missing:
        return "无法判断"
    return "未触发"


# -- what the pages show -------------------------------------------------------------------------
@dataclass
class AccountingPanel:
    accounting: IncomeAccounting | None
    window: Window
    judgement: Judgement | None
    live: bool  # judged now (open lead) rather than the kept judgement
    stale: bool  # the kept judgement differs from today's (line or setting changed since)
    expenditure_rows: list[dict[str, Any]]
    history: list[AuditEntry]


def _accounting_of(lead: Lead) -> IncomeAccounting | None:
    return (
        IncomeAccounting.objects.filter(lead=lead)
        .select_related("recorded_by", "updated_by", "target")
        .prefetch_related("expenditures")
        .first()
    )


def accounting_history(*, accounting: IncomeAccounting) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(object_type=AUDIT_TYPE, object_id=str(accounting.pk))
        .select_related("actor")
        .order_by("at", "id")
    )


def accounting_panel(*, lead: Lead) -> AccountingPanel:
    """The lead's 核算 as the lead page shows it (the lead was read in the user's scope): for an
    open lead judged with today's line and setting — what the county decides on —, for a decided
    one the judgement kept."""
    accounting = _accounting_of(lead)
    window = (
        Window(basis=accounting.window_basis, start=accounting.window_start, end=accounting.window_end)
        if accounting is not None
        else accounting_window(lead=lead)
    )
    if accounting is None:
        return AccountingPanel(None, window, None, False, False, [], [])
    stored = judgement_stored(accounting)
    judgement, live, stale = stored, False, False
    if lead.is_open:
        judgement = judgement_current(accounting, village_code=lead.household.village_id)
        live, stale = True, judgement.verdict_key != stored.verdict_key
    labels = dict(ExpenditureCategory.choices)
    rows = [
        {
            "label": labels.get(e.category, e.category),
            "ledger": e.ledger_amount,
            "amount": e.amount,
            "changed": e.amount != e.ledger_amount,
        }
        for e in accounting.expenditures.all()
    ]
    return AccountingPanel(accounting, window, judgement, live, stale, rows, accounting_history(accounting=accounting))


def accounting_panel_of_target(*, target: MonitoringTarget) -> AccountingPanel | None:
    """The 核算 kept with a target (the target was read in the user's scope), or ``None``."""
    accounting = (
        IncomeAccounting.objects.filter(target=target)
        .select_related("lead__household", "recorded_by", "updated_by")
        .prefetch_related("expenditures")
        .first()
    )
    if accounting is None:
        return None
    labels = dict(ExpenditureCategory.choices)
    rows = [
        {
            "label": labels.get(e.category, e.category),
            "ledger": e.ledger_amount,
            "amount": e.amount,
            "changed": e.amount != e.ledger_amount,
        }
        for e in accounting.expenditures.all()
    ]
    window = Window(basis=accounting.window_basis, start=accounting.window_start, end=accounting.window_end)
    return AccountingPanel(
        accounting, window, judgement_stored(accounting), False, False, rows, accounting_history(accounting=accounting)
    )


def accounting_form_initial(*, lead: Lead) -> dict[str, Any]:
    """What the form starts with: the recorded figures, or the window's ledger and the latest
    annual record's household size (incomes are the village's to find out)."""
    accounting = _accounting_of(lead)
    if accounting is not None:
        initial: dict[str, Any] = {"family_size": accounting.family_size}
        initial.update({name: getattr(accounting, name) for name, _label in INCOME_FIELDS})
        initial.update({f"oop_{e.category}": e.amount for e in accounting.expenditures.all()})
        return initial
    window = accounting_window(lead=lead)
    ledger = accounting_ledger(household_id=lead.household_id, window=window)
    latest = lead.household.incomes.order_by("-year").values_list("family_size", flat=True).first()
    initial = {f"oop_{code}": amount for code, amount in ledger.items()}
    if latest:
        initial["family_size"] = latest
    return initial
