"""Load test (issue 10): lead queue, household search and dashboard with 1 000 000 households.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fanpin_load CACHE_URL=redis://127.0.0.1:6379/3 \
        .venv/bin/python benchmarks/load_test.py [--fill] [--users 20] [--seconds 60]

Fills the database with benchmarks/lead_queue.py's set-based generator (1 000 000 households in
province 52, 50 000 leads in county 520101) when ``--fill`` is given or it is empty, creates two
users, starts gunicorn on 127.0.0.1 (production settings, no HTTPS redirect), runs locust headless
for a bounded time with a bounded number of users, stops everything, and prints requests, errors
and p50/p95/p99 per endpoint.  Loopback only.  Record the figures in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    """A port nothing listens on now (the kernel picks it), so two runs or another server don't collide."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare(fill: bool, households: int, leads: int) -> None:
    # the server's own settings (and cache), so the warm job fills the cache the server reads
    os.environ["DJANGO_SETTINGS_MODULE"] = "fanpin.settings"
    import django

    django.setup()
    from axes.utils import reset
    from django.core.management import call_command
    from django.db.models import Max, Min

    from benchmarks import lead_queue
    from fanpin.core.models import User
    from fanpin.core.roles import Role
    from monitoring.models import Household

    call_command("migrate", verbosity=0)
    if fill or not Household.objects.exists():
        lead_queue.fill(households, leads)
    for username, role, region in (
        ("load-county", Role.COUNTY, "520101000000"),
        ("load-province", Role.PROVINCE, "520000000000"),
    ):
        User.objects.filter(username=username).delete()
        reset(username=username)  # django-axes: forget failed attempts of earlier runs
        user = User(username=username, role=role, region_id=region, is_staff=role == Role.COUNTY)
        user.set_password(os.environ.get("LOAD_PASSWORD", "load-test-2020"))
        user.save()
    print(f"households: {Household.objects.count():,}")
    county = Household.objects.within("520101").aggregate(first=Min("id"), last=Max("id"))
    os.environ["LOAD_COUNTY_IDS"] = f"{county['first']}-{county['last']}"  # the locust users' search terms
    if os.environ.get("CACHE_URL"):
        # as in production: the beat job keeps dashboard snapshots warm in the shared cache
        from django.conf import settings

        from assistance.services.dashboard_warm import dashboard_warm

        settings.DASHBOARD_CACHE_SECONDS = 7200
        started = time.perf_counter()
        print(f"dashboard warm job: {dashboard_warm()} regions in {time.perf_counter() - started:.1f} s")


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fill", action="store_true")
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=50_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--port", type=int, default=0, help="port of the server under test (default: a free one)")
    args = parser.parse_args()
    started_at = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    print(f"{started_at}, load average {load_average()}")
    prepare(args.fill, args.households, args.leads)

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fanpin.settings",
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "WHITENOISE_USE_FINDERS": "1",
        "LOG_LEVEL": "WARNING",
    }
    bin_dir = Path(sys.executable).parent
    port = args.port or free_port()
    host = f"http://127.0.0.1:{port}"
    results = tempfile.TemporaryDirectory(prefix="fanpin-load-")
    server = subprocess.Popen(
        [str(bin_dir / "gunicorn"), "fanpin.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--timeout", "60", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        for _ in range(60):
            try:
                urllib.request.urlopen(f"{host}/accounts/login/", timeout=2)
                break
            except OSError:
                time.sleep(1)
        prefix = Path(results.name) / "locust"
        print(f"locust starts: load average {load_average()}")
        subprocess.run(
            [str(bin_dir / "locust"), "-f", str(ROOT / "benchmarks" / "locustfile.py"), "--headless",
             "--host", host, "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
             "--run-time", f"{args.seconds}s", "--stop-timeout", "10", "--csv", str(prefix), "--only-summary"],
            cwd=ROOT, env={**os.environ}, check=False, timeout=args.seconds + 120,
        )  # fmt: skip
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    print(f"locust done: load average {load_average()}")
    with results, open(f"{prefix}_stats.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    print(f"\n{'endpoint':48} {'requests':>9} {'errors':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7}")
    for row in rows:
        print(
            f"{row['Name']:48} {row['Request Count']:>9} {row['Failure Count']:>7} "
            f"{row['50%']:>7} {row['95%']:>7} {row['99%']:>7} {float(row['Max Response Time']):>7.0f}"
        )


if __name__ == "__main__":
    main()
