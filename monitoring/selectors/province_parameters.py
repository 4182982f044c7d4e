"""The one resolution of a province's rule parameters.

Every parameter of SPEC §4 an administrator may change — the screening rules' (declared in
``monitoring.models.screening_rules``), the scale bounds, the 医保 alert thresholds — has a national
value (``ScreeningParameters``, id 1) and, per province, an optional own value
(``ProvinceRuleParameters``; ``NULL`` = 沿用全国默认值).  Everything that uses a parameter asks here:

* ``parameter_values_for(province_code=…)`` — the values of one province (screening through
  ``monitoring.selectors.screening.rule_settings_for``, which also gives the accounting judgement
  and the lead evidence their values);
* ``parameter_values_by_province(province_codes=…)`` — the values of several provinces at once, in
  two queries (the 医保 extracts, whose lines belong to people of any province; the scale check);
* ``province_parameter_rows`` — the page: per parameter the national value, the province's own one
  and which applies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import QuerySet, Subquery

from fanpin.core.models import AuditEntry
from fanpin.core.regions import province_code_of
from fanpin.core.scoping import sees_everything
from fanpin.core.terms import termed
from monitoring.models import ProvinceRuleParameters, Region, ScreeningParameters
from monitoring.models.province_parameters import MEDICAL_FIELDS, SCALE_FIELDS, own_values
from monitoring.models.screening_rules import RATIO, parameter_value, rule_parameters

AUDIT_TYPE = "province_rule_parameter"  # object_id "<province code>:<parameter name>"


def parameter_names() -> tuple[str, ...]:
    """Every parameter: the rules' (in declaration order), the scale bounds, the 医保 thresholds."""
    return (*(p.name for p in rule_parameters()), *SCALE_FIELDS, *MEDICAL_FIELDS)


def national_parameters_get() -> ScreeningParameters:
    """The national row (seeded by migration 0003; created with the SPEC defaults if absent)."""
    params, _ = ScreeningParameters.objects.get_or_create(id=1)
    return params


def national_values(national: ScreeningParameters) -> dict[str, Decimal]:
    """The national value of every parameter (a rule parameter not stored is its default)."""
    values = {p.name: parameter_value(national, p) for p in rule_parameters()}
    values.update({name: Decimal(getattr(national, name)) for name in (*SCALE_FIELDS, *MEDICAL_FIELDS)})
    return values


