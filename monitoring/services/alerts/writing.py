"""Writing a batch of matched alerts (SPEC §6): the upsert within the submitting unit, the
expenditure each records, and the DEPARTMENT_ALERT leads of the new ones.

One path for the Excel import (kind ``alerts``), the API and the alerts made from 医保 extracts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Min
from django.utils import timezone

from fanpin.core.locks import named_locks_acquire
from monitoring.models import AlertOrigin, AlertStatus, AlertType, DepartmentAlert, LeadSource, RiskType
from monitoring.services.alerts.expenditures import alert_expenditures_write
from monitoring.services.alerts.matching import (
    AlertKey,
    AlertLine,
    AlertUnit,
    alert_key,
    alert_unit_lock,
    alerts_by_key,
)
from monitoring.services.bulk import CHUNK, upsert_actions
from monitoring.services.ledger import ledger_sources_refresh
from monitoring.services.review_bulk import group_requests, leads_raise_or_merge_many

ALERT_RISK = {
    AlertType.MEDICAL: RiskType.ILLNESS,
    AlertType.DISABILITY: RiskType.DISABILITY,
    AlertType.DISASTER: RiskType.DISASTER,
    AlertType.DROPOUT: RiskType.EDUCATION,
    AlertType.HOUSING: RiskType.HOUSING,
    AlertType.UNEMPLOYMENT: RiskType.UNSTABLE_EMPLOYMENT,
}

# What a resent alert may change (a difference makes it an "update"); the key is fixed.
ALERT_FIELDS = ["name", "amount", "note", "member_id", "status", "region_code", "expenditure_id"]
ALERT_KEY_FIELDS = ["department", "scope_code", "id_number", "alert_type", "alert_date", "origin"]

# The alerts the system makes from settlement lines are numbered apart from submitted alerts,
# downwards from -1: ids are shown to the departments, and with one counter the gap between two of
# a department's own alerts would tell it whether its extract line made an alert in between (i.e.
# that the person belongs to a 脱贫户 or a monitoring target).  Negative, because SQLite's
# AUTOINCREMENT goes on from the highest id ever stored, whatever range it was taken from; taken
# as "one below the lowest" under a lock, not from a sequence, so a copied or reloaded table
# (``loaddata``) cannot leave a counter behind its rows.
EXTRACT_ALERT_IDS_LOCK = "alerts:extract-ids"


def extract_alert_ids(count: int) -> list[int]:
    """``count`` new (negative) ids for alerts of origin MEDICAL_EXTRACT; the caller's transaction
    holds the lock until it commits, so two writers never take the same ids."""
    if count == 0:
        return []
    named_locks_acquire(names=[EXTRACT_ALERT_IDS_LOCK])  # SQLite: one writer at a time anyway
    low = DepartmentAlert.objects.filter(pk__lt=0).aggregate(low=Min("pk"))["low"]
    first = -1 if low is None else int(low) - 1
    return list(range(first, first - count, -1))


def alerts_store(*, lines: list[AlertLine], unit: AlertUnit, counts: dict[str, int], dry_run: bool) -> list[str]:
    """Upsert matched lines (``alerts_match`` ran) by their key within the unit, with their
    expenditures and leads; per line "create" / "update" / "same".  ``counts`` gathers the
    figures of the import's summary.  ``dry_run`` writes nothing."""
    counts.setdefault("unmatched", 0)
    counts.setdefault("expenditures_created", 0)
    # one unit's batches one at a time (re-entrant for the API, which took it already)
    named_locks_acquire(names=[alert_unit_lock(line.values) for line in lines])
    keys = [alert_key(line.values) for line in lines]
    existing = alerts_by_key(keys=keys, columns=ALERT_FIELDS)
    ledger = alert_expenditures_write(lines=lines, existing=existing, counts=counts, dry_run=dry_run)
    objs = [_alert_of(line, ledger.found.get(line.number), unit) for line in lines]
    counts["unmatched"] += sum(line.member is None for line in lines)
    # In a dry run new expenditures have no id yet: compared without that field.
    compared = [f for f in ALERT_FIELDS if not (dry_run and f == "expenditure_id")]
    actions, new, changed = upsert_actions(objs, existing, keys, compared)
    if dry_run:
        return actions
    _alerts_save(new, changed, existing)
    ledger_sources_refresh(ids=sorted(ledger.touched))
    _leads_raise(lines, actions, existing, unit=unit, counts=counts)
    return actions


