"""One headless Chromium per process, kept between PDF files and driven over its DevTools pipe
(``_Browser``; ``fanpin.web.pdf`` prints through it)."""

from __future__ import annotations

import atexit
import base64
import contextlib
import fcntl
import json
import logging
import os
import select
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

from django.conf import settings

logger = logging.getLogger(__name__)


class PrintBusy(Exception):
    """The browser printed other files longer than this file's time."""


class PrintFailed(Exception):
    """The browser failed, died or took too long (it was stopped; the next file starts another)."""


BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",  # a container gives the browser no user namespaces; the page is ours
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # resolve no host: nothing is fetched
)
# What ``--print-to-pdf --no-pdf-header-footer --disable-pdf-tagging`` asks of the page: the paper of
# the document's ``@page`` rule, its backgrounds, no header or footer, no structure tree (a third of
# the size, and the text fix reads less).
PRINT_PARAMS = {
    "preferCSSPageSize": True,
    "printBackground": True,
    "displayHeaderFooter": False,
    "generateTaggedPDF": False,
    "transferMode": "ReturnAsBase64",
}


class _Browser:
    """One headless Chromium per process, kept between PDF files and driven over its DevTools pipe
    (``--remote-debugging-pipe``: messages on file descriptors 3 and 4, no port anyone could
    reach; started with ``posix_spawn``, which puts the pipes there).  Starting Chromium was most
    of a file's time (a card 1.5 s, of which printing ≈ 0.2 s).  One file at a time (a lock); a
    browser that fails or times out is killed and the next file starts a new one; one left idle
    for ``PDF_BROWSER_IDLE_SECONDS`` is closed.  A forked child (a worker of a pre-forking server)
    starts its own: the parent's browser is not the child's to drive."""

    def __init__(self) -> None:
        self.forget()

    def forget(self) -> None:
        """Start from nothing (in a forked child: the parent's browser and lock stay the parent's)."""
        self.lock = threading.Lock()
        self.pid: int | None = None
        self.reaped = False  # the browser ended and its exit status was collected
        self.folder: _Folder | None = None  # a plain folder: a forked child dropping it removes nothing
        self.to_browser: IO[bytes] | None = None
        self.from_browser: IO[bytes] | None = None
        self.buffer = b""
        self.next_id = 0
        self.idle_timer: threading.Timer | None = None

    def print(self, path: Path, *, browser: str, timeout: float) -> bytes:
        # a file waits for the files asked before it at most its own time, then is refused
        if not self.lock.acquire(timeout=timeout):
            raise PrintBusy
        try:
            if self.idle_timer is not None:
                self.idle_timer.cancel()
            if not self._running():
                self._start(browser)
            return self._print(path, deadline=time.monotonic() + timeout)
        except (OSError, ValueError, KeyError, TimeoutError, _BrowserError) as exc:
            logger.error("PDF: %s failed: %s", browser, exc)
            self._stop()
            raise PrintFailed(str(exc)) from exc
        finally:
            idle = float(getattr(settings, "PDF_BROWSER_IDLE_SECONDS", 60))
            self.idle_timer = threading.Timer(idle, self.close)
            self.idle_timer.daemon = True
            self.idle_timer.start()
            self.lock.release()

    def close(self) -> None:
        with self.lock:
            self._stop()

    def _start(self, browser: str) -> None:
        self._stop()
        self.folder = _Folder()
        commands_read, commands_write = os.pipe()
        replies_read, replies_write = os.pipe()
        # the browser reads commands on descriptor 3 and writes replies on 4; its ends are first
        # moved above 9, so that putting them there cannot overwrite one of them
        commands_read, replies_write = _above_nine(commands_read), _above_nine(replies_write)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.folder.name, "LANG": "C.UTF-8"}
        argv = [
            browser,
            *BROWSER_FLAGS,
            f"--user-data-dir={self.folder.name}/profile",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        try:
            self.pid = os.posix_spawn(
                browser,
                argv,
                env,
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                    (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
                    (os.POSIX_SPAWN_DUP2, commands_read, 3),
                    (os.POSIX_SPAWN_DUP2, replies_write, 4),
                ],
                setsid=True,  # its own process group: killed with all its helpers
            )
        finally:
            os.close(commands_read)
            os.close(replies_write)
        self.to_browser = os.fdopen(commands_write, "wb", buffering=0)
        self.from_browser = os.fdopen(replies_read, "rb", buffering=0)
        self.buffer = b""

    def _running(self) -> bool:
        if self.pid is None or self.reaped:
            return False
        try:
            ended = os.waitpid(self.pid, os.WNOHANG) != (0, 0)
        except ChildProcessError:
            ended = True
        self.reaped = ended
        return not ended

    def _stop(self) -> None:
        """Ask the browser to close (it then ends its helper processes itself), kill what is left."""
        if self.to_browser is not None and self._running():
            with contextlib.suppress(OSError):
                self._send("Browser.close")
                deadline = time.monotonic() + 2
                while time.monotonic() < deadline and self._running():
                    time.sleep(0.02)
        for stream in (self.to_browser, self.from_browser):
            if stream is not None:
                stream.close()
        self.to_browser = self.from_browser = None
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            if not self.reaped:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(self.pid, 0)
            self.pid, self.reaped = None, False
        if self.folder is not None:
            self.folder.cleanup()
            self.folder = None

    def _send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> int:
        assert self.to_browser is not None
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        self.to_browser.write(json.dumps(message).encode() + b"\0")
        return self.next_id

    def _receive(self, deadline: float) -> dict[str, Any]:
        assert self.from_browser is not None
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.from_browser], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = self.from_browser.read(1 << 20)
            if not chunk:
                raise _BrowserError("Chromium closed its pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return dict(json.loads(message))

    def _call(
        self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None, deadline: float
    ) -> dict[str, Any]:
        sent = self._send(method, params, session)
        while True:
            message = self._receive(deadline)
            if message.get("id") == sent:
                if "error" in message:
                    raise _BrowserError(f"{method}: {message['error']}")
                return dict(message.get("result") or {})

    def _event(self, method: str, *, session: str, deadline: float) -> None:
        while True:
            message = self._receive(deadline)
            if message.get("method") == method and message.get("sessionId") == session:
                return

    def _print(self, path: Path, *, deadline: float) -> bytes:
        target = self._call("Target.createTarget", {"url": "about:blank"}, deadline=deadline)["targetId"]
        try:
            session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True}, deadline=deadline)[
                "sessionId"
            ]
            self._call("Page.enable", session=session, deadline=deadline)
            self._send("Page.navigate", {"url": path.as_uri()}, session)
            self._event("Page.loadEventFired", session=session, deadline=deadline)
            data = self._call("Page.printToPDF", PRINT_PARAMS, session=session, deadline=deadline)["data"]
        finally:
            if self._running():
                self._send("Target.closeTarget", {"targetId": target})
        return base64.b64decode(data)


def _above_nine(fd: int) -> int:
    """``fd`` moved to a descriptor number of 10 or more (closed on exec unless passed)."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


class _BrowserError(Exception):
    pass


class _Folder:
    """The browser's profile folder, removed by ``cleanup`` only (unlike ``TemporaryDirectory``,
    whose finalizer would remove it in a forked child that forgets it, under the parent's browser)."""

    def __init__(self) -> None:
        self.name = tempfile.mkdtemp(prefix="fanpin-pdf-browser-")

    def cleanup(self) -> None:
        shutil.rmtree(self.name, ignore_errors=True)


def _close_at_exit() -> None:
    """The process ends: close its browser (it would outlive the folder and write it again)."""
    if BROWSER.lock.acquire(timeout=5):
        try:
            BROWSER._stop()
        finally:
            BROWSER.lock.release()


BROWSER = _Browser()
os.register_at_fork(after_in_child=BROWSER.forget)
atexit.register(_close_at_exit)
