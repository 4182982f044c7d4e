"""Province-wide pages without a list of every village, and the region typeahead (session 5).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fanpin_screening_bench \\
        .venv/bin/python benchmarks/province_pages.py [--runs 10]

Uses the province of ``benchmarks/screening.py`` (10 000 villages; any ``--households``).  As a
provincial user (created once), in-process (Django test client, whole request with rendering):
the household list and the lead queue (time, size, number of ``<option>`` elements), then the
typeahead for a few terms.  Median and minimum of ``--runs`` requests after two.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanpin.settings_test")
os.environ["DEBUG"] = "0"

import django

django.setup()

from django.test import Client  # noqa: E402

from fanpin.core.models import User  # noqa: E402
from fanpin.core.roles import Role  # noqa: E402
from monitoring.models import Region  # noqa: E402

PROVINCE = "610000000000"


def timed(client: Client, path: str, runs: int, **params: str) -> tuple[float, float, str]:
    times = []
    for _ in range(runs + 2):
        started = time.perf_counter()
        response = client.get(path, params, secure=True)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(times[2:]) * 1000, min(times[2:]) * 1000, response.content.decode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    user = User.objects.filter(username="bench-province").first() or User.objects.create_user(
        "bench-province", password="x", role=Role.PROVINCE, region=Region.objects.get(code=PROVINCE)
    )
    client = Client()
    client.force_login(user)
    load = os.getloadavg()[0]
    for path in ("/monitoring/households/", "/monitoring/leads/"):
        median, fastest, html = timed(client, path, args.runs)
        print(f"{path}: median {median:.0f} ms, min {fastest:.0f} ms, {len(html) / 1024:.0f} KiB, "
              f"{html.count('<option')} <option>s, load {load:.1f}")  # fmt: skip
    for term in ("", "村1", "610101", "不存在"):
        median, fastest, html = timed(
            client, "/monitoring/regions/typeahead/", args.runs, levels="village", field="village", village=term
        )
        print(f"typeahead {term!r}: median {median:.1f} ms, min {fastest:.1f} ms, {html.count('<option')} options")


if __name__ == "__main__":
    main()