def _alert_of(line: AlertLine, expenditure_id: int | None, unit: AlertUnit) -> DepartmentAlert:
    v, member = line.values, line.member
    return DepartmentAlert(
        id_number=v["id_number"],
        name=v["name"],
        alert_type=v["alert_type"],
        alert_date=v["alert_date"],
        origin=alert_key(v)[5],
        amount=v.get("amount"),
        department=v["department"],
        scope_code=v["scope_code"],
        note=v["note"],
        member_id=member[0] if member else None,
        status=AlertStatus.MATCHED if member else AlertStatus.UNMATCHED,
        region_code=member[2] if member else unit.region,
        expenditure_id=expenditure_id,
        idempotency_key=v.get("idempotency_key") or "",
        submitted_by_id=getattr(unit.user, "pk", None),
    )


def _alerts_save(
    new: list[DepartmentAlert], changed: list[DepartmentAlert], existing: Mapping[AlertKey, Mapping[str, Any]]
) -> None:
    now = timezone.now()
    for obj in new + changed:
        obj.created_at = obj.updated_at = now
    made = [obj for obj in new if obj.origin == AlertOrigin.MEDICAL_EXTRACT]
    for obj, pk in zip(made, extract_alert_ids(len(made)), strict=True):
        obj.pk = pk
    if new:
        DepartmentAlert.objects.bulk_create(
            new,
            update_conflicts=True,  # the same key written meanwhile (the unit's lock makes it rare)
            unique_fields=ALERT_KEY_FIELDS,
            update_fields=[*ALERT_FIELDS, "updated_at"],
            batch_size=CHUNK,
        )
    if changed:  # by id: an upsert would draw (and spend) an id from the table's sequence
        for obj in changed:
            obj.pk = existing[alert_key(vars(obj))]["id"]
        DepartmentAlert.objects.bulk_update(changed, [*ALERT_FIELDS, "updated_at"], batch_size=500)


def _leads_raise(
    lines: list[AlertLine],
    actions: list[str],
    existing: Mapping[AlertKey, Mapping[str, Any]],
    *,
    unit: AlertUnit,
    counts: dict[str, int],
) -> None:
    """A matched alert that is new (or newly matched) raises or merges a DEPARTMENT_ALERT lead
    for the member's household, set-based for the batch; a resent alert raises nothing."""
    requests: list[tuple[int, dict[str, Any], set[str]]] = []
    for line, action in zip(lines, actions, strict=True):
        member, v = line.member, line.values
        if member is None or action == "same":
            continue
        if action == "update" and existing[alert_key(v)]["member_id"] == member[0]:
            continue
        entry = {
            "department": v["department"],
            "origin": alert_key(v)[5],
            "alert_type": v["alert_type"],
            "alert_type_label": AlertType(v["alert_type"]).label,
            "alert_date": v["alert_date"].isoformat(),
            "amount": None if v.get("amount") is None else str(v["amount"]),
            "member_id": member[0],
        }
        risks: set[str] = {ALERT_RISK[v["alert_type"]].value} if v["alert_type"] in ALERT_RISK else set()
        requests.append((member[1], entry, risks))
    if requests:
        outcome = leads_raise_or_merge_many(
            requests=group_requests(requests), source=LeadSource.DEPARTMENT_ALERT, actor=unit.user
        )
        counts["leads_raised"] = counts.get("leads_raised", 0) + outcome.raised
        counts["leads_merged"] = counts.get("leads_merged", 0) + outcome.merged
