"""Audit rows are append-only: no update or delete through the app, the admin or (PostgreSQL) SQL."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from fanpin.core.audit import audit_record
from fanpin.core.models import AppendOnlyError, AuditEntry
from tests.conftest import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(world: World) -> AuditEntry:
    return audit_record(
        actor=world.users["county"],
        object_type="lead",
        object_id=1,
        region_code="520101001001",
        action="confirm",
        from_state="REVIEWED",
        to_state="CONFIRMED",
        reason="测试",
    )


def test_orm_cannot_change_or_delete(entry: AuditEntry) -> None:
    entry.reason = "篡改"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(reason="篡改")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    entry.refresh_from_db()
    assert entry.reason == "测试"


def test_admin_offers_no_change_or_delete(client: Client, world: World, entry: AuditEntry) -> None:
    client.force_login(world.users["admin"])
    change = client.get(reverse("admin:fanpin_auditentry_change", args=[entry.pk]))
    assert change.status_code == 200  # view only
    assert 'name="_save"' not in change.content.decode()
    assert client.post(reverse("admin:fanpin_auditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:fanpin_auditentry_add")).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_database_refuses_update_and_delete(entry: AuditEntry) -> None:
    for sql in ("UPDATE fanpin_auditentry SET reason = 'x'", "DELETE FROM fanpin_auditentry"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AuditEntry.objects.get(pk=entry.pk).reason == "测试"
