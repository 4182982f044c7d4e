"""The screening rules of SPEC §4, each written once: one ``ScreeningRuleDeclaration`` per rule.

A declaration says everything about its rule: code, Chinese label, the plain words of the 公示名单,
its parameters (label, default, bounds), its condition and its 数据缺失 condition in SQL, the
figures it shows as evidence (with their labels) and how it computes them, and the category it
suggests (SPEC 4.2).  Everything else reads the registry, never a rule's code:

* ``monitoring.selectors.screening_sql`` builds the one statement per county (the evaluation with
  its fired / missing counts per rule) and the what-if statement (any rule fires, current versus
  proposed values) from ``fires`` / ``missing`` / ``columns`` — the one place SQL is generated;
* the evidence of a fired rule is ``evidence``: an ``Evidence`` (terms over the figures, computed
  in Python by calling it and rendered as SQL by ``screening_sql``, so runs build it in the
  database) or a plain function (then screening computes every lead's evidence in Python);
  ``monitoring.services.screening_leads`` writes it, the suggested category (``category_suggest``,
  also rendered as SQL) and the run summary keyed by rule code;
* pages, exports, the API filter, the ``screen`` command and the 公示名单 take ``label`` / ``reason``
  (``RULE_LABELS``, ``rule_choices``); the evidence table takes ``figures`` (``screening_figures``);
* the parameters page, its form and ``screening_parameters_set`` take ``parameters``.

Adding a rule is adding a declaration to ``BUILTIN_RULES`` (or ``rule_register`` at run time, as the
tests do).  Exactness: every amount in the SQL is an integer number of fen and every ratio parameter
an integer number of basis points (1/10 000); divisions are moved to the other side of the
comparison, so nothing is rounded (see ``monitoring.selectors.screening_sql``).

SQL templates are ``str.format`` strings over these names only:

* the figures of the household (``BASE_FIGURES``, all in fen or persons, ``NULL`` when the record is
  missing): ``c_size``/``c_total`` (income of year Y: family size, total), ``p_size``/``p_total``
  (year Y−1), ``x_total`` (out-of-pocket rigid expenditure dated in Y), ``x_<category>`` per
  expenditure category, ``xm_extract``/``xm_records``/``xm_set_aside`` (how 医疗 was counted);
  and the rule's own ``columns`` (SQL over the aliases ``h`` household, ``c``/``p`` incomes of Y/Y−1,
  ``e`` the expenditure sums; bound values ``%(year)s``, ``%(prev_year)s``, ``%(year_start)s``,
  ``%(year_end)s`` may be used; a literal ``%`` is written ``%%``);
* ``line`` (the household's monitoring line for Y in fen) and ``has_line`` (1 if set, else 0);
* the rule's own parameters (fen for ``YUAN`` parameters, basis points for ``RATIO`` ones).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.choices import BaseChoiceIterator

from monitoring.models.households import ExpenditureCategory, HouseholdType, per_capita_floor, yuan
from monitoring.models.leads import MAX_RISK_TYPES, RiskType, TargetCategory

RATIO = "ratio"  # four decimals; bound in SQL as basis points
YUAN = "yuan"  # two decimals; bound in SQL as fen

# Out-of-pocket columns of the base row, one per expenditure category (in its order).
EXPENDITURE_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (code, f"x_{code.lower()}") for code in ExpenditureCategory.values
)
# How 医疗 out-of-pocket was counted: per member the larger of the 医保 extract total and the other
# records (SPEC §2) — from extracts, from other records, and the smaller side set aside.
MEDICAL_BASIS_COLUMNS = ("xm_extract", "xm_records", "xm_set_aside")
BASE_FIGURES: tuple[str, ...] = (
    "c_size",
    "c_total",
    "p_size",
    "p_total",
    "x_total",
    *(column for _, column in EXPENDITURE_COLUMNS),
    *MEDICAL_BASIS_COLUMNS,
)
GLOBAL_NAMES = ("line", "has_line")

Figures = Mapping[str, Any]  # a household's figures: BASE_FIGURES and the rules' columns


class RuleSettings:
    """The values the rules compare with, for one province and year: the monitoring line (``None``
    when not set) and the value of every rule parameter (a parameter not given is its default)."""

    __slots__ = ("line", "values")

    def __init__(self, *, line: Decimal | None, values: Mapping[str, Decimal] | None = None, **named: Decimal) -> None:
        self.line = line
        self.values: dict[str, Decimal] = {**(values or {}), **named}

    def value(self, name: str) -> Decimal:
        if name in self.values:
            return self.values[name]
        return rule_parameter(name).default

    def __repr__(self) -> str:
        return f"RuleSettings(line={self.line!r}, values={self.values!r})"


@dataclass(frozen=True)
class RuleParameter:
    """A number of a rule that an administrator may change (SPEC §4).

    Stored in the ``ScreeningParameters`` column of the same name if the model has one (with its
    check constraint), otherwise in ``ScreeningParameters.rule_values`` under ``name``.
    """

    name: str
    label: str
    help_text: str
    default: Decimal
    valid: Callable[[Decimal], bool]
    error: str  # the Chinese message when ``valid`` says no
    unit: str = RATIO

    @property
    def decimals(self) -> int:
        return 4 if self.unit == RATIO else 2

    def sql_value(self, value: Decimal) -> int:
        """The integer the SQL compares with: basis points of a ratio, fen of an amount."""
        return int((value * (10000 if self.unit == RATIO else 100)).to_integral_value())


@dataclass(frozen=True)
class Figure:
    """A figure of a rule's evidence as the lead page shows it."""

    key: str
    label: str
    money: bool = False
    value_labels: Mapping[str, str] = field(default_factory=dict)  # codes inside the value → labels