def merged_values(national: Mapping[str, Decimal], own: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """The values that apply: the province's own where set, else the national ones."""
    return {name: own.get(name, value) for name, value in national.items()}


def province_parameters_row(*, province_code: str) -> ProvinceRuleParameters | None:
    return ProvinceRuleParameters.objects.filter(province_code=province_code_of(province_code)).first()


def own_values_version(own: Mapping[str, Decimal | None]) -> str:
    """A short digest of a province's own values (those set; equal values, equal digest): what the
    edit form saw, so that saving it over values someone changed meanwhile is refused."""
    text = ";".join(f"{name}={value.normalize()}" for name, value in sorted(own.items()) if value is not None)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def province_parameters_version(*, province_code: str) -> str:
    return own_values_version(own_values(province_parameters_row(province_code=province_code), parameter_names()))


def province_own_values(*, province_code: str) -> dict[str, Decimal]:
    """The parameters the province sets itself (one query)."""
    return own_values(province_parameters_row(province_code=province_code), parameter_names())


_OWN = "own__"


def _own_output(field: Any) -> Any:
    if isinstance(field, models.JSONField):
        return models.JSONField()
    return models.DecimalField(max_digits=field.max_digits, decimal_places=field.decimal_places)


def _national_with_own(province_code: str) -> tuple[ScreeningParameters, ProvinceRuleParameters] | None:
    """The national row with the province's own values beside it, in one query (``None`` when the
    national row is missing)."""
    own = ProvinceRuleParameters.objects.filter(province_code=province_code_of(province_code))
    stored = {"rule_values", *parameter_names()}
    fields = [f for f in ProvinceRuleParameters._meta.concrete_fields if f.name in stored]
    national = (
        ScreeningParameters.objects.filter(id=1)
        .annotate(**{_OWN + f.name: Subquery(own.values(f.name)[:1], output_field=_own_output(f)) for f in fields})
        .first()
    )
    if national is None:
        return None
    values = {f.name: getattr(national, _OWN + f.name) for f in fields}
    values["rule_values"] = values.get("rule_values") or {}
    return national, ProvinceRuleParameters(province_code=province_code_of(province_code), **values)


def parameter_values_for(*, province_code: str, national: ScreeningParameters | None = None) -> dict[str, Decimal]:
    """Every parameter's value in the province of ``province_code`` (any code inside it): its own,
    else the national one.  One query (two when ``national`` is given or when the national row has
    to be created)."""
    if national is None:
        found = _national_with_own(province_code)
        if found is not None:
            national, own = found
            return merged_values(national_values(national), own_values(own, parameter_names()))
        national = national_parameters_get()
    return merged_values(national_values(national), province_own_values(province_code=province_code))


@dataclass(frozen=True)
class ProvinceValues:
    """The values of several provinces: ``of(code)`` for any code inside a province; a province
    without own values, and the empty code (no province), get the national values."""

    national: dict[str, Decimal]
    own: dict[str, dict[str, Decimal]]

    def of(self, code: str) -> dict[str, Decimal]:
        own = self.own.get(province_code_of(code)) if code else None
        return merged_values(self.national, own) if own else self.national


def parameter_values_by_province(
    *, province_codes: Iterable[str] | None = None, national: ScreeningParameters | None = None
) -> ProvinceValues:
    """The values of the provinces of ``province_codes`` (any codes inside them; ``None``: every
    province).  Two queries (one when ``national`` is given)."""
    national = national or national_parameters_get()
    rows = ProvinceRuleParameters.objects.all()
    if province_codes is not None:
        rows = rows.filter(province_code__in={province_code_of(code) for code in province_codes if code})
    names = parameter_names()
    return ProvinceValues(
        national=national_values(national),
        own={row.province_code: own_values(row, names) for row in rows},
    )


# -- the page ------------------------------------------------------------------------------------
def parameter_label(name: str) -> str:
    for p in rule_parameters():
        if p.name == name:
            return p.label
    # verbose names keep the words of the migrations; shown in the deployment's (fanpin.core.terms)
    return termed(str(ScreeningParameters._meta.get_field(name).verbose_name))  # type: ignore[union-attr]


def parameter_unit(name: str) -> str:
    """``ratio`` (four decimals) or ``yuan`` (two decimals)."""
    for p in rule_parameters():
        if p.name == name:
            return p.unit
    return "yuan" if name in MEDICAL_FIELDS else RATIO


@dataclass(frozen=True)
class ParameterRow:
    """One parameter of a province as the page shows it."""

    name: str
    label: str
    unit: str
    national: Decimal
    own: Decimal | None

    @property
    def inherited(self) -> bool:
        return self.own is None

    @property
    def value(self) -> Decimal:
        return self.national if self.own is None else self.own

    @property
    def is_money(self) -> bool:
        return self.unit != RATIO


def province_parameter_rows(*, province_code: str) -> list[ParameterRow]:
    """Every parameter of the province: national value, own value (``None``: inherited)."""
    national = national_values(national_parameters_get())
    own = province_own_values(province_code=province_code)
    return [
        ParameterRow(
            name=name,
            label=parameter_label(name),
            unit=parameter_unit(name),
            national=national[name],
            own=own.get(name),
        )
        for name in parameter_names()
    ]


@dataclass(frozen=True)
class ProvinceSummary:
    province: Region
    own_count: int
    updated_at: Any


def parameter_provinces_for(*, user: Any) -> list[ProvinceSummary]:
    """The provinces whose parameters the user may see: administrators every province, a
    provincial user their own (others: none).  With how many values each sets itself."""
    provinces: QuerySet[Region] = Region.objects.filter(level=Region.Level.PROVINCE).order_by("code")
    if not sees_everything(user):
        if getattr(user, "role", None) != "PROVINCE" or not getattr(user, "region_id", None):
            return []
        provinces = provinces.filter(code=province_code_of(user.region_id))
    names = parameter_names()
    rows = {
        r.province_code: r for r in ProvinceRuleParameters.objects.filter(province_code__in=provinces.values("code"))
    }
    return [
        ProvinceSummary(
            province=province,
            own_count=len(own_values(rows.get(province.code), names)),
            updated_at=rows[province.code].updated_at if province.code in rows else None,
        )
        for province in provinces
    ]


@dataclass(frozen=True)
class HistoryRow:
    entry: AuditEntry
    label: str  # the parameter's


def province_parameter_history(*, province_code: str, limit: int = 50) -> list[HistoryRow]:
    """The province's changes, newest first (who, when, parameter, from → to, reason)."""
    entries = (
        AuditEntry.objects.filter(object_type=AUDIT_TYPE, region_code=province_code_of(province_code))
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )
    known = set(parameter_names())
    rows = []
    for entry in entries:
        name = entry.object_id.rsplit(":", 1)[-1]
        rows.append(HistoryRow(entry=entry, label=parameter_label(name) if name in known else name))
    return rows
