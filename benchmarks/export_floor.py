"""The write floor of the leads export (issue 21, session 9; ``/work/shared/bench/README.md``).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench21_1m \\
        .venv/bin/python benchmarks/export_floor.py [--region 610000000000] [--columns export|leads]

One ``values_list`` query, iterated with a server-side cursor as the export does
(``iterator(chunk_size=2000)``), every tuple written as it is by XlsxWriter (``constant_memory``)
— no labels, no masking, no per-cell safety check; a JSON list becomes its items joined by commas
(XlsxWriter cannot write a list), datetimes lose their zone (``remove_timezone``).
``--columns export`` (default): the very statement ``leads_export(user=None, region_code=…)`` runs
(its lead fields, the 民政 flags, the 信息比对 and deadline annotations), so the difference to
``benchmarks/exports.py leads`` is what the export does in Python.  ``--columns leads``: only the ten
lead fields (household no, head name, township, village, sources, rules, category, state, raised,
reason) — the smallest query that fills the sheet's first eleven columns.
Prints rows, wall time, CPU of the process, peak RSS, file size and load, as ``exports.py`` does;
run the two alternately, each in a fresh process.
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

import xlsxwriter  # noqa: E402
from django.utils import timezone  # noqa: E402

from monitoring.selectors.comparisons import export_comparisons  # noqa: E402
from monitoring.selectors.deadlines import export_deadlines  # noqa: E402
from monitoring.selectors.rosters import ASSISTANCE_FLAG_FIELDS, assistance_flags  # noqa: E402
from monitoring.services.exports_leads import CHUNK, LEAD_COLUMNS, LEAD_FIELDS, _scoped_leads  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--region", default="610000000000")
    parser.add_argument("--columns", choices=["export", "leads"], default="export")
    args = parser.parse_args()
    out = tempfile.TemporaryFile()  # noqa: SIM115 - read back for its size, closed at exit
    started = time.perf_counter()
    qs = _scoped_leads(user=None, region_code=args.region, year=None, filters=None)
    if args.columns == "export":
        comparisons = export_comparisons()
        deadlines = export_deadlines(today=timezone.localdate())
        qs = qs.annotate(**assistance_flags(), **comparisons.annotations, **deadlines.annotations)
        fields = (*LEAD_FIELDS, *ASSISTANCE_FLAG_FIELDS, *comparisons.fields, *deadlines.fields)
    else:
        fields = LEAD_FIELDS
    workbook = xlsxwriter.Workbook(out, {"constant_memory": True, "remove_timezone": True})
    sheet = workbook.add_worksheet("预警线索")
    sheet.write_row(0, 0, [c for c, _w in LEAD_COLUMNS])
    n = 0
    for n, row in enumerate(qs.values_list(*fields).iterator(chunk_size=CHUNK), start=1):
        sheet.write_row(n, 0, [",".join(v) if isinstance(v, list) else v for v in row])
    workbook.close()
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.seek(0, 2)
    print(
        f"floor ({args.columns} columns): {n:,} rows  {wall:.1f} s  CPU {usage.ru_utime + usage.ru_stime:.1f} s  "
        f"peak RSS {usage.ru_maxrss / 1024:.0f} MB  file {out.tell() / 1e6:.1f} MB  load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