@dataclass(frozen=True)
class ScreeningRuleDeclaration:
    code: str  # stored in Lead.rules_fired and the run summary; upper case, an SQL identifier
    label: str  # 中文 name: pages, exports, API, the ``screen`` command
    reason: str  # what the 公示名单 says, in words a villager reads (SPEC §5)
    fires: str  # SQL template: the rule fires
    missing: str  # SQL template: the rule cannot be judged (数据缺失, SPEC 4.1)
    evidence: Callable[[Figures, RuleSettings], dict[str, Any]]  # the figures that made it fire
    figures: tuple[Figure, ...] = ()  # the keys ``evidence`` writes, with their labels
    parameters: tuple[RuleParameter, ...] = ()
    columns: Mapping[str, str] = field(default_factory=dict)  # extra figures: name → SQL over h, c, p, e
    category: str | None = None  # the suggested category when this rule fires (SPEC 4.2), if any

    @property
    def key(self) -> str:
        """Lower-case code: the SQL column names of the rule (``f_<key>`` fires, ``m_<key>`` missing)."""
        return self.code.lower()


# -- evidence helpers ----------------------------------------------------------------------------
def per_capita(total_fen: int, size: int) -> Decimal:
    """For display only, rounded down to the fen (rules compare exactly in SQL)."""
    return per_capita_floor(Decimal(total_fen) / 100, size)


def line_text(settings: RuleSettings) -> str | None:
    return str(settings.line) if settings.line is not None else None


# -- evidence as data ----------------------------------------------------------------------------
# A rule's evidence is a fixed set of terms over the household's figures and the run's settings.
# Written as data, one declaration serves both ways of computing it: ``Evidence`` is callable (the
# figures of a fired row in Python) and ``monitoring.selectors.screening_sql`` renders the same terms
# as SQL, so a run builds the evidence of 100 000 leads in the database.  A rule may still give a plain
# function as ``evidence``; screening then takes the slower path that computes evidence in Python.
@dataclass(frozen=True)
class Yuan:
    """A figure in fen, shown as yuan with two decimals (``None`` stays ``None``)."""

    figure: str

    def value(self, f: Figures, s: RuleSettings) -> str | None:
        v = f[self.figure]
        return None if v is None else str(yuan(int(v)))


@dataclass(frozen=True)
class YuanSum:
    """The sum of figures in fen (a missing figure counts 0), as yuan."""

    figures: tuple[str, ...]

    def value(self, f: Figures, s: RuleSettings) -> str:
        return str(yuan(sum(int(f[name] or 0) for name in self.figures)))


@dataclass(frozen=True)
class PerCapitaYuan:
    """A total in fen divided by a number of persons, rounded down to the fen, as yuan."""

    total: str
    size: str

    def value(self, f: Figures, s: RuleSettings) -> str | None:
        total, size = f[self.total], f[self.size]
        return None if total is None or not size else str(per_capita(int(total), int(size)))


