"""Department alerts submitted through the API: a batch (≤ 1 000) of validated items is
matched and written by the same code as an Excel upload of kind ``alerts`` (``alerts_match``,
``alerts_store``: match by 身份证号 within the submitter's scope, upsert by
来源部门+身份证号+预警类型+预警日期 within the submitting unit, rigid expenditures for
大额医疗支出/受灾, DEPARTMENT_ALERT leads).  An idempotency key already seen for the unit is not
written again: its alert's current status is returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from fanpin.core.locks import named_locks_acquire
from fanpin.core.roles import Permission, department_label, effective_role, role_can
from monitoring.models import AlertOrigin, DepartmentAlert
from monitoring.services.alerts.matching import (
    AlertLine,
    AlertUnit,
    alert_key,
    alert_unit_lock,
    alerts_by_key,
    alerts_match,
)
from monitoring.services.alerts.writing import alerts_store

MAX_BATCH = 1000


@dataclass(frozen=True)
class AlertOutcome:
    idempotency_key: str
    id: int
    status: str
    duplicate: bool  # the key was seen before: nothing was written


SeenKey = tuple[str, str, str]  # 来源部门, origin, idempotency key


@transaction.atomic
def alerts_submit(*, user: Any, items: list[dict[str, Any]]) -> list[AlertOutcome]:
    """Write a batch of alerts; one outcome per item, in order.  Items are validated dicts with
    idempotency_key, id_number (normalised), name, alert_type, alert_date, amount, department, note."""
    role = effective_role(user)
    if not (role_can(role, Permission.SUBMIT_ALERTS) or role_can(role, Permission.IMPORT_DATA)):
        raise PermissionDenied("您的角色不能提交部门预警。")
    # What a department submits is always its own kind of alert (AlertOrigin), whatever it sends.
    return alerts_write(user=user, items=[{**item, "origin": AlertOrigin.DEPARTMENT} for item in items])


@transaction.atomic
def alerts_write(*, user: Any, items: list[dict[str, Any]]) -> list[AlertOutcome]:
    """``alerts_submit`` without the role check, for services that checked their own (医保 extracts,
    which set ``origin``); ``user`` None is a command acting as administrator."""
    if len(items) > MAX_BATCH:
        raise ValidationError(f"每批最多 {MAX_BATCH} 条预警。")
    unit = AlertUnit.of(user)
    lines = _lines(items, own=department_label(user), unit=unit)
    # The same batch sent twice at once: the second waits here until the first commits, then
    # finds its idempotency keys (one set of alerts, expenditures and leads).
    named_locks_acquire(names=[alert_unit_lock(line.values) for line in lines])
    seen = _seen(lines, unit=unit)
    fresh = [line for line in lines if _seen_key(line.values) not in seen]
    if fresh:
        if unit.prefix is None:
            raise PermissionDenied("您的账号没有所属行政区划，不能导入数据。")
        errors = alerts_match(lines=fresh, unit=unit)
        if errors:
            raise ValidationError([f"第 {e.number} 条：{e.message}" for e in errors])
        alerts_store(lines=fresh, unit=unit, counts={}, dry_run=False)
    written = alerts_by_key(keys=[alert_key(line.values) for line in fresh], columns=("status",))
    out: list[AlertOutcome] = []
    for line in lines:
        v = line.values
        old = seen.get(_seen_key(v))
        if old is not None:
            out.append(AlertOutcome(v["idempotency_key"], old.pk, old.status, True))
            continue
        a = written[alert_key(v)]
        out.append(AlertOutcome(v["idempotency_key"], a["id"], a["status"], False))
    return out


def _lines(items: list[dict[str, Any]], *, own: str, unit: AlertUnit) -> list[AlertLine]:
    lines: list[AlertLine] = []
    for n, item in enumerate(items, start=1):
        values = {
            **item,
            "department": own or item.get("department", ""),
            "note": item.get("note") or "",
            "origin": item.get("origin") or AlertOrigin.DEPARTMENT,
            "scope_code": unit.region,  # the submitting unit is 来源部门 + this region
        }
        if not values["department"]:
            raise ValidationError(f"第 {n} 条：请填写来源部门。")
        lines.append(AlertLine(number=n, values=values))
    return lines


def _seen_key(values: dict[str, Any]) -> SeenKey:
    return values["department"], values["origin"], values["idempotency_key"]


def _seen(lines: list[AlertLine], *, unit: AlertUnit) -> dict[SeenKey, DepartmentAlert]:
    """The unit's alerts of these idempotency keys (another unit's never count)."""
    return {
        (a.department, a.origin, a.idempotency_key): a
        for a in DepartmentAlert.objects.filter(
            department__in={line.values["department"] for line in lines},
            scope_code=unit.region,
            origin__in={line.values["origin"] for line in lines},
            idempotency_key__in={line.values["idempotency_key"] for line in lines},
        ).only("id", "department", "origin", "idempotency_key", "status")
    }
