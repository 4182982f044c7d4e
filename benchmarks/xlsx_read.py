"""Read time of an uploaded sheet: the import reader (python-calamine) against openpyxl (session 5).

    .venv/bin/python benchmarks/xlsx_read.py [--rows 100000] [--rounds 3] [--file PATH]

Writes a members file of ``--rows`` rows once (a title row and the SPEC headers, openpyxl
write-only, so without ``<dimension>``), then, in a fresh process each, alternating for
``--rounds`` rounds, reads it to the end four ways: ``reader`` (``open_rows`` as an import calls it:
archive check, error-cell scan, calamine, rows shaped like openpyxl's), ``reader-openpyxl`` (the
openpyxl path the reader keeps for files with error cells or huge sheets, i.e. the old reader),
and the bare libraries (``openpyxl-bare``, ``calamine-bare``: the floors).  Prints one JSON line
per read: seconds, rows, peak RSS, load average.  No database needed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fanpin.settings_test")
WAYS = ("reader-openpyxl", "reader", "openpyxl-bare", "calamine-bare")


def make(path: Path, rows: int) -> None:
    import django

    django.setup()
    from openpyxl import Workbook

    from monitoring.services.imports.spec import SPECS
    from tests.factories import make_id_number

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("家庭成员")
    ws.append(["家庭成员导入"])
    ws.append(SPECS["members"].headers)
    for i in range(rows):
        village = f"H{520101001001 + i // 500:012d}{i % 500:03d}"
        ws.append([village, "张秀英", make_id_number(), "配偶", "健康", None, "普通劳动力", None, "县内务工", "是"])
    wb.save(path)


def read(path: Path, how: str) -> None:
    import django

    django.setup()
    from monitoring.services.imports import reader

    started, n = time.perf_counter(), 0
    if how == "openpyxl-bare":
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        n = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))
    elif how == "calamine-bare":
        from python_calamine import CalamineWorkbook

        n = sum(1 for _ in CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).iter_rows())
    else:
        opener = reader.open_rows if how == "reader" else reader._openpyxl_rows
        with opener(str(path)) as (rows, _max_row):
            n = sum(1 for _ in rows)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"how": how, "rows": n, "s": round(time.perf_counter() - started, 2), "rss_mb": round(rss),
                      "load": round(os.getloadavg()[0], 1)}), flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--file", type=Path, default=Path("/tmp/fanpin-members-read-bench.xlsx"))
    parser.add_argument("--one", choices=WAYS, help=argparse.SUPPRESS)  # a child process's single read
    args = parser.parse_args()
    if args.one:
        read(args.file, args.one)
        return
    if not args.file.exists():
        make(args.file, args.rows)
        print(f"wrote {args.file} ({args.file.stat().st_size / 1e6:.1f} MB)")
    for _ in range(args.rounds):
        for how in WAYS:
            subprocess.run([sys.executable, __file__, "--file", str(args.file), "--one", how], check=True)


if __name__ == "__main__":
    main()