@dataclass(frozen=True)
class Count:
    """An integer figure (persons, members) as a number."""

    figure: str

    def value(self, f: Figures, s: RuleSettings) -> int | None:
        v = f[self.figure]
        return None if v is None else int(v)


@dataclass(frozen=True)
class ParameterText:
    """A rule parameter's value as the run used it (its decimal text)."""

    name: str

    def value(self, f: Figures, s: RuleSettings) -> str:
        return str(s.value(self.name))


@dataclass(frozen=True)
class LineText:
    """The monitoring line of the run (``None`` when not set)."""

    def value(self, f: Figures, s: RuleSettings) -> str | None:
        return line_text(s)


@dataclass(frozen=True)
class YuanByCode:
    """``{code: yuan}`` of the figures that are above zero, in the given order."""

    figures: tuple[tuple[str, str], ...]  # (code, figure)

    def value(self, f: Figures, s: RuleSettings) -> dict[str, str]:
        return {code: str(yuan(int(f[name] or 0))) for code, name in self.figures if int(f[name] or 0) > 0}


Term = Yuan | YuanSum | PerCapitaYuan | Count | ParameterText | LineText | YuanByCode


@dataclass(frozen=True)
class WhenNonZero:
    """Fields shown only when one of ``figures`` is not zero."""

    figures: tuple[str, ...]
    fields: Mapping[str, Term]


@dataclass(frozen=True)
class Evidence:
    """The figures a fired rule shows (key → term), and fields shown only in some cases."""

    fields: Mapping[str, Term]
    optional: tuple[WhenNonZero, ...] = ()

    def __call__(self, f: Figures, s: RuleSettings) -> dict[str, Any]:
        result = {key: term.value(f, s) for key, term in self.fields.items()}
        for group in self.optional:
            if any(int(f[name] or 0) != 0 for name in group.figures):
                result.update({key: term.value(f, s) for key, term in group.fields.items()})
        return result

    def terms(self) -> Iterator[Term]:
        yield from self.fields.values()
        for group in self.optional:
            yield from group.fields.values()

    def figure_names(self) -> set[str]:
        names = {name for group in self.optional for name in group.figures}
        for term in self.terms():
            if isinstance(term, Yuan | Count):
                names.add(term.figure)
            elif isinstance(term, YuanSum):
                names.update(term.figures)
            elif isinstance(term, PerCapitaYuan):
                names.update((term.total, term.size))
            elif isinstance(term, YuanByCode):
                names.update(name for _code, name in term.figures)
        return names


PER_CAPITA_INCOME = Figure("per_capita_income", "人均可支配收入（元）", money=True)
PREVIOUS_PER_CAPITA_INCOME = Figure("previous_per_capita_income", "上年人均可支配收入（元）", money=True)
LINE = Figure("line", "监测标准（元）", money=True)
PREVIOUS_TOTAL_INCOME = Figure("previous_total_income", "上年家庭纯收入（元）", money=True)


# -- the rules of SPEC §4 ------------------------------------------------------------------------
LOW_INCOME = ScreeningRuleDeclaration(
    code="LOW_INCOME",
    label="收入低于监测标准",
    reason="人均纯收入低于监测标准",
    # total / size < line  ⇔  total_fen < line_fen × size
    fires="{has_line} = 1 AND {c_total} IS NOT NULL AND {c_total} < {line} * {c_size}",
    missing="{has_line} = 0 OR {c_total} IS NULL",
    evidence=Evidence(
        {
            "per_capita_income": PerCapitaYuan("c_total", "c_size"),
            "line": LineText(),
            "total_income": Yuan("c_total"),
            "family_size": Count("c_size"),
        }
    ),
    figures=(
        PER_CAPITA_INCOME,
        LINE,
        Figure("total_income", "家庭纯收入（元）", money=True),
        Figure("family_size", "家庭人口数"),
    ),
    category=TargetCategory.EDGE_AT_RISK.value,
)


