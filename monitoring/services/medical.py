"""医保 settlement extracts (issue 8): raw lines in, 大额医疗支出 alerts out where the system judges.

A line (身份证号, year, out-of-pocket cost) is stored as sent (upsert by 身份证号+year).  The system
compares the cost with the thresholds of the screening parameters (``medical_alert_supported`` for
members of a 脱贫户 or of an active monitoring target, ``medical_alert_general`` for everyone else
and for people not found; an administrator changes them on the parameters page) — at or above the
threshold (≥) the line is sent through :func:`alerts_write`, the one alert path, as alerts of origin
``MEDICAL_EXTRACT`` (kept apart from submitted alerts, see AlertOrigin) with the idempotency key
``medical-<身份证号>-<year>`` so a resent extract raises nothing new.

Two entry points share :func:`medical_settlements_write`: the API (:func:`medical_settlements_submit`)
and the Excel import (kind ``medical``, ``MedicalHandler`` in the import pipeline).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from fanpin.core.roles import Department, Permission, Role, department_label, effective_role, role_can
from fanpin.core.scoping import sees_everything, user_region_prefix
from monitoring.models import (
    AlertOrigin,
    AlertType,
    DepartmentAlert,
    HouseholdType,
    MedicalSettlement,
    Member,
    MonitoringTarget,
    TargetStatus,
)
from monitoring.selectors.screening import screening_parameters_get
from monitoring.services.alerts import MAX_BATCH, alerts_write

MEDICAL_DEPARTMENT = "医保"
MEDICAL_ALERT_KEY_PREFIX = "medical-"  # idempotency keys of the alerts made from settlement lines
COMPARED = ("out_of_pocket", "department", "member_id", "region_code")


@dataclass(frozen=True)
class SettlementOutcome:
    stored: int
    # Lines at or above their threshold (sent as alerts; resent ones are duplicates), and of those
    # the new ones.  None for a department user: whether a 5 000–20 000 元 line alerted would tell
    # the department that the person belongs to a 脱贫户 or a monitoring target (household data).
    alerted: int | None
    new_alerts: int | None


@dataclass(frozen=True)
class SettlementBatch:
    """What one batch did (or, in a dry run, would do)."""

    actions: list[str]  # per line: "create" / "update" / "same" (the stored settlement line)
    matched: int  # lines whose 身份证号 is a member inside the submitter's scope
    alerted: int  # lines at or above their threshold
    new_alerts: int  # of those, alerts not submitted before (idempotency key not seen)
    alert_ids: list[int | None]  # per line: its alert (None: below the threshold, or a dry run)


def _alert_date(year: int) -> dt.date:
    return min(dt.date(year, 12, 31), timezone.localdate())


def medical_submit_refusal(*, user: Any) -> str:
    """Why ``user`` may not submit settlement extracts (Chinese), or ``""``.  ``None`` is a command
    acting as administrator."""
    if user is None:
        return ""
    role = effective_role(user)
    if not (role_can(role, Permission.SUBMIT_ALERTS) or role_can(role, Permission.IMPORT_DATA)):
        return "您的角色不能提交医保结算数据。"
    if role == Role.DEPT and getattr(user, "department", "") != Department.MEDICAL_INSURANCE:
        return "只有医保部门可以提交医保结算数据。"
    if user_region_prefix(user) is None:
        return "您的账号没有所属行政区划，不能提交数据。"
    return ""


@transaction.atomic
def medical_settlements_submit(*, user: Any, items: list[dict[str, Any]]) -> SettlementOutcome:
    """The API: ``items`` are validated dicts with id_number (normalised), year, out_of_pocket (Decimal)."""
    refusal = medical_submit_refusal(user=user)
    if refusal:
        raise PermissionDenied(refusal)
    if len(items) > MAX_BATCH:
        raise ValidationError(f"每批最多 {MAX_BATCH} 条。")
    batch = medical_settlements_write(user=user, items=items)
    if effective_role(user) == Role.DEPT:
        return SettlementOutcome(stored=len(items), alerted=None, new_alerts=None)
    return SettlementOutcome(stored=len(items), alerted=batch.alerted, new_alerts=batch.new_alerts)


@transaction.atomic
def medical_settlements_write(*, user: Any, items: list[dict[str, Any]], dry_run: bool = False) -> SettlementBatch:
    """Store the lines and raise the alerts (the caller has checked ``medical_submit_refusal``).

    Members are looked up inside the submitter's scope only (as alerts are matched): someone outside
    counts as not found.  ``dry_run`` writes nothing and counts what would happen.
    """
    admin_level = user is None or sees_everything(user)
    prefix = "" if admin_level else user_region_prefix(user)
    if prefix is None:
        raise PermissionDenied("您的账号没有所属行政区划，不能提交数据。")
    department = department_label(user) or MEDICAL_DEPARTMENT
    members_qs = Member.objects.filter(id_number__in={i["id_number"] for i in items})
    if prefix:
        members_qs = members_qs.filter(household__village__code__startswith=prefix)
    members = {
        m["id_number"]: m
        for m in members_qs.values(
            "id", "id_number", "name", "household_id", "household__village_id", "household__household_type"
        )
    }
    targets = set(
        MonitoringTarget.objects.filter(
            household_id__in={m["household_id"] for m in members.values()}, status=TargetStatus.ACTIVE
        ).values_list("household_id", flat=True)
    )
    params = screening_parameters_get()
    region = "" if admin_level else str(getattr(user, "region_id", "") or "")  # also the submitting unit's
    rows: list[MedicalSettlement] = []
    alerts: list[dict[str, Any]] = []
    alert_index: list[int] = []  # line index of each alert
    for index, item in enumerate(items):
        m = members.get(item["id_number"])
        supported = m is not None and (
            m["household__household_type"] == HouseholdType.EXITED or m["household_id"] in targets
        )
        threshold: Decimal = params.medical_alert_supported if supported else params.medical_alert_general
        rows.append(
            MedicalSettlement(
                id_number=item["id_number"],
                year=item["year"],
                out_of_pocket=item["out_of_pocket"],
                department=department,
                scope_code=region,
                member_id=m["id"] if m else None,
                region_code=m["household__village_id"] if m else region,
            )
        )
        if item["out_of_pocket"] >= threshold:
            alert_index.append(index)
            alerts.append(
                {
                    "idempotency_key": f"{MEDICAL_ALERT_KEY_PREFIX}{item['id_number']}-{item['year']}",
                    "id_number": item["id_number"],
                    "name": m["name"] if m else "（医保结算）",
                    "alert_type": AlertType.MEDICAL.value,
                    "alert_date": _alert_date(item["year"]),
                    "origin": AlertOrigin.MEDICAL_EXTRACT.value,
                    "amount": item["out_of_pocket"],
                    "department": department,
                    "note": f"医保结算 {item['year']} 年个人自付 ≥ {threshold} 元",
                }
            )
    # The unit's own lines only (来源部门 + the submitter's region, as alerts): another county's
    # 医保 line for the same person and year is neither overwritten nor counted as "update".
    existing = {
        (v["id_number"], v["year"]): v
        for v in MedicalSettlement.objects.filter(
            department=department,
            scope_code=region,
            id_number__in={r.id_number for r in rows},
            year__in={r.year for r in rows},
        ).values("id_number", "year", *COMPARED)
    }
    actions: list[str] = []
    for row in rows:
        old = existing.get((row.id_number, row.year))
        if old is None:
            actions.append("create")
        elif any(old[f] != getattr(row, f) for f in COMPARED):
            actions.append("update")
        else:
            actions.append("same")
    matched = sum(r.member_id is not None for r in rows)
    alert_ids: list[int | None] = [None] * len(items)
    if dry_run:
        seen = set(
            DepartmentAlert.objects.filter(
                department=department,
                scope_code=region,
                origin=AlertOrigin.MEDICAL_EXTRACT,
                idempotency_key__in={a["idempotency_key"] for a in alerts},
            ).values_list("idempotency_key", flat=True)
        )
        new_alerts = sum(a["idempotency_key"] not in seen for a in alerts)
        return SettlementBatch(actions, matched, len(alerts), new_alerts, alert_ids)

    now = timezone.now()
    writes = [row for row, action in zip(rows, actions, strict=True) if action != "same"]
    for row in writes:
        row.created_at = row.updated_at = now
    if writes:
        MedicalSettlement.objects.bulk_create(
            writes,
            update_conflicts=True,
            unique_fields=["department", "scope_code", "id_number", "year"],
            update_fields=[*COMPARED, "updated_at"],
        )
    new_alerts = 0
    for start in range(0, len(alerts), MAX_BATCH):
        for index, outcome in zip(
            alert_index[start : start + MAX_BATCH],
            alerts_write(user=user, items=alerts[start : start + MAX_BATCH]),
            strict=True,
        ):
            alert_ids[index] = outcome.id
            new_alerts += not outcome.duplicate
    by_key = {(items[i]["id_number"], items[i]["year"]): alert_ids[i] for i in alert_index}
    if by_key:
        linked = [
            MedicalSettlement(id=pk, alert_id=by_key[(i, y)])
            for pk, i, y, current in MedicalSettlement.objects.filter(
                department=department,
                scope_code=region,
                id_number__in={k[0] for k in by_key},
                year__in={k[1] for k in by_key},
            ).values_list("id", "id_number", "year", "alert_id")
            if (i, y) in by_key and current != by_key[(i, y)]
        ]
        MedicalSettlement.objects.bulk_update(linked, ["alert_id"], batch_size=500)
    return SettlementBatch(actions, matched, len(alerts), new_alerts, alert_ids)
