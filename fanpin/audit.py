"""Writing audit rows: the one helper every service uses for state changes."""

from __future__ import annotations

from typing import Any

from fanpin.models import AuditEntry, User


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
