"""deploy/pgurl.sh: the backup and restore scripts keep a database password off the command line
of pg_dump / pg_restore / psql (the process list shows command lines to every user)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def secure(url: str) -> subprocess.CompletedProcess[str]:
    script = '. deploy/pgurl.sh; pgurl_secure "$1"; printf "%s\\n%s\\n" "$PGURL" "${PGPASSWORD-<unset>}"'
    return subprocess.run(
        ["sh", "-c", script, "sh", url], cwd=ROOT, env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
        timeout=30, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("url", "without", "password"),
    [
        ("postgres://fanpin:s3cret@db:5432/fanpin", "postgres://fanpin@db:5432/fanpin", "s3cret"),
        ("postgresql://u:p:q!@h/d?sslmode=require", "postgresql://u@h/d?sslmode=require", "p:q!"),
        ("postgres://fanpin@db:5432/fanpin", "postgres://fanpin@db:5432/fanpin", "<unset>"),
        ("postgres://db/fanpin", "postgres://db/fanpin", "<unset>"),
    ],
)
def test_the_password_moves_from_the_url_to_pgpassword(url: str, without: str, password: str) -> None:
    result = secure(url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [without, password]


def test_a_percent_encoded_password_is_refused_with_the_way_out() -> None:
    result = secure("postgres://fanpin:p%40ss@db/fanpin")
    assert result.returncode == 2
    assert "PGPASSWORD" in result.stderr and "p%40ss" not in result.stderr
