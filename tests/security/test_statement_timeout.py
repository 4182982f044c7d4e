"""Web requests run under a PostgreSQL statement timeout; workers and commands do not (issue 10).

The process role is set by the entry point before the settings load (fanpin/wsgi.py, fanpin/asgi.py
and ``manage.py runserver``: web; other ``manage.py`` commands: command; ``FANPIN_PROCESS_ROLE=worker``
for Celery).  A web request whose query is cancelled gets a Chinese 503 page (or API detail).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse

from tests.conftest import World

ROOT = Path(__file__).resolve().parents[2]
PG_URL = "postgres://fanpin@db.invalid:5432/fanpin"  # settings only parse it: no connection is made


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"FANPIN_PROCESS_ROLE", "WEB_STATEMENT_TIMEOUT", "WORKER_STATEMENT_TIMEOUT"}
    }
    env.update({"DJANGO_SETTINGS_MODULE": "fanpin.settings_test", **extra})
    return env


def run_python(code: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args] if args else [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


SHOW_OPTIONS = (
    "from django.conf import settings; print(settings.PROCESS_ROLE, settings.DATABASES['default']['OPTIONS'])"
)


@pytest.mark.slow
def test_the_entry_point_decides_the_timeout() -> None:
    env = clean_env(DATABASE_URL=PG_URL)
    web = run_python(f"import fanpin.wsgi\n{SHOW_OPTIONS}", env)
    assert web.stdout.strip() == "web {'options': '-c jit=off -c statement_timeout=30000'}", web.stderr[-2000:]
    asgi = run_python(
        f"import fanpin.asgi\n{SHOW_OPTIONS}", clean_env(DATABASE_URL=PG_URL, WEB_STATEMENT_TIMEOUT="2.5")
    )
    assert asgi.stdout.strip() == "web {'options': '-c jit=off -c statement_timeout=2500'}", asgi.stderr[-2000:]
    command = run_python("", env, "manage.py", "shell", "-c", SHOW_OPTIONS)
    assert command.stdout.strip().splitlines()[-1] == "command {'options': '-c jit=off'}", command.stderr[-2000:]
    worker = run_python(f"import django; django.setup()\n{SHOW_OPTIONS}", {**env, "FANPIN_PROCESS_ROLE": "worker"})
    assert worker.stdout.strip() == "worker {'options': '-c jit=off'}", worker.stderr[-2000:]
    worker_limit = run_python(
        f"import django; django.setup()\n{SHOW_OPTIONS}",
        {**env, "FANPIN_PROCESS_ROLE": "worker", "WORKER_STATEMENT_TIMEOUT": "3600"},
    )
    assert worker_limit.stdout.strip() == "worker {'options': '-c jit=off -c statement_timeout=3600000'}"
    bad = run_python("import fanpin.wsgi", clean_env(DATABASE_URL=PG_URL, WEB_STATEMENT_TIMEOUT="半分钟"))
    assert bad.returncode != 0 and "WEB_STATEMENT_TIMEOUT must be a number of seconds" in bad.stderr


class _Cancelled(Exception):
    pgcode = "57014"


def cancelled() -> OperationalError:
    exc = OperationalError("canceling statement due to statement timeout")
    exc.__cause__ = _Cancelled()
    return exc


@pytest.mark.django_db
def test_a_cancelled_query_is_a_chinese_page_and_api_detail(client: Client, world: World, settings: Any) -> None:
    settings.STATEMENT_TIMEOUT_SECONDS = 30.0
    client.force_login(world.users["county"])
    with mock.patch("monitoring.views.households.households_in_scope", side_effect=cancelled()):
        page = client.get(reverse("monitoring:household_list"))
    assert page.status_code == 503
    html = page.content.decode()
    assert "查询超时" in html and "超过 30 秒" in html and "操作没有完成" in html
    with mock.patch("monitoring.api.views.households_in_scope", side_effect=cancelled()):
        api = client.get("/api/v1/households/")
    assert api.status_code == 503 and api.json()["detail"].startswith("查询超时")


@pytest.mark.django_db
def test_other_database_errors_are_not_reported_as_timeouts(client: Client, world: World) -> None:
    client.force_login(world.users["county"])
    client.raise_request_exception = False
    with mock.patch("monitoring.views.households.households_in_scope", side_effect=OperationalError("disk full")):
        response = client.get(reverse("monitoring:household_list"))
    assert response.status_code == 500
    assert "查询超时" not in response.content.decode() and "系统错误" in response.content.decode()


WEB_PROCESS = textwrap.dedent(
    """
    import json
    import fanpin.wsgi  # the web entry point: this process is a web process
    from django.db import connection
    from django.test import Client
    from fanpin.core.models import User

    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        setting = cursor.fetchone()[0]
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username="county"))
    page = client.get("/monitoring/households/")
    api = client.get("/api/v1/households/")
    print(json.dumps({"setting": setting, "page": [page.status_code, page.content.decode()],
                      "api": [api.status_code, api.content.decode()]}))
    """
)

WORKER_PROCESS = textwrap.dedent(
    """
    import django
    django.setup()
    from django.db import connection
    from assistance.tasks import dashboard_warm_task

    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        print("setting", cursor.fetchone()[0])
    print("warmed", dashboard_warm_task.apply().get())
    """
)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="statement_timeout is PostgreSQL's")
def test_web_query_is_cancelled_at_the_timeout_and_workers_and_commands_wait(world: World, tmp_path: Path) -> None:
    """A second session holds an exclusive lock on the household table, so every query on it waits
    (statement_timeout counts lock waits).  The web process's queries are cancelled after its 1 s;
    a command and a Celery task waiting on the same lock for longer than that are not, and finish
    once the lock is released."""
    import psycopg2

    s = connection.settings_dict
    url = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    env = clean_env(DATABASE_URL=url, WEB_STATEMENT_TIMEOUT="1")
    params = {"dbname": s["NAME"], "user": s["USER"], "host": s["HOST"] or "127.0.0.1", "port": s["PORT"] or 5432}
    locker = psycopg2.connect(**params)
    watcher = psycopg2.connect(**params)
    watcher.autocommit = True  # pg_stat_activity is a snapshot per transaction: a fresh one per look
    waiting: list[subprocess.Popen[str]] = []
    try:
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE monitoring_household IN ACCESS EXCLUSIVE MODE")  # in a transaction until rollback

        web = run_python(WEB_PROCESS, env)
        assert web.returncode == 0, web.stderr[-3000:]
        result = json.loads(web.stdout.strip().splitlines()[-1])
        assert result["setting"] == "1s"
        status, html = result["page"]
        assert status == 503, html[-2000:]
        assert "查询超时" in html and "超过 1 秒" in html and "Traceback" not in html
        status, body = result["api"]
        assert status == 503 and json.loads(body)["detail"].startswith("查询超时")

        output = tmp_path / "households.xlsx"
        waiting += [
            subprocess.Popen(
                [sys.executable, "manage.py", "export_xlsx", "--kind", "households", "--output", str(output)],
                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            ),
            subprocess.Popen(
                [sys.executable, "-c", WORKER_PROCESS],
                cwd=ROOT, env={**env, "FANPIN_PROCESS_ROLE": "worker"},
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            ),
        ]  # fmt: skip
        # wait until both have been waiting on the lock for twice the web timeout (the server's clock)
        deadline = time.monotonic() + 90
        blocked = 0
        while blocked < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            with watcher.cursor() as cur:
                cur.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND clock_timestamp() - query_start > interval '2 seconds'"
                )
                blocked = cur.fetchone()[0]
        assert blocked == 2, [p.poll() for p in waiting]
    finally:
        locker.rollback()  # releases the lock: the waiting command and task go on
        locker.close()
        watcher.close()
        outputs = [process.communicate(timeout=120) for process in waiting]
    (command_out, command_err), (worker_out, worker_err) = outputs
    assert waiting[0].returncode == 0, command_err[-3000:]
    assert "导出" in command_out and output.exists()
    assert waiting[1].returncode == 0, worker_err[-3000:]
    assert "setting 0" in worker_out and "warmed" in worker_out
