"""Department alerts submitted through the API (issue 8), by the import pipeline's one matching path.

``alerts_submit`` turns a batch (≤ 1 000) into the pipeline's rows and runs the alerts handler's
``check_batch`` (match by 身份证号 within the submitter's scope) and ``write_batch`` (upsert by
来源部门+身份证号+预警类型+预警日期 within the submitting unit, rigid expenditures for
大额医疗支出/受灾, DEPARTMENT_ALERT leads), so an Excel upload and an API call behave the same.
An idempotency key already seen for the unit is not written again: its alert's current status is returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from fanpin.core.locks import named_locks_acquire
from fanpin.core.roles import Permission, department_label, effective_role, role_can
from monitoring.models import AlertOrigin, DepartmentAlert
from monitoring.services.imports.kinds import AlertsHandler, alert_key, alert_unit_lock, alerts_by_key
from monitoring.services.imports.pipeline import ImportContext, Row
from monitoring.services.imports.spec import SPECS

MAX_BATCH = 1000


@dataclass(frozen=True)
class AlertOutcome:
    idempotency_key: str
    id: int
    status: str
    duplicate: bool  # the key was seen before: nothing was written


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
    own = department_label(user)
    spec = SPECS["alerts"]
    ctx = ImportContext(spec=spec, user=user, present={c.field for c in spec.columns})
    rows: list[Row] = []
    for n, item in enumerate(items, start=1):
        values = {
            **item,
            "department": own or item.get("department", ""),
            "note": item.get("note") or "",
            "origin": item.get("origin") or AlertOrigin.DEPARTMENT,
            "scope_code": ctx.importer_region,  # the submitting unit is 来源部门 + this region
        }
        if not values["department"]:
            raise ValidationError(f"第 {n} 条：请填写来源部门。")
        rows.append(Row(number=n, values=values))
    # The same batch sent twice at once: the second waits here until the first commits, then
    # finds its idempotency keys (one set of alerts, expenditures and leads).
    named_locks_acquire(names=[alert_unit_lock(r.values) for r in rows])
    # Idempotency keys, like alert keys, are the unit's own: another unit's never count.
    seen = {
        (a.department, a.origin, a.idempotency_key): a
        for a in DepartmentAlert.objects.filter(
            department__in={r.values["department"] for r in rows},
            scope_code=ctx.importer_region,
            origin__in={r.values["origin"] for r in rows},
            idempotency_key__in={r.values["idempotency_key"] for r in rows},
        ).only("id", "department", "origin", "idempotency_key", "status")
    }

    def seen_key(values: dict[str, Any]) -> tuple[str, str, str]:
        return values["department"], values["origin"], values["idempotency_key"]

    fresh = [r for r in rows if seen_key(r.values) not in seen]
    if fresh:
        handler = AlertsHandler(ctx)
        refusal = handler.authorize()
        if refusal:
            raise PermissionDenied(refusal)
        handler.check_batch(fresh)
        if ctx.error_count:
            raise ValidationError([f"第 {e.row} 条：{e.message}" for e in ctx.errors])
        handler.write_batch(fresh, dry_run=False)
    written = alerts_by_key(keys=[alert_key(r.values) for r in fresh], columns=("status",))
    out: list[AlertOutcome] = []
    for r in rows:
        v = r.values
        old = seen.get(seen_key(v))
        if old is not None:
            out.append(AlertOutcome(v["idempotency_key"], old.pk, old.status, True))
            continue
        a = written[alert_key(v)]
        out.append(AlertOutcome(v["idempotency_key"], a["id"], a["status"], False))
    return out
