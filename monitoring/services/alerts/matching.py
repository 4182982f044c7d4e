"""Who submits an alert, its key, and the member it is matched to (SPEC §6).

An alert belongs to its submitting unit: 来源部门 + the submitter's region (``scope_code``; empty
for administrators and commands).  Keys, idempotency keys and locks live within a unit, so what a
unit is answered never depends on another unit's alerts.  A member is matched by 身份证号 inside
the submitter's scope only; anyone else leaves the alert 未匹配.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from fanpin.core.roles import Department, Role
from fanpin.core.scoping import sees_everything, user_region_prefix
from monitoring.models import AlertOrigin, DepartmentAlert, Member
from monitoring.services.alerts.dates import alert_date_error
from monitoring.services.bulk import chunks

AlertKey = tuple[str, str, str, str, date, str]
MemberRef = tuple[int, int, str]  # the matched member: (member id, household id, village code)


@dataclass(frozen=True)
class AlertUnit:
    """The submitter as alerts see it."""

    user: Any | None  # None: a command acting as administrator
    prefix: str | None  # members are matched inside this region prefix ("" everywhere, None: no region)
    region: str  # the unit's region (``scope_code``); empty for administrators and commands
    department: str  # a department user's own 来源部门 (label), else ""

    @classmethod
    def of(cls, user: Any | None) -> AlertUnit:
        admin = user is None or sees_everything(user)
        own = str(getattr(user, "department", "") or "")
        return cls(
            user=user,
            prefix="" if user is None else user_region_prefix(user),
            region="" if admin else str(getattr(user, "region_id", "") or ""),
            department=(
                str(Department(own).label) if own and not admin and getattr(user, "role", None) == Role.DEPT else ""
            ),
        )


@dataclass
class AlertLine:
    """One alert to check and write: its sheet row (or its place in an API batch), the cleaned
    values (id_number, name, alert_type, alert_date, amount, department, note, origin,
    idempotency_key; ``scope_code`` is set by ``alerts_match``) and the member it matched."""

    number: int
    values: dict[str, Any]
    member: MemberRef | None = None


@dataclass
class LineError:
    number: int
    field: str
    value: str
    message: str


def alert_key(values: Mapping[str, Any]) -> AlertKey:
    """SPEC §6's key of an alert (来源部门, 身份证号, 预警类型, 预警日期) within its submitting unit
    (来源部门 + ``scope_code``, the submitter's region), and its origin (AlertOrigin): the alerts the
    system makes from settlement lines are keyed apart from submitted ones.  One unit's keys never
    meet another's, so what a submitter is answered never depends on another unit's alerts."""
    return (
        values["department"],
        values.get("scope_code") or "",
        values["id_number"],
        values["alert_type"],
        values["alert_date"],
        values.get("origin") or AlertOrigin.DEPARTMENT,
    )


def alert_unit_lock(values: Mapping[str, Any]) -> str:
    """The named lock of a submitting unit: its batches are written one at a time."""
    return f"alerts:{values['department']}:{values.get('scope_code') or ''}"


def alerts_by_key(*, keys: Iterable[AlertKey], columns: Iterable[str]) -> dict[AlertKey, dict[str, Any]]:
    """The stored alerts of these keys (one query per chunk of 身份证号), with ``columns``."""
    wanted = set(keys)
    found: dict[AlertKey, dict[str, Any]] = {}
    fields = {"id", "department", "scope_code", "id_number", "alert_type", "alert_date", "origin", *columns}
    for (department, scope), id_numbers in _group_by_unit(wanted).items():
        for part in chunks(sorted(id_numbers)):
            for v in DepartmentAlert.objects.filter(department=department, scope_code=scope, id_number__in=part).values(
                *fields
            ):
                k = alert_key(v)
                if k in wanted:
                    found[k] = v
    return found


def _group_by_unit(keys: set[AlertKey]) -> dict[tuple[str, str], set[str]]:
    units: dict[tuple[str, str], set[str]] = {}
    for k in keys:
        units.setdefault((k[0], k[1]), set()).add(k[2])
    return units


def alert_department_error(*, line: AlertLine, unit: AlertUnit) -> LineError | None:
    """来源部门 of a sheet row: a department user's own department (an empty cell or a missing
    column is filled in; another department is refused); required from everyone else."""
    given = line.values.get("department") or ""
    own = unit.department
    if own:
        if given and given != own:
            message = f"来源部门应为“{own}”（您账号所属的部门）或留空：行业部门只能提交本部门的预警。"
            return LineError(line.number, "department", given, message)
        line.values["department"] = own
    elif not given:
        return LineError(line.number, "department", "", "来源部门不能为空。")
    return None


def alerts_match(*, lines: list[AlertLine], unit: AlertUnit) -> list[LineError]:
    """Make every line the unit's own, check 预警日期, and match each line to a member of the
    unit's scope (one query); the errors found, in line order."""
    errors: list[LineError] = []
    # Every line is the submitting unit's own: nothing another unit stored is refused or shown.
    for line in lines:
        line.values["scope_code"] = unit.region
    # 预警日期 neither in the future nor implausibly old (Excel and API alike: both pass here)
    for line in lines:
        day = line.values["alert_date"]
        wrong_date = alert_date_error(day)
        if wrong_date:
            errors.append(LineError(line.number, "alert_date", day.isoformat(), wrong_date))
    # Only members inside the submitter's scope are matched; others stay 未匹配.
    members = members_match(id_numbers=[line.values["id_number"] for line in lines], unit=unit)
    for line in lines:
        line.member = members.get(line.values["id_number"])
        line.values["note"] = line.values.get("note") or ""
    return errors


def members_match(*, id_numbers: Iterable[str], unit: AlertUnit, departed: bool = True) -> dict[str, MemberRef]:
    """身份证号 → the member of that number inside the unit's scope (one query per chunk); a
    number outside the scope is absent, as if no such person existed (nothing is revealed).
    Department alerts and 民政 rosters (``monitoring.services.rosters``) match by this one rule.
    ``departed``: whether a member whose death or removal the county accepted is matched (an
    alert is: the spending was the household's, the pages flag the person; a roster line is not)."""
    if unit.prefix is None:
        return {}
    found: dict[str, MemberRef] = {}
    members = Member.objects.all() if departed else Member.objects.current()
    for part in chunks(sorted(set(id_numbers))):
        qs = members.filter(id_number__in=part)
        if unit.prefix:
            qs = qs.filter(household__village__code__startswith=unit.prefix)
        for v in qs.values_list("id_number", "id", "household_id", "household__village_id"):
            found[v[0]] = (v[1], v[2], v[3])
    return found
