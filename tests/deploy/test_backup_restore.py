"""deploy/backup.sh and deploy/restore.sh (issue 10, docs/operations.md): a tested restore.

PostgreSQL only: a database with data is dumped, restored into a fresh database, and the restored
data is checked (row counts, an audit row, the append-only audit trigger still refusing an UPDATE,
no migration left to apply).  The fresh database is ``FANPIN_RESTORE_TEST_DATABASE`` (default: the
test database's name + ``_restore``); it is dropped and created by the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from fanpin.core.audit import audit_record
from fanpin.core.models import AuditEntry, User
from monitoring.models import Household, Lead, Member, MonitoringTarget, Region
from tests.conftest import World
from tests.factories import LeadFactory, TargetFactory

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump / pg_restore need PostgreSQL"),
    pytest.mark.skipif(shutil.which("pg_dump") is None, reason="PostgreSQL client tools are not installed"),
]


def url(name: str) -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def maintenance(sql: str) -> None:
    import psycopg2

    s = connection.settings_dict
    conn = psycopg2.connect(
        dbname="postgres", user=s["USER"], password=s.get("PASSWORD") or None, host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
    )  # fmt: skip
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


@pytest.fixture
def fresh_database() -> Iterator[str]:
    name = os.environ.get("FANPIN_RESTORE_TEST_DATABASE") or f"{connection.settings_dict['NAME']}_restore"
    maintenance(f'DROP DATABASE IF EXISTS "{name}"')
    maintenance(f'CREATE DATABASE "{name}" TEMPLATE template0')
    yield name
    maintenance(f'DROP DATABASE IF EXISTS "{name}"')


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=300, check=False
    )


def test_backup_then_restore_into_a_fresh_database(
    world: World, fresh_database: str, tmp_path: Path, settings: Any
) -> None:
    LeadFactory(household=world.households["520101001001"])
    TargetFactory(household=world.households["520101002001"])
    entry = audit_record(
        actor=world.users["county"],
        object_type="lead",
        object_id=1,
        region_code="520101001001",
        action="reject",
        from_state="NEW",
        to_state="REJECTED",
        reason="备份恢复测试",
    )
    photo = Path(settings.MEDIA_ROOT) / "visits" / "2026" / "11" / "photo.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"\xff\xd8 not really a photo")
    backups = tmp_path / "backups"
    backups.mkdir()
    old, recent = backups / "fanpin-20260101-023000.dump", backups / "fanpin-20261125-023000.dump"
    for path, days in ((old, 30), (recent, 3)):
        path.write_bytes(b"")
        stamp = time.time() - days * 86400
        os.utime(path, (stamp, stamp))

    backup = run(
        ["sh", "deploy/backup.sh", str(backups)],
        DATABASE_URL=url(connection.settings_dict["NAME"]),
        BACKUP_KEEP_DAYS="14",
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
    )
    assert backup.returncode == 0, backup.stderr
    dump = Path(backup.stdout.strip().splitlines()[-1])
    assert dump.parent == backups and dump.name.startswith("fanpin-") and dump.suffix == ".dump"
    assert not old.exists() and recent.exists()  # retention: older than 14 days removed
    media = next(backups.glob("fanpin-media-*.tar.gz"))
    with tarfile.open(media) as archive:
        assert "./visits/2026/11/photo.jpg" in archive.getnames()

    restore = run(["sh", "deploy/restore.sh", str(dump), url(fresh_database)])
    assert restore.returncode == 0, restore.stderr
    figures = dict(line.split(" ", 1) for line in restore.stdout.splitlines() if line.count(" ") == 1)
    assert figures["regions"] == str(Region.objects.count())
    assert figures["households"] == str(Household.objects.count()) == "6"
    assert figures["members"] == str(Member.objects.count())
    assert figures["leads"] == str(Lead.objects.count()) == "1"
    assert figures["targets"] == str(MonitoringTarget.objects.count()) == "1"
    assert figures["users"] == str(User.objects.count())
    assert figures["audit_entries"] == str(AuditEntry.objects.count())
    assert figures["last_audit"] == str(entry.pk)
    assert figures["audit_trigger"] == "1"

    import psycopg2

    s = connection.settings_dict
    restored = psycopg2.connect(
        dbname=fresh_database, user=s["USER"], password=s.get("PASSWORD") or None,
        host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432,
    )  # fmt: skip
    try:
        with restored.cursor() as cur:
            cur.execute("SELECT actor_id, action, reason FROM fanpin_auditentry WHERE id = %s", [entry.pk])
            assert cur.fetchone() == (world.users["county"].pk, "reject", "备份恢复测试")
            with pytest.raises(psycopg2.Error, match="append-only"):
                cur.execute("UPDATE fanpin_auditentry SET reason = '篡改' WHERE id = %s", [entry.pk])
        restored.rollback()
    finally:
        restored.close()

    # the restored database is at this code's schema: nothing left to migrate
    check = run(
        [sys.executable, "manage.py", "migrate", "--check"],
        DATABASE_URL=url(fresh_database),
        DJANGO_SETTINGS_MODULE="fanpin.settings_test",
    )
    assert check.returncode == 0, check.stdout + check.stderr

    # a database with tables is never restored into
    again = run(["sh", "deploy/restore.sh", str(dump), url(fresh_database)])
    assert again.returncode == 3 and "目标数据库不是空库" in again.stderr


def test_restore_refuses_a_missing_dump(tmp_path: Path) -> None:
    result = run(["sh", "deploy/restore.sh", str(tmp_path / "none.dump"), url("unused")])
    assert result.returncode == 2 and "转储文件不存在" in result.stderr


def test_no_password_on_the_tools_command_lines(fresh_database: str, tmp_path: Path) -> None:
    """pg_dump, pg_restore and psql get the password in PGPASSWORD, never as an argument: backup.sh
    takes it out of DATABASE_URL; restore.sh is given it in PGPASSWORD (it refuses one in its URL
    argument, test_pgurl.py)."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    for tool in ("pg_dump", "pg_restore", "psql"):
        real = shutil.which(tool)
        wrapper = bin_dir / tool
        wrapper.write_text(f'#!/bin/sh\necho "{tool} pw=${{PGPASSWORD-}} args=$*" >> "{log}"\nexec "{real}" "$@"\n')
        wrapper.chmod(0o755)
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    with_password = url(connection.settings_dict["NAME"]).replace("@", ":Zq7-not-shown@", 1)
    if ":Zq7" not in with_password.split("@")[0]:  # the URL had a password already: replace it
        pytest.skip("the test database URL already carries a password")
    backups = tmp_path / "backups"
    backup = run(["sh", "deploy/backup.sh", str(backups)], DATABASE_URL=with_password, PATH=path)
    assert backup.returncode == 0, backup.stderr
    dump = backup.stdout.strip().splitlines()[-1]
    restore = run(["sh", "deploy/restore.sh", dump, url(fresh_database)], PATH=path, PGPASSWORD="Zq7-not-shown")
    assert restore.returncode == 0, restore.stderr
    calls = log.read_text().splitlines()
    assert {c.split(" ", 1)[0] for c in calls} == {"pg_dump", "pg_restore", "psql"}
    for call in calls:
        given, args = call.split(" args=", 1)
        assert "Zq7-not-shown" not in args and given.endswith("pw=Zq7-not-shown"), call