EXPENDITURE_SPIKE = ScreeningRuleDeclaration(
    code="EXPENDITURE_SPIKE",
    label="刚性支出骤增",
    reason="刚性支出超过上年家庭纯收入",
    # oop > r × prev_total  ⇔  oop_fen × 10000 > r_bp × prev_total_fen; and oop > 0 (a spike needs
    # spending: with a negative previous income, zero would fire)
    fires="{p_total} IS NOT NULL AND {x_total} > 0 AND {x_total} * 10000 > {spike_ratio} * {p_total}",
    missing="{p_total} IS NULL AND {x_total} > 0",
    evidence=Evidence(
        {
            "out_of_pocket_by_category": YuanByCode(EXPENDITURE_COLUMNS),
            "out_of_pocket_total": YuanSum(tuple(column for _code, column in EXPENDITURE_COLUMNS)),
            "previous_total_income": Yuan("p_total"),
            "ratio": ParameterText("spike_ratio"),
        },
        # SPEC §2: per member, the larger of the 医保 extract total and the other 医疗 records
        optional=(
            WhenNonZero(
                ("xm_extract", "xm_records"),
                {
                    "medical_extract": Yuan("xm_extract"),
                    "medical_records": Yuan("xm_records"),
                    "medical_set_aside": Yuan("xm_set_aside"),
                },
            ),
        ),
    ),
    figures=(
        Figure(
            "out_of_pocket_by_category",
            "各类自付支出（元）",
            money=True,
            value_labels=dict(ExpenditureCategory.choices),
        ),
        Figure("out_of_pocket_total", "自付刚性支出合计（元）", money=True),
        PREVIOUS_TOTAL_INCOME,
        Figure("ratio", "支出/收入阈值"),
        Figure("medical_extract", "医疗自付按医保结算计入（元）", money=True),
        Figure("medical_records", "医疗自付按其他记录计入（元）", money=True),
        Figure("medical_set_aside", "医疗自付未重复计入（元）", money=True),
    ),
    parameters=(
        RuleParameter(
            name="spike_ratio",
            label="刚性支出骤增倍数",
            help_text="当年自付刚性支出 > 倍数 × 上年家庭总收入",
            default=Decimal("1.0"),
            valid=lambda v: v > 0,
            error="刚性支出骤增倍数必须大于 0。",
        ),
    ),
)


INCOME_DROP = ScreeningRuleDeclaration(
    code="INCOME_DROP",
    label="收入骤减",
    reason="人均纯收入较上年大幅下降",
    # cur_total / cur_size ≤ (1 − d) × prev_total / prev_size
    #   ⇔ cur_total_fen × prev_size × 10000 ≤ (10000 − d_bp) × prev_total_fen × cur_size, and
    # cur_total / cur_size < m × line  ⇔  cur_total_fen × 10000 < m_bp × line_fen × cur_size
    fires=(
        "{has_line} = 1 AND {c_total} IS NOT NULL AND {p_total} IS NOT NULL"
        " AND {c_total} * {p_size} * 10000 <= (10000 - {drop_ratio}) * {p_total} * {c_size}"
        " AND {c_total} * 10000 < {drop_line_multiple} * {line} * {c_size}"
    ),
    missing="{has_line} = 0 OR {c_total} IS NULL OR {p_total} IS NULL",
    evidence=Evidence(
        {
            "per_capita_income": PerCapitaYuan("c_total", "c_size"),
            "previous_per_capita_income": PerCapitaYuan("p_total", "p_size"),
            "drop_ratio": ParameterText("drop_ratio"),
            "line": LineText(),
            "line_multiple": ParameterText("drop_line_multiple"),
        }
    ),
    figures=(
        PER_CAPITA_INCOME,
        PREVIOUS_PER_CAPITA_INCOME,
        Figure("drop_ratio", "降幅阈值"),
        LINE,
        Figure("line_multiple", "监测标准倍数"),
    ),
    parameters=(
        RuleParameter(
            name="drop_ratio",
            label="收入骤减比例",
            help_text="当年人均收入 ≤ (1 − 比例) × 上年人均收入",
            default=Decimal("0.30"),
            valid=lambda v: 0 < v < 1,
            error="收入骤减比例必须在 0 和 1 之间（如 0.30 表示 30%）。",
        ),
        RuleParameter(
            name="drop_line_multiple",
            label="收入骤减监测标准倍数",
            help_text="且当年人均收入 < 倍数 × 监测标准",
            default=Decimal("2"),
            valid=lambda v: v > 0,
            error="倍数必须大于 0。",
        ),
    ),
)

BUILTIN_RULES: tuple[ScreeningRuleDeclaration, ...] = (LOW_INCOME, EXPENDITURE_SPIKE, INCOME_DROP)


