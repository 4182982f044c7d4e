"""Writing audit rows: the one helper every service uses for state changes."""

from __future__ import annotations

from typing import Any

from fanpin.models import AccessLog, AuditEntry, User

# Object types whose state changes move dashboard figures: their audit row also expires the
# dashboard snapshots of the region and the regions above it, on commit (docs/decisions.md,
# "Dashboard snapshots follow every state change").  Bulk writers that insert audit rows without
# this helper call ``assistance.services.dashboard_refresh.dashboard_regions_changed`` themselves.
DASHBOARD_OBJECT_TYPES = frozenset({"lead", "target", "elimination", "target_measure"})


def audit_record(
    *,
    actor: User | None,
    object_type: str,
    object_id: object,
    region_code: str,
    action: str,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    if object_type in DASHBOARD_OBJECT_TYPES:
        from assistance.services.dashboard_refresh import dashboard_regions_changed

        dashboard_regions_changed(region_codes=[region_code])
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        object_type=object_type,
        object_id=str(object_id),
        region_code=region_code,
        action=action,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data or {},
    )


def access_log_record(
    *,
    actor: User | None,
    action: str,
    what: str,
    region_code: str,
    rows: int = 0,
    object_id: object = "",
    ip_address: str | None = None,
) -> AccessLog:
    """Record that personal data was seen unmasked or exported (who, when, what, how many rows)."""
    return AccessLog.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        what=what[:200],
        object_id=str(object_id),
        region_code=region_code,
        row_count=rows,
        ip_address=ip_address,
    )


def export_record(
    *,
    actor: Any,
    kind: str,
    rows: int,
    region_code: str,
    data: dict[str, Any] | None = None,
    personal_data: bool = True,
) -> None:
    """The one place that records an export: an audit row, and an access-log row when the export
    holds personal data (names, households), so administrators can search who took what."""
    saved_actor = actor if actor is not None and getattr(actor, "pk", None) else None
    audit_record(
        actor=saved_actor,
        object_type="export",
        object_id=kind,
        region_code=region_code,
        action="export",
        data={"kind": kind, "rows": rows, **(data or {})},
    )
    if personal_data:
        access_log_record(
            actor=saved_actor,
            action=AccessLog.Action.EXPORT,
            what=f"导出 {kind}",
            region_code=region_code,
            rows=rows,
        )
