"""A village's batch of 帮扶明白卡 as one PDF: 200 cards must be ready within 10 s.

    .venv/bin/python benchmarks/cards_pdf.py [--cards 200] [--repeat 3] [--size A4]

Builds a fresh SQLite database in a temporary folder (migrations, one village with ``--cards``
active targets, each with a household head, three members and three measures with their
帮扶责任人; an application with a receipt number for every second target), then, ``--repeat``
times, asks for the village's PDF as a county user (Django test client, in-process: the queries,
the template, the QR codes, headless Chromium's print and the text-layer fix, the access-log row)
and prints the wall time and the CPU time (this process and Chromium's) of each request, the pages
and the size of the file.  ``--weasyprint`` also renders the same document with WeasyPrint (the
alternative that was weighed), when it is installed.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanpin.settings_test")

VILLAGE = "520101001001"


def _seed(cards: int) -> None:
    import datetime as dt
    from decimal import Decimal

    from assistance.models import Measure, TargetMeasure
    from fanpin.core.models import User
    from fanpin.core.regions import region_level_of, region_parent_code
    from monitoring.models import (
        Application,
        Household,
        Lead,
        Member,
        MonitoringTarget,
        Region,
    )
    from tests.factories import make_id_number

    code: str | None = VILLAGE
    chain = []
    while code:
        chain.append(code)
        code = region_parent_code(code)
    for c in reversed(chain):
        Region.objects.get_or_create(
            code=c, defaults={"name": f"示范{c[-3:]}", "level": region_level_of(c), "parent_id": region_parent_code(c)}
        )
    county = User(username="county", role="COUNTY", region_id="520101000000", full_name="县级")
    county.set_password("pw-bench-2020")
    county.save()
    User.objects.create(username="cadre", role="VILLAGE", region_id=VILLAGE, full_name="孙村官", phone="13700007777")
    measures = list(Measure.objects.filter(code__in=["MICROCREDIT", "MEDICAL_ASSISTANCE", "PUBLIC_WELFARE_POST"]))
    today = dt.date(2025, 6, 1)
    for i in range(cards):
        household = Household.objects.create(
            household_no=f"BENCH{i:06d}", village_id=VILLAGE, household_type="EXITED", exit_year=2019
        )
        for j, relation in enumerate(["HEAD", "SPOUSE", "SON"]):
            Member.objects.create(
                household=household,
                name=f"户主{i}" if j == 0 else f"成员{i}-{j}",
                id_number=make_id_number(),
                relation=relation,
                health="SERIOUS" if j == 1 else "HEALTHY",
                labor="NORMAL",
            )
        lead = Lead.objects.create(
            household=household,
            village_id=household.village_id,  # a lead holds its household's village
            state="CONFIRMED",
            sources=["SELF_APPLICATION"],
            year=2025,
            raised_at=dt.datetime.now(dt.UTC),
            decided_at=dt.datetime.now(dt.UTC),
        )
        target = MonitoringTarget.objects.create(
            household=household,
            lead=lead,
            category="UNSTABLE_EXITED",
            risk_types=["ILLNESS", "LACK_OF_LABOR", "UNSTABLE_EMPLOYMENT"],
            identified_on=today,
        )
        if i % 2 == 0:
            Application.objects.create(
                receipt_no=f"SB20250601{i:08d}",
                channel="PUBLIC",
                source="DIRECT",
                status="MATCHED",
                village_id=VILLAGE,
                household=household,
                reason="ILLNESS",
                description="看病花钱多",
                lead=lead,
            )
        for k, measure in enumerate(measures):
            TargetMeasure.objects.create(
                target=target,
                measure=measure,
                responsible_name=f"责任人{k}",
                responsible_unit="县农业农村局",
                responsible_phone=f"139{i:04d}{k:04d}",
                start_on=today,
                end_on=today + dt.timedelta(days=730) if k == 0 else None,
                amount=Decimal("50000") if k == 0 else None,
                amount_kind="LOAN" if k == 0 else "",
                status="IN_PROGRESS",
            )


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _weasyprint(client: object, size: str) -> None:
    """The alternative that was weighed: WeasyPrint on the very document Chromium prints."""
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from assistance.selectors.cards import village_cards
    from assistance.views.cards import CARD_STYLESHEETS, _context
    from fanpin.core.models import User
    from fanpin.web.pdf import static_text

    try:
        from weasyprint import CSS, HTML
        from weasyprint.urls import URLFetcher
    except (ImportError, OSError):
        print("WeasyPrint: not installed (pip install weasyprint; Debian libpango-1.0-0 libpangoft2-1.0-0)")
        return
    request = RequestFactory().get("/")
    request.user = User.objects.get(username="county")
    batch = village_cards(user=request.user, code=VILLAGE)
    context = _context(request, batch.cards, size=size, title="bench", pdf=True)
    html = render_to_string("assistance/cards/print.html", context, request=request)
    fetcher = URLFetcher(allowed_protocols=["data"])
    css = [CSS(string=static_text(name), url_fetcher=fetcher) for name in CARD_STYLESHEETS[size]]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    document = HTML(string=html, url_fetcher=fetcher).render(stylesheets=css)
    pdf = document.write_pdf()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    print(
        f"WeasyPrint, same document: {len(document.pages)} pages, {len(pdf) / 1e6:.2f} MB, "
        f"wall {wall:.2f} s, CPU {cpu:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cards", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--size", default="A4", choices=["A4", "A5"])
    parser.add_argument(
        "--weasyprint", action="store_true", help="also render the same document with WeasyPrint, if installed"
    )
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="fanpin-cards-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse
    from pypdf import PdfReader

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    _seed(args.cards)
    from fanpin.core.models import User

    client = Client()
    client.force_login(User.objects.get(username="county"))
    url = reverse("assistance:village_cards_pdf", args=[VILLAGE])

    walls, cpus = [], []
    for n in range(args.repeat):
        cpu0, children0, wall0 = time.process_time(), _children_cpu(), time.perf_counter()
        response = client.get(url, {"size": args.size})
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0 + _children_cpu() - children0  # Django + Chromium
        assert response.status_code == 200, response.status_code
        pages = len(PdfReader(io.BytesIO(response.content)).pages)
        walls.append(wall)
        cpus.append(cpu)
        print(
            f"run {n + 1}: {args.cards} cards {args.size} → {pages} pages, {len(response.content) / 1e6:.2f} MB, "
            f"wall {wall:.2f} s, CPU {cpu:.2f} s"
        )
    print(f"median: wall {statistics.median(walls):.2f} s, CPU {statistics.median(cpus):.2f} s (limit 10 s)")
    if args.weasyprint:
        _weasyprint(client, args.size)
    load = os.getloadavg()
    print(f"load average while running: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
