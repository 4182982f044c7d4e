"""PDF files of printed pages (帮扶明白卡), made by headless Chromium from the same HTML the
browser prints (docs/decisions/2026-12-03-cards-and-posters.md: WeasyPrint took about ten times
longer for a village's 200 cards).

Chromium (Debian package ``chromium``, fonts ``fonts-noto-cjk``) is started once per process and
kept (``fanpin.web.pdf_browser``); each file is a page it opens from a temporary folder and prints:
the page's stylesheets are written into the document, images are ``data:`` URIs, and the browser
resolves no host name, so it fetches nothing.  Without Chromium the site still prints through the
browser; the PDF link answers that the server cannot make PDF files.  The file's text layer is then
mended (``fanpin.web.pdf_text``: radicals that stand for ideographs), and the file is kept a while
for the same document (``_Made``).
"""

from __future__ import annotations

import collections
import hashlib
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage

from fanpin.web.pdf_browser import BROWSER as _BROWSER
from fanpin.web.pdf_browser import PrintBusy, PrintFailed
from fanpin.web.pdf_text import RADICAL_TO_IDEOGRAPH, cmap_text_fix, pdf_text_fix, text_fold

__all__ = [
    "RADICAL_TO_IDEOGRAPH",
    "PdfUnavailable",
    "browser_path",
    "cmap_text_fix",
    "pdf_from_html",
    "pdf_text_fix",
    "static_text",
    "text_fold",
]

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome")
UNAVAILABLE = "服务器未安装生成 PDF 所需的 Chromium，请使用页面上的“打印”（可在打印对话框中选择“另存为 PDF”）。"
FAILED = "生成 PDF 失败，请稍后再试，或使用页面上的“打印”。"
BUSY = "服务器正在生成其他 PDF 文件，请稍后再试，或使用页面上的“打印”。"


class PdfUnavailable(Exception):
    """No PDF file could be made (no Chromium on this server, or it failed): the message says so."""


def browser_path() -> str | None:
    """The Chromium to run: ``settings.PDF_BROWSER`` when set, else the first found on PATH."""
    configured = str(getattr(settings, "PDF_BROWSER", "") or "")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return next((found for name in BROWSER_NAMES if (found := shutil.which(name))), None)


def static_text(name: str) -> str:
    """The text of a static file (``css/cards.css``), from the app folders or the collected files."""
    found = finders.find(name)
    path = Path(found if isinstance(found, str) else staticfiles_storage.path(name))
    return path.read_text(encoding="utf-8")


def _with_styles(html: str, stylesheets: list[str]) -> str:
    styles = "".join(f"<style>{static_text(name)}</style>" for name in stylesheets)
    head_end = html.find("</head>")
    return html[:head_end] + styles + html[head_end:] if head_end >= 0 else styles + html


def pdf_from_html(html: str, *, stylesheets: list[str]) -> bytes:
    """``html`` (a whole document, no scripts, images as ``data:`` URIs) as PDF bytes, styled by the
    static ``stylesheets``; the paper size is the document's ``@page`` rule.  Raises
    ``PdfUnavailable`` with a message for the user."""
    browser = browser_path()
    if browser is None:
        raise PdfUnavailable(UNAVAILABLE)
    document = _with_styles(html, stylesheets)
    key = hashlib.sha256(document.encode()).digest()
    made = _MADE.get(key)
    if made is not None:
        return made
    timeout = float(getattr(settings, "PDF_TIMEOUT", 60))
    with tempfile.TemporaryDirectory(prefix="fanpin-pdf-") as folder:
        source = Path(folder) / "page.html"
        source.write_text(document, encoding="utf-8")
        try:
            pdf = _BROWSER.print(source, browser=browser, timeout=timeout)
        except PrintBusy as exc:
            raise PdfUnavailable(BUSY) from exc
        except PrintFailed as exc:
            raise PdfUnavailable(FAILED) from exc
    if not pdf:
        raise PdfUnavailable(FAILED)
    made = pdf_text_fix(pdf)
    _MADE.put(key, made)
    return made


class _Made:
    """The files made last in this process, by the digest of their whole document: the same page
    printed again (another role's copy of a village's cards: the same document) is not printed
    twice.  Only a request that rendered that very document finds its file, so no one gets a file
    they could not have had printed; kept ``PDF_KEEP_SECONDS``, at most ``PDF_KEEP_BYTES`` in all."""

    def __init__(self) -> None:
        self.forget()

    def forget(self) -> None:
        """Start empty (in a forked child: the parent's lock may be held by a thread the child lacks)."""
        pending: threading.Timer | None = getattr(self, "timer", None)
        if pending is not None:
            pending.cancel()  # (in a forked child the parent's timer thread does not exist)
        self.lock = threading.Lock()
        self.files: collections.OrderedDict[bytes, tuple[float, bytes]] = collections.OrderedDict()
        self.timer: threading.Timer | None = None

    def get(self, key: bytes) -> bytes | None:
        with self.lock:
            self._expire()
            found = self.files.get(key)
            if found is None:
                return None
            self.files.move_to_end(key)
            return found[1]

    def put(self, key: bytes, data: bytes) -> None:
        limit = int(getattr(settings, "PDF_KEEP_BYTES", 64 * 1024 * 1024))
        with self.lock:
            self.files[key] = (time.monotonic(), data)
            self.files.move_to_end(key)
            while self.files and sum(len(d) for _t, d in self.files.values()) > limit:
                self.files.popitem(last=False)
            self._expire()
            self._arm()

    def _arm(self) -> None:
        """Personal data goes when its time is up, whether or not another file is asked for: one
        timer, for the oldest file kept (under the lock)."""
        if self.timer is not None or not self.files:
            return
        keep = float(getattr(settings, "PDF_KEEP_SECONDS", 600))
        due = min(made for made, _data in self.files.values()) + keep - time.monotonic()
        self.timer = threading.Timer(max(due, 0) + 0.05, self._due)
        self.timer.daemon = True
        self.timer.start()

    def _due(self) -> None:
        with self.lock:
            self.timer = None
            self._expire()
            self._arm()

    def _expire(self) -> None:
        oldest = time.monotonic() - float(getattr(settings, "PDF_KEEP_SECONDS", 600))
        for key in [k for k, (made, _d) in self.files.items() if made < oldest]:
            del self.files[key]


_MADE = _Made()
os.register_at_fork(after_in_child=_MADE.forget)
