"""The Chromium kept for PDF files (fanpin.web.pdf_browser._Browser): one browser prints file after file, a
browser that died or hung is replaced, one left idle is closed, and nothing is left behind."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import time
from pathlib import Path

import pytest
from django.test import override_settings
from pypdf import PdfReader

from fanpin.web import pdf

pytestmark = pytest.mark.skipif(
    pdf.browser_path() is None, reason="chromium 未安装（apt-get install -y chromium fonts-noto-cjk）"
)

PAGE = (
    "<html><head><style>@page { size: A5; margin: 10mm }</style></head><body>"
    "<p style='page-break-after: always'>户主张三 家庭人口 3</p><p>第二页</p></body></html>"
)


def _page(n: int) -> str:
    return PAGE.replace("第二页", f"第二页{n}")


def _alive(group: int) -> list[int]:
    """The processes of the browser's process group that still run (an ended helper whose parent
    was killed may stay a zombie until the system reaps it)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            alive.append(int(stat.parent.name))
    return alive


def _text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), "".join(page.extract_text() for page in reader.pages).replace(" ", "")


def test_one_browser_prints_file_after_file(browser) -> None:  # type: ignore[no-untyped-def]
    first = pdf.pdf_from_html(PAGE, stylesheets=[])
    pid = browser.pid
    second = pdf.pdf_from_html(PAGE.replace("张三", "李四"), stylesheets=[])
    assert browser.pid == pid is not None
    assert _text(first) == (2, "户主张三家庭人口3第二页")
    assert _text(second) == (2, "户主李四家庭人口3第二页")


def test_a_browser_that_died_is_replaced(browser) -> None:  # type: ignore[no-untyped-def]
    pdf.pdf_from_html(_page(1), stylesheets=[])
    dead = browser.pid
    os.killpg(dead, signal.SIGKILL)
    time.sleep(0.2)
    assert _text(pdf.pdf_from_html(_page(2), stylesheets=[]))[0] == 2
    assert browser.pid not in (None, dead)


def test_a_file_that_takes_too_long_fails_with_the_message_and_the_next_one_prints(browser) -> None:  # type: ignore[no-untyped-def]
    pdf.pdf_from_html(_page(1), stylesheets=[])
    hung, folder = browser.pid, browser.folder.name
    with override_settings(PDF_TIMEOUT=0.000001), pytest.raises(pdf.PdfUnavailable, match="生成 PDF 失败"):
        pdf.pdf_from_html(_page(2), stylesheets=[])
    assert browser.pid is None and not Path(folder).exists()  # ended, its profile removed
    assert _alive(hung) == []
    assert _text(pdf.pdf_from_html(_page(2), stylesheets=[]))[0] == 2


@override_settings(PDF_BROWSER_IDLE_SECONDS=0.3)
def test_a_browser_left_idle_is_closed(browser) -> None:  # type: ignore[no-untyped-def]
    pdf.pdf_from_html(PAGE, stylesheets=[])
    pid, folder = browser.pid, browser.folder.name
    time.sleep(1.5)
    assert browser.pid is None and not Path(folder).exists()
    assert _alive(pid) == []
    assert _text(pdf.pdf_from_html(_page(2), stylesheets=[]))[0] == 2  # and the next file starts one


def test_the_same_page_again_is_not_printed_twice_and_another_page_is(browser, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    printed = []
    real = browser.print

    def counted(path, **kwargs):  # type: ignore[no-untyped-def]
        printed.append(path.read_text(encoding="utf-8"))
        return real(path, **kwargs)

    monkeypatch.setattr(browser, "print", counted)
    first = pdf.pdf_from_html(_page(1), stylesheets=[])
    assert pdf.pdf_from_html(_page(1), stylesheets=[]) == first
    assert len(printed) == 1
    assert _text(pdf.pdf_from_html(_page(2), stylesheets=[]))[1].endswith("第二页2")
    assert len(printed) == 2
    with override_settings(PDF_KEEP_SECONDS=0):  # kept no longer: printed again
        pdf.pdf_from_html(_page(1), stylesheets=[])
    assert len(printed) == 3
    with override_settings(PDF_KEEP_BYTES=len(first) + 1):  # room for one file: the older one goes
        pdf.pdf_from_html(_page(3), stylesheets=[])
        assert list(pdf._MADE.files) == [hashlib.sha256(pdf._with_styles(_page(3), []).encode()).digest()]


def test_a_file_waiting_longer_than_its_time_for_another_is_refused_with_a_message(browser) -> None:  # type: ignore[no-untyped-def]
    pdf.pdf_from_html(_page(1), stylesheets=[])
    pid = browser.pid
    busy = pytest.raises(pdf.PdfUnavailable, match="正在生成其他 PDF")
    with browser.lock, override_settings(PDF_TIMEOUT=0.2), busy:  # another request is printing
        pdf.pdf_from_html(_page(2), stylesheets=[])
    assert browser.pid == pid  # the browser printing the other file is left alone
    assert _text(pdf.pdf_from_html(_page(2), stylesheets=[]))[0] == 2


@override_settings(PDF_KEEP_SECONDS=0.3)
def test_files_kept_are_removed_on_time_by_one_timer(browser) -> None:  # type: ignore[no-untyped-def]
    for n in range(3):
        pdf._MADE.put(bytes([n]) * 32, b"%PDF-" + bytes([n]))
    timer = pdf._MADE.timer
    pdf._MADE.put(b"\x09" * 32, b"%PDF-9")
    assert timer is not None and pdf._MADE.timer is timer  # one timer, however many files
    time.sleep(0.8)
    assert pdf._MADE.files == {} and pdf._MADE.timer is None
