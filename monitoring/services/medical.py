"""医保 settlement extracts (issue 8): raw lines in, 大额医疗支出 alerts out where the system judges.

A line (身份证号, year, out-of-pocket cost) is stored as sent (upsert by 身份证号+year).  The system
compares the cost with the thresholds of the screening parameters — the lower one for members of
a 脱贫户 or of an active monitoring target, the higher one for everyone else (and for people not
found) — and sends the lines at or above it through :func:`alerts_submit`, the one alert path, with
the idempotency key ``medical-<身份证号>-<year>`` so a resent extract raises nothing new.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from fanpin.roles import Permission, role_can
from fanpin.scoping import user_region_prefix
from fanpin.views_mixins import effective_role
from monitoring.models import AlertType, HouseholdType, MedicalSettlement, Member, MonitoringTarget, TargetStatus
from monitoring.selectors.screening import screening_parameters_get
from monitoring.services.alerts import MAX_BATCH, alerts_submit, department_label

MEDICAL_DEPARTMENT = "医保"


@dataclass(frozen=True)
class SettlementOutcome:
    stored: int
    alerted: int  # lines at or above their threshold (sent as alerts; resent ones are duplicates)
    new_alerts: int


def _alert_date(year: int) -> dt.date:
    return min(dt.date(year, 12, 31), timezone.localdate())


@transaction.atomic
def medical_settlements_submit(*, user: Any, items: list[dict[str, Any]]) -> SettlementOutcome:
    """``items``: validated dicts with id_number (normalised), year, out_of_pocket (Decimal)."""
    role = effective_role(user)
    if not (role_can(role, Permission.SUBMIT_ALERTS) or role_can(role, Permission.IMPORT_DATA)):
        raise PermissionDenied("您的角色不能提交医保结算数据。")
    if len(items) > MAX_BATCH:
        raise ValidationError(f"每批最多 {MAX_BATCH} 条。")
    prefix = user_region_prefix(user)
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
    region = "" if prefix == "" else str(getattr(user, "region_id", "") or "")
    rows: list[MedicalSettlement] = []
    alerts: list[dict[str, Any]] = []
    alert_years: list[int] = []
    for item in items:
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
                member_id=m["id"] if m else None,
                region_code=m["household__village_id"] if m else region,
            )
        )
        if item["out_of_pocket"] >= threshold:
            alert_years.append(item["year"])
            alerts.append(
                {
                    "idempotency_key": f"medical-{item['id_number']}-{item['year']}",
                    "id_number": item["id_number"],
                    "name": m["name"] if m else "（医保结算）",
                    "alert_type": AlertType.MEDICAL.value,
                    "alert_date": _alert_date(item["year"]),
                    "amount": item["out_of_pocket"],
                    "department": department,
                    "note": f"医保结算 {item['year']} 年个人自付 ≥ {threshold} 元",
                }
            )
    now = timezone.now()
    for row in rows:
        row.created_at = row.updated_at = now
    MedicalSettlement.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["id_number", "year"],
        update_fields=["out_of_pocket", "department", "member_id", "region_code", "updated_at"],
    )
    outcomes = alerts_submit(user=user, items=alerts) if alerts else []
    if outcomes:
        by_key = {(a["id_number"], y): o.id for a, y, o in zip(alerts, alert_years, outcomes, strict=True)}
        linked = [
            MedicalSettlement(id=pk, alert_id=by_key[(i, y)])
            for pk, i, y in MedicalSettlement.objects.filter(
                id_number__in={k[0] for k in by_key}, year__in={k[1] for k in by_key}
            ).values_list("id", "id_number", "year")
            if (i, y) in by_key
        ]
        MedicalSettlement.objects.bulk_update(linked, ["alert_id"], batch_size=500)
    return SettlementOutcome(stored=len(rows), alerted=len(alerts), new_alerts=sum(not o.duplicate for o in outcomes))
