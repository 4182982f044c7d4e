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
        # URL escapes are decoded, as libpq and the application's own URL parser do
        ("postgres://u:p%40ss%2Fw@h/d", "postgres://u@h/d", "p@ss/w"),
        ("postgres://u:%E5%AF%86%e7%a0%81@h/d", "postgres://u@h/d", "密码"),
        # the user part ends at the authority's last "@" (as the application splits it)
        ("postgres://u:pa@ss@h:5432/d", "postgres://u@h:5432/d", "pa@ss"),
        # ":" and "@" after the host are not a password
        ("postgres://u@h:5432/d?application_name=a:b@c", "postgres://u@h:5432/d?application_name=a:b@c", "<unset>"),
        ("postgres://h/d?x=y:z@w", "postgres://h/d?x=y:z@w", "<unset>"),
        ("postgres://u:p@[::1]:5432/d", "postgres://u@[::1]:5432/d", "p"),
        ("postgres://u:@h/d", "postgres://u@h/d", "<unset>"),  # empty: PGPASSWORD / ~/.pgpass stay
    ],
)
def test_the_password_moves_from_the_url_to_pgpassword(url: str, without: str, password: str) -> None:
    result = secure(url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [without, password]


@pytest.mark.parametrize(
    "url",
    [
        "postgres://fanpin@db/fanpin?sslmode=require&password=Zq7-secret",  # a query parameter
        "host=db user=fanpin password=Zq7-secret dbname=fanpin",  # a conninfo string
        "postgres://fanpin:Zq7-secret?@db/fanpin",  # "?" or "#" not encoded: libpq would still take it
        "postgres://fanpin:Zq7#-secret@db/fanpin",
    ],
)
def test_a_password_it_cannot_move_is_refused_with_the_way_out(url: str) -> None:
    result = secure(url)
    assert result.returncode == 2
    assert "PGPASSWORD" in result.stderr and "Zq7" not in result.stderr + result.stdout


def test_a_conninfo_or_name_without_password_is_left_alone() -> None:
    for text in ("fanpin", "host=db user=fanpin dbname=fanpin"):
        assert secure(text).stdout.splitlines() == [text, "<unset>"]


def test_bash_parses_it_too() -> None:
    """``sh`` above is dash on Debian (and in the postgres image); an operator may run bash."""
    import shutil

    shell = shutil.which("bash")
    if shell is None:
        pytest.skip("bash is not installed")
    script = '. deploy/pgurl.sh; pgurl_secure "$1"; printf "%s\\n%s\\n" "$PGURL" "${PGPASSWORD-<unset>}"'
    result = subprocess.run(
        [shell, "-c", script, "sh", "postgres://u:p%40ss@h/d"], cwd=ROOT, capture_output=True, text=True,
        timeout=30, check=False,
    )  # fmt: skip
    assert result.stdout.splitlines() == ["postgres://u@h/d", "p@ss"], result.stderr


def test_restore_refuses_a_password_on_its_own_command_line(tmp_path: Path) -> None:
    dump = tmp_path / "x.dump"
    dump.write_bytes(b"")
    result = subprocess.run(
        ["sh", "deploy/restore.sh", str(dump), "postgres://fanpin:Zq7-secret@db:5432/fanpin_restore"], cwd=ROOT,
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "PGPASSWORD" in result.stderr and "Zq7-secret" not in result.stderr