class ScreeningRule(models.TextChoices):
    """Codes of the built-in rules, for code that names one rule (tests, fixtures).  Lists of rules
    — choices, labels, summaries — come from ``screening_rules()``, never from this enum."""

    LOW_INCOME = LOW_INCOME.code, LOW_INCOME.label
    EXPENDITURE_SPIKE = EXPENDITURE_SPIKE.code, EXPENDITURE_SPIKE.label
    INCOME_DROP = INCOME_DROP.code, INCOME_DROP.label


# -- the registry --------------------------------------------------------------------------------
_REGISTRY: dict[str, ScreeningRuleDeclaration] = {}
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,39}$")
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def _template_names(template: str) -> set[str]:
    return {name for _text, name, _spec, _conv in string.Formatter().parse(template) if name is not None}


def _check(rule: ScreeningRuleDeclaration) -> None:
    """Refuse a declaration that the SQL generation could not use (a programming error)."""
    if not _CODE.match(rule.code):
        raise ValueError(f"screening rule code {rule.code!r}: upper-case letters, digits and _")
    if rule.code in _REGISTRY:
        raise ValueError(f"screening rule {rule.code} is already registered")
    taken_columns = set(BASE_FIGURES) | set(GLOBAL_NAMES) | {c for r in _REGISTRY.values() for c in r.columns}
    taken_params = {p.name for p in rule_parameters()}
    for name in rule.columns:
        if not _NAME.match(name) or name in taken_columns or name in taken_params:
            raise ValueError(f"screening rule {rule.code}: column name {name!r} is invalid or taken")
    own = [p.name for p in rule.parameters]
    for name in own:
        if not _NAME.match(name) or name in taken_params or name in taken_columns or name in rule.columns:
            raise ValueError(f"screening rule {rule.code}: parameter name {name!r} is invalid or taken")
    allowed = set(BASE_FIGURES) | set(GLOBAL_NAMES) | set(rule.columns) | set(own)
    for template in (rule.fires, rule.missing):
        unknown = _template_names(template) - allowed
        if unknown:
            raise ValueError(f"screening rule {rule.code}: unknown names {sorted(unknown)} in {template!r}")
    if isinstance(rule.evidence, Evidence):
        unknown = rule.evidence.figure_names() - (set(BASE_FIGURES) | set(rule.columns))
        unknown |= {t.name for t in rule.evidence.terms() if isinstance(t, ParameterText)} - set(own)
        if unknown:
            raise ValueError(f"screening rule {rule.code}: unknown names {sorted(unknown)} in its evidence")
    if rule.category is not None and rule.category not in TargetCategory.values:
        raise ValueError(f"screening rule {rule.code}: unknown category {rule.category!r}")


def rule_register(rule: ScreeningRuleDeclaration) -> ScreeningRuleDeclaration:
    """Add a rule (after the others).  Checked at once; see the module doc for the SQL names."""
    _check(rule)
    _REGISTRY[rule.code] = rule
    return rule


def rule_unregister(code: str) -> None:
    _REGISTRY.pop(code, None)


def screening_rules() -> tuple[ScreeningRuleDeclaration, ...]:
    """Every registered rule, in order (the order of ``Lead.rules_fired`` and of every table)."""
    return tuple(_REGISTRY.values())


def screening_rule(code: str) -> ScreeningRuleDeclaration | None:
    return _REGISTRY.get(code)


def rule_parameters() -> tuple[RuleParameter, ...]:
    return tuple(p for rule in _REGISTRY.values() for p in rule.parameters)


def rule_parameter(name: str) -> RuleParameter:
    for p in rule_parameters():
        if p.name == name:
            return p
    raise KeyError(name)


def rule_columns() -> dict[str, str]:
    """The extra figures the rules declare (name → SQL), in rule order."""
    return {name: sql for rule in _REGISTRY.values() for name, sql in rule.columns.items()}


def _has_column(row: Any, name: str) -> bool:
    try:
        row._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def parameter_value(row: Any, p: RuleParameter) -> Decimal:
    """A parameter's stored value in the ``ScreeningParameters`` row: its column, else ``rule_values``."""
    if _has_column(row, p.name):
        return Decimal(getattr(row, p.name))
    stored = (getattr(row, "rule_values", None) or {}).get(p.name)
    return Decimal(str(stored)) if stored is not None else p.default


def screening_figures() -> dict[str, Figure]:
    """Every evidence figure of every rule by key (the first declaration of a key wins)."""
    found: dict[str, Figure] = {}
    for rule in _REGISTRY.values():
        for figure in rule.figures:
            found.setdefault(figure.key, figure)
    return found


