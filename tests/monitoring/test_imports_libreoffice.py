"""A sheet saved by LibreOffice from a CSV (SPEC §6: long digit strings become numbers)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from monitoring.models import Member
from monitoring.services.imports.pipeline import import_run
from tests.conftest import World
from tests.factories import make_id_number

SOFFICE = shutil.which("soffice")
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.slow,
    pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) 未安装"),
]

HEADER = "户编号,姓名,身份证号,与户主关系,健康状况,残疾等级,劳动能力,在校情况,务工情况,是否参加医保"


def _ids() -> tuple[str, str]:
    """One 身份证号 of digits only (LibreOffice makes it a number) and one ending in X (stays text)."""
    digits = x = ""
    while not (digits and x):
        candidate = make_id_number()
        if candidate.endswith("X"):
            x = x or candidate
        else:
            digits = digits or candidate
    return digits, x


def convert(tmp_path: Path, csv: Path, infilter: str) -> Path:
    out = tmp_path / infilter.replace(",", "_").replace("/", "-").replace(":", "")
    assert SOFFICE is not None
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--headless",
            f"--infilter={infilter}",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out),
            str(csv),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out / (csv.stem + ".xlsx")


def test_libreoffice_numbers_in_the_id_column_are_refused_text_ids_import(tmp_path: Path, world: World) -> None:
    digits, with_x = _ids()
    csv = tmp_path / "members.csv"
    csv.write_text(
        f"{HEADER}\n"
        f"H520101001001,张三,{digits},配偶,健康,,普通劳动力,,县内务工,是\n"
        f"H520101001001,张小三,{with_x},之子,健康,,普通劳动力,初中,,是\n",
        encoding="utf-8",
    )
    # UTF-8, comma-separated, standard column types: the digits-only ID becomes a number.
    as_numbers = convert(tmp_path, csv, "CSV:44,34,76,1")
    result = import_run(kind="members", source=str(as_numbers), user=world.users["county"])
    assert [(e.row, e.column, e.message) for e in result.errors] == [
        (2, "身份证号", "身份证号必须是文本，不能是数字（请将该列设置为文本格式后重新录入）。")
    ]
    assert not Member.objects.filter(id_number__in=[digits, with_x]).exists()

    # The same CSV with column 3 imported as text: everything imports.
    as_text = convert(tmp_path, csv, "CSV:44,34,76,1,3/2")
    result = import_run(kind="members", source=str(as_text), user=world.users["county"])
    assert result.ok, [str(e) for e in result.errors]
    assert result.created == 2
    assert Member.objects.get(id_number=digits).name == "张三"
    assert Member.objects.get(id_number=with_x).schooling == "JUNIOR"
