"""医保 settlement extracts: raw lines in, 大额医疗支出 alerts out where the system judges.

A line (身份证号, year, out-of-pocket cost) is stored as sent (upsert by 身份证号+year).  The system
compares the cost with the thresholds of the screening parameters of the person's province (its own,
else the national ones: ``monitoring.selectors.province_parameters``; ``medical_alert_supported`` for
members of a 脱贫户 or of an active monitoring target, ``medical_alert_general`` for everyone else
and for people not found; an administrator changes them on the parameters page) — at or above the
threshold (≥) the line is sent through :func:`alerts_write`, the one alert path, as alerts of origin
``MEDICAL_EXTRACT`` (kept apart from submitted alerts, see AlertOrigin) with the idempotency key
``medical-<身份证号>-<year>`` so a resent extract raises nothing new.

Two entry points share :func:`medical_settlements_write`: the API (:func:`medical_settlements_submit`)
and the Excel import (kind ``medical``, whose handler in ``monitoring.services.imports.kinds`` calls it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from fanpin.core.roles import Department, Permission, Role, department_label, effective_role, role_can
from fanpin.core.scoping import user_region_prefix
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
from monitoring.selectors.province_parameters import parameter_values_by_province
from monitoring.services.alerts.matching import AlertUnit
from monitoring.services.alerts.submit import MAX_BATCH, alerts_write
from monitoring.services.bulk import upsert_actions

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
    unit = AlertUnit.of(user)
    if unit.prefix is None:
        raise PermissionDenied("您的账号没有所属行政区划，不能提交数据。")
    # 来源部门 of the lines and their alerts: a department user's own, else 医保
    department = department_label(user) or MEDICAL_DEPARTMENT
    judged = _lines_judge(items, unit=unit, department=department)
    actions = _settlement_actions(judged.rows, department=department, region=unit.region)
    matched = sum(r.member_id is not None for r in judged.rows)
    if dry_run:
        new_alerts = _new_alerts_count(judged.alerts, department=department, region=unit.region)
        return SettlementBatch(actions, matched, len(judged.alerts), new_alerts, [None] * len(items))
    _settlements_save(judged.rows, actions)
    alert_ids, new_alerts = _alerts_send(judged, user=user, lines=len(items))
    _settlements_link(judged, alert_ids, department=department, region=unit.region)
    return SettlementBatch(actions, matched, len(judged.alerts), new_alerts, alert_ids)


@dataclass
class _Judged:
    """The settlement lines to store, and the alerts of those at or above their threshold."""

    rows: list[MedicalSettlement]
    alerts: list[dict[str, Any]]  # items for ``alerts_write``
    alert_index: list[int]  # the line of each alert
    keys: list[tuple[str, int]]  # per line: 身份证号, year


def _members(items: list[dict[str, Any]], *, prefix: str) -> dict[str, Mapping[str, Any]]:
    """The members of these 身份证号 inside the submitter's scope, with their households; a member
    whose death or removal the county accepted too (their settlement was the household's spending;
    decision record 2026-12-04-member-departure.md)."""
    members_qs = Member.objects.filter(id_number__in={i["id_number"] for i in items})
    if prefix:
        members_qs = members_qs.filter(household__village__code__startswith=prefix)
    return {
        m["id_number"]: m
        for m in members_qs.values(
            "id", "id_number", "name", "household_id", "household__village_id", "household__household_type"
        )
    }


def _supported_households(members: dict[str, Mapping[str, Any]]) -> set[int]:
    """Households whose members get the lower threshold: 脱贫户 and active monitoring targets."""
    targets = set(
        MonitoringTarget.objects.filter(
            household_id__in={m["household_id"] for m in members.values()}, status=TargetStatus.ACTIVE
        ).values_list("household_id", flat=True)
    )
    exited = {m["household_id"] for m in members.values() if m["household__household_type"] == HouseholdType.EXITED}
    return targets | exited


def _lines_judge(items: list[dict[str, Any]], *, unit: AlertUnit, department: str) -> _Judged:
    """Match every line and compare its cost with its threshold (≥ alerts)."""
    members = _members(items, prefix=unit.prefix or "")
    supported = _supported_households(members)
    # the thresholds of each person's province (the submitter's for people not found; national
    # when that is no province either): two queries for the batch
    province_of = {
        i: (m["household__village_id"] if (m := members.get(item["id_number"])) else unit.region)
        for i, item in enumerate(items)
    }
    by_province = parameter_values_by_province(province_codes=province_of.values())
    judged = _Judged(rows=[], alerts=[], alert_index=[], keys=[])
    for index, item in enumerate(items):
        m = members.get(item["id_number"])
        params = by_province.of(province_of[index])
        threshold: Decimal = (
            params["medical_alert_supported"]
            if m is not None and m["household_id"] in supported
            else params["medical_alert_general"]
        )
        judged.keys.append((item["id_number"], item["year"]))
        judged.rows.append(
            MedicalSettlement(
                id_number=item["id_number"],
                year=item["year"],
                out_of_pocket=item["out_of_pocket"],
                department=department,
                scope_code=unit.region,
                member_id=m["id"] if m else None,
                region_code=m["household__village_id"] if m else unit.region,
            )
        )
        if item["out_of_pocket"] >= threshold:
            judged.alert_index.append(index)
            judged.alerts.append(_alert_item(item, m, threshold=threshold, department=department))
    return judged


def _alert_item(
    item: dict[str, Any], m: Mapping[str, Any] | None, *, threshold: Decimal, department: str
) -> dict[str, Any]:
    return {
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


def _unit_lines(department: str, region: str, keys: Iterable[tuple[str, int]]) -> QuerySet[MedicalSettlement]:
    """The unit's own stored lines of these (身份证号, year): another county's 医保 line for the
    same person and year is neither overwritten nor counted as "update"."""
    keys = list(keys)
    return MedicalSettlement.objects.filter(
        department=department,
        scope_code=region,
        id_number__in={k[0] for k in keys},
        year__in={k[1] for k in keys},
    )


def _settlement_actions(rows: list[MedicalSettlement], *, department: str, region: str) -> list[str]:
    existing = {
        (v["id_number"], v["year"]): v
        for v in _unit_lines(department, region, ((r.id_number, r.year) for r in rows)).values(
            "id_number", "year", *COMPARED
        )
    }
    actions, _new, _changed = upsert_actions(rows, existing, [(r.id_number, r.year) for r in rows], COMPARED)
    return actions


def _new_alerts_count(alerts: list[dict[str, Any]], *, department: str, region: str) -> int:
    """Of the alerts a dry run would send, those whose idempotency key the unit has not used."""
    seen = set(
        DepartmentAlert.objects.filter(
            department=department,
            scope_code=region,
            origin=AlertOrigin.MEDICAL_EXTRACT,
            idempotency_key__in={a["idempotency_key"] for a in alerts},
        ).values_list("idempotency_key", flat=True)
    )
    return sum(a["idempotency_key"] not in seen for a in alerts)


def _settlements_save(rows: list[MedicalSettlement], actions: list[str]) -> None:
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


def _alerts_send(judged: _Judged, *, user: Any, lines: int) -> tuple[list[int | None], int]:
    """Send the alerts through the one alert path, ``MAX_BATCH`` at a time: each line's alert id
    (None below the threshold) and how many were new."""
    alert_ids: list[int | None] = [None] * lines
    new_alerts = 0
    for start in range(0, len(judged.alerts), MAX_BATCH):
        outcomes = alerts_write(user=user, items=judged.alerts[start : start + MAX_BATCH])
        for index, outcome in zip(judged.alert_index[start : start + MAX_BATCH], outcomes, strict=True):
            alert_ids[index] = outcome.id
            new_alerts += not outcome.duplicate
    return alert_ids, new_alerts


def _settlements_link(judged: _Judged, alert_ids: list[int | None], *, department: str, region: str) -> None:
    """Each stored line points at the alert it made."""
    by_key = {judged.keys[i]: alert_ids[i] for i in judged.alert_index}
    if not by_key:
        return
    linked = [
        MedicalSettlement(id=pk, alert_id=by_key[(i, y)])
        for pk, i, y, current in _unit_lines(department, region, by_key).values_list(
            "id", "id_number", "year", "alert_id"
        )
        if (i, y) in by_key and current != by_key[(i, y)]
    ]
    MedicalSettlement.objects.bulk_update(linked, ["alert_id"], batch_size=500)
