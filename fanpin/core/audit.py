"""Writing audit rows: the one helper every service uses for state changes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from fanpin.core.models import AccessLog, AuditEntry, User

# What must follow a state change outside the kernel (the dashboard snapshots of the region and the
# regions above it expire on commit: docs/decisions/2026-12-03-dashboard-snapshots-follow-changes.md).
# The kernel imports no app, so an app registers its follower once, in its AppConfig.ready; each is
# called as ``follower(object_type=..., region_codes=[...])`` inside the writing transaction.
StateChangeFollower = Callable[..., None]
_followers: list[StateChangeFollower] = []


def state_change_follower_register(follower: StateChangeFollower) -> None:
    if follower not in _followers:
        _followers.append(follower)


def state_changes_follow(*, object_type: str, region_codes: list[str]) -> None:
    """Objects of ``object_type`` in ``region_codes`` changed state in the current transaction: tell
    the registered followers.  ``audit_record`` calls it; bulk writers that insert audit rows
    themselves call it once for all their rows."""
    if region_codes:
        for follower in _followers:
            follower(object_type=object_type, region_codes=region_codes)


# The address of the request being answered (``fanpin.web.middleware.ClientAddressMiddleware`` binds
# it): every access-log row written while answering it carries the address, whichever service wrote
# it (a list export, a job file, an unmasked view). Outside a request (commands, Celery workers): none;
# a task run eagerly inside the request (no broker: CELERY_TASK_ALWAYS_EAGER) records the requester's.
_client_address: ContextVar[str | None] = ContextVar("fanpin_client_address", default=None)


@contextmanager
def client_address_bound(address: str | None) -> Iterator[None]:
    token = _client_address.set(address)
    try:
        yield
    finally:
        _client_address.reset(token)


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
    state_changes_follow(object_type=object_type, region_codes=[region_code])
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
    """Record that personal data was seen unmasked or exported (who, when, what, how many rows, from
    which address: ``ip_address``, else the address of the request being answered)."""
    return AccessLog.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        what=what[:200],
        object_id=str(object_id),
        region_code=region_code,
        row_count=rows,
        ip_address=ip_address if ip_address is not None else _client_address.get(),
    )


def export_record(
    *,
    actor: Any,
    kind: str,
    label: str,
    rows: int,
    region_code: str,
    data: dict[str, Any] | None = None,
    personal_data: bool = True,
) -> None:
    """The one place that records an export: an audit row (``kind``, the code), and an access-log row
    when the export holds personal data (names, households) saying ``导出<label>`` in the sheet's own
    words, so administrators can search who took what."""
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
            what=f"导出{label}",
            region_code=region_code,
            rows=rows,
        )
