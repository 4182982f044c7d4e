"""Time of one large export, in this process (session 5).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> \\
        .venv/bin/python benchmarks/exports.py leads|households --region 530000000000

``leads``: ``leads_export`` as ``manage.py export_xlsx --kind leads --region`` runs it (every lead
under the region).  ``households``: ``households_export`` for a provincial user of the region
(created once).  Prints rows, wall time, CPU time of the process (on a shared machine the wall time
is mostly waiting for a core), peak RSS and the file size.  Run it alternately on the two commits
compared, in a fresh process each time.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanpin.settings")
os.environ["DEBUG"] = "0"

import django

django.setup()

from fanpin.core.models import User  # noqa: E402
from fanpin.core.roles import Role  # noqa: E402
from monitoring.models import Region  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["leads", "households"])
    parser.add_argument("--region", default="530000000000", help="a province code (default: the demo's 云南)")
    args = parser.parse_args()
    out = tempfile.TemporaryFile()  # noqa: SIM115 - read back for its size, closed at exit
    started = time.perf_counter()
    if args.kind == "leads":
        from monitoring.services.exports_leads import leads_export

        rows = leads_export(user=None, region_code=args.region, output=out)
    else:
        from monitoring.services.exports import households_export

        name = f"bench-province-{args.region[:2]}"
        user = User.objects.filter(username=name).first() or User.objects.create_user(
            name, password="x", role=Role.PROVINCE, region=Region.objects.get(code=args.region)
        )
        rows = households_export(user=user, out=out)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.seek(0, 2)
    print(
        f"{args.kind}: {rows:,} rows  {wall:.1f} s  CPU {usage.ru_utime + usage.ru_stime:.1f} s  "
        f"peak RSS {usage.ru_maxrss / 1024:.0f} MB  file {out.tell() / 1e6:.1f} MB  load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
