"""Attacks on the kept PDF browser (fanpin.web.pdf): fork, process exit, how long files are kept."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.test import override_settings

from fanpin.web import pdf

pytestmark = pytest.mark.skipif(pdf.browser_path() is None, reason="chromium 未安装")

PAGE = "<html><head></head><body><p>户主张三 身份证 110101199001011234</p></body></html>"
ROOT = Path(__file__).resolve().parents[2]


def test_a_forked_child_does_not_remove_its_parents_browser_folder(browser) -> None:  # type: ignore[no-untyped-def]
    pdf.pdf_from_html(PAGE, stylesheets=[])
    folder = Path(browser.folder.name)
    child = os.fork()
    if child == 0:  # forget() drops the parent's TemporaryDirectory: its finalizer runs here
        os._exit(0)
    os.waitpid(child, 0)
    assert folder.exists(), "the child removed the profile folder of the parent's running Chromium"


def test_a_forked_child_can_make_a_file_while_the_parent_held_the_files_lock(browser) -> None:  # type: ignore[no-untyped-def]
    read, write = os.pipe()
    with pdf._MADE.lock:  # another thread of the parent is in _MADE.get/put at the moment of the fork
        child = os.fork()
        if child == 0:
            os.close(read)
            done = threading.Event()
            threading.Thread(target=lambda: (pdf._MADE.get(b"k"), done.set()), daemon=True).start()
            os.write(write, b"ok" if done.wait(3) else b"hung")
            os._exit(0)
    os.close(write)
    answer = os.read(read, 8)
    os.waitpid(child, 0)
    assert answer == b"ok", "the child inherited _MADE.lock held and hangs on its first PDF file"


def test_a_process_that_ends_with_its_browser_open_leaves_no_folder() -> None:
    script = (
        "import django; django.setup()\n"
        "from fanpin.web import pdf\n"
        f"pdf.pdf_from_html({PAGE!r}, stylesheets=[])\n"
        "print(pdf._BROWSER.folder.name)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "fanpin.settings_test", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    folder = Path(out.stdout.strip().splitlines()[-1])
    time.sleep(2)
    left = folder.exists()
    subprocess.run(["rm", "-rf", str(folder)], check=False)
    assert not left, f"{folder} (a Chromium profile) is left in /tmp by every process that ends"


@override_settings(PDF_KEEP_SECONDS=0.3, PDF_BROWSER_IDLE_SECONDS=0.3)
def test_a_file_with_personal_data_is_not_kept_past_PDF_KEEP_SECONDS(browser) -> None:  # type: ignore[no-untyped-def]
    pdf.pdf_from_html(PAGE, stylesheets=[])
    time.sleep(1.5)  # no other PDF file is asked for in this process meanwhile
    assert pdf._MADE.files == {}, "the card's PDF stays in memory until the next PDF request"