def rule_label(code: str) -> str:
    rule = _REGISTRY.get(str(code))
    return rule.label if rule is not None else str(code)


def rule_choices() -> list[tuple[str, str]]:
    return [(rule.code, rule.label) for rule in _REGISTRY.values()]


class _RuleLabels(Mapping[str, str]):
    """``{code: label}`` of the registered rules, read when used (so a rule registered later shows)."""

    def __getitem__(self, code: str) -> str:
        return _REGISTRY[code].label

    def __iter__(self) -> Iterator[str]:
        return iter(list(_REGISTRY))

    def __len__(self) -> int:
        return len(_REGISTRY)


class _RuleReasons(_RuleLabels):
    def __getitem__(self, code: str) -> str:
        return _REGISTRY[code].reason


RULE_LABELS: Mapping[str, str] = _RuleLabels()
RULE_REASONS: Mapping[str, str] = _RuleReasons()


class RuleChoices(BaseChoiceIterator):
    """Choices of a form or filter field over the registered rules, read each time they are shown
    (``blank``: a first empty choice with this label)."""

    def __init__(self, blank: str | None = None) -> None:
        self.blank = blank

    def __iter__(self) -> Iterator[tuple[str, str]]:
        if self.blank is not None:
            yield ("", self.blank)
        yield from rule_choices()


def category_suggest(*, household_type: str, rules_fired: Sequence[str] = ()) -> str:
    """SPEC 4.2: 脱贫户 → 脱贫不稳定户; otherwise the category of the first fired rule that
    suggests one (收入低于监测标准 → 边缘易致贫户); otherwise 突发严重困难户."""
    if household_type == HouseholdType.EXITED:
        return TargetCategory.UNSTABLE_EXITED.value
    for code in rules_fired:
        rule = _REGISTRY.get(code)
        if rule is not None and rule.category:
            return rule.category
    return TargetCategory.SUDDEN_HARDSHIP.value


# -- suggested risk types (SPEC 4.2) -------------------------------------------------------------
# Members' flags, a bit mask the evaluation computes for the households where a rule fired.
MEMBER_ILL = 1  # 患有大病 / 长期慢性病
MEMBER_DISABLED = 2  # 残疾 (health) or a disability grade
MEMBER_ABLE = 4  # 普通劳动力 / 技能劳动力
MEMBER_ANY = 8  # the household has members at all

# Out-of-pocket spending of a category in Y suggests its risk type; so do members' flags; and a
# household with members of whom none is 普通/技能劳动力 suggests 缺劳动力.
EXPENDITURE_RISK: Mapping[str, str] = {
    ExpenditureCategory.MEDICAL: RiskType.ILLNESS.value,
    ExpenditureCategory.DISABILITY: RiskType.DISABILITY.value,
    ExpenditureCategory.DISASTER: RiskType.DISASTER.value,
    ExpenditureCategory.EPIDEMIC: RiskType.EPIDEMIC.value,
    ExpenditureCategory.ACCIDENT: RiskType.ACCIDENT.value,
    ExpenditureCategory.EDUCATION: RiskType.EDUCATION.value,
}
MEMBER_RISK: tuple[tuple[int, str], ...] = (
    (MEMBER_ILL, RiskType.ILLNESS.value),
    (MEMBER_DISABLED, RiskType.DISABILITY.value),
)
LACK_OF_LABOR = RiskType.LACK_OF_LABOR.value


def risk_types_suggest(*, oop_fen: Mapping[str, int], member_flags: int) -> list[str]:
    """SPEC 4.2: the risk types suggested by the expenditure categories with out-of-pocket spending
    in Y, the members' health and labor capacity; at most 5, in ``RiskType`` order.  The evaluation
    renders the same table as SQL (``monitoring.selectors.screening_sql``)."""
    found = {EXPENDITURE_RISK[code] for code, fen in oop_fen.items() if fen > 0}
    found.update(risk for flag, risk in MEMBER_RISK if member_flags & flag)
    if member_flags & MEMBER_ANY and not member_flags & MEMBER_ABLE:
        found.add(LACK_OF_LABOR)
    return [risk for risk in RiskType.values if risk in found][:MAX_RISK_TYPES]


for _rule in BUILTIN_RULES:
    rule_register(_rule)
