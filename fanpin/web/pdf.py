"""PDF files of printed pages (帮扶明白卡), made by headless Chromium from the same HTML the
browser prints (docs/decisions/2026-12-03-cards-and-posters.md: WeasyPrint took about ten times
longer for a village's 200 cards).

Chromium (Debian package ``chromium``, fonts ``fonts-noto-cjk``) is started once per process and
kept (``_Browser``); each file is a page it opens from a temporary folder and prints: the page's
stylesheets are written into the document, images are ``data:`` URIs, and the browser resolves no
host name, so it fetches nothing.  Without Chromium the site still prints through the browser; the PDF link
answers that the server cannot make PDF files.

The text layer: Noto Sans CJK draws a Kangxi radical and its ideograph with one glyph (⼈ and 人,
⼾ and 户), and Chromium's PDF writer names such a glyph by the radical, so a search for 人口 or
a copied name would not match.  ``pdf_text_fix`` rewrites those names in the file's ToUnicode maps
with pypdf (an incremental update: the pages are not rewritten).
"""

from __future__ import annotations

import atexit
import base64
import collections
import contextlib
import fcntl
import hashlib
import io
import json
import logging
import os
import re
import select
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage

logger = logging.getLogger(__name__)

# The radicals whose glyph in Noto Sans CJK SC is that of an ideograph, with that ideograph (read
# from the font's character map; the same pairs hold for every CJK font that shares the glyphs).
RADICAL_PAIRS = (
    "⺂乛 ⺃乚 ⺅亻 ⺉刂 ⺏尣 ⺐尢 ⼪尢 ⺒巳 ⺓幺 ⼳幺 ⺔彑 ⺕彐 ⺖忄 ⺘扌 ⺙攵 ⺛旡 ⺞歺 ⺟母 ⺠民 ⺡氵 "
    "⺣灬 ⺤爫 ⺦丬 ⺨犭 ⺭礻 ⺯糹 ⺰纟 ⺱罓 ⺹耂 ⺺肀 ⺾艹 ⻂衤 ⻅见 ⻆角 ⻈讠 ⻉贝 ⻋车 ⻌辶 ⻐钅 ⻑長 "
    "⾧長 ⻒镸 ⻓长 ⻔门 ⻖阝 ⻘青 ⻙韦 ⻚页 ⻛风 ⻜飞 ⻝食 ⾷食 ⻟飠 ⻠饣 ⻢马 ⻣骨 ⻤鬼 ⿁鬼 ⻥鱼 ⻦鸟 "
    "⻧卤 ⻨麦 ⻩黄 ⻪黾 ⻫斉 ⻬齐 ⻮齿 ⻯竜 ⻰龙 ⻱龜 ⻲亀 ⻳龟 ⼀一 ⼁丨 ⼂丶 ⼃丿 ⼄乙 ⼅亅 ⼆二 ⼇亠 "
    "⼈人 ⼉儿 ⼊入 ⼋八 ⼌冂 ⼍冖 ⼎冫 ⼏几 ⼐凵 ⼑刀 ⼒力 ⼓勹 ⼔匕 ⼕匚 ⼖匸 ⼗十 ⼘卜 ⼙卩 ⼚厂 ⼛厶 "
    "⼜又 ⼝口 ⼞囗 ⼟土 ⼠士 ⼡夂 ⼢夊 ⼣夕 ⼤大 ⼥女 ⼦子 ⼧宀 ⼨寸 ⼩小 ⼫尸 ⼬屮 ⼭山 ⼮巛 ⼯工 ⼰己 "
    "⼱巾 ⼲干 ⼴广 ⼵廴 ⼶廾 ⼷弋 ⼸弓 ⼺彡 ⼻彳 ⼼心 ⼽戈 ⼾户 ⼿手 ⽀支 ⽁攴 ⽂文 ⽃斗 ⽄斤 ⽅方 ⽆无 "
    "⽇日 ⽈曰 ⽉月 ⽊木 ⽋欠 ⽌止 ⽍歹 ⽎殳 ⽏毋 ⽐比 ⽑毛 ⽒氏 ⽓气 ⽔水 ⽕火 ⽖爪 ⽗父 ⽘爻 ⽙爿 ⽚片 "
    "⽛牙 ⽜牛 ⽝犬 ⽞玄 ⽟玉 ⽠瓜 ⽡瓦 ⽢甘 ⽣生 ⽤用 ⽥田 ⽦疋 ⽧疒 ⽨癶 ⽩白 ⽪皮 ⽫皿 ⽬目 ⽭矛 ⽮矢 "
    "⽯石 ⽰示 ⽱禸 ⽲禾 ⽳穴 ⽴立 ⽵竹 ⽶米 ⽷糸 ⽸缶 ⽹网 ⽺羊 ⽻羽 ⽼老 ⽽而 ⽿耳 ⾀聿 ⾁肉 ⾂臣 ⾃自 "
    "⾄至 ⾅臼 ⾆舌 ⾇舛 ⾈舟 ⾉艮 ⾊色 ⾋艸 ⾌虍 ⾍虫 ⾎血 ⾏行 ⾐衣 ⾑襾 ⾒見 ⾔言 ⾕谷 ⾖豆 ⾗豕 ⾘豸 "
    "⾙貝 ⾚赤 ⾛走 ⾜足 ⾝身 ⾞車 ⾟辛 ⾠辰 ⾡辵 ⾢邑 ⾣酉 ⾤釆 ⾥里 ⾦金 ⾨門 ⾩阜 ⾪隶 ⾫隹 ⾬雨 ⾭靑 "
    "⾮非 ⾯面 ⾰革 ⾱韋 ⾲韭 ⾳音 ⾴頁 ⾵風 ⾶飛 ⾸首 ⾹香 ⾺馬 ⾼高 ⾽髟 ⾾鬥 ⾿鬯 ⿀鬲 ⿂魚 ⿃鳥 ⿄鹵 "
    "⿅鹿 ⿆麥 ⿇麻 ⿈黃 ⿉黍 ⿊黑 ⿋黹 ⿌黽 ⿍鼎 ⿎鼓 ⿏鼠 ⿑齊 ⿒齒 ⿓龍 ⿕龠"
)
RADICAL_TO_IDEOGRAPH = {ord(pair[0]): pair[1] for pair in RADICAL_PAIRS.split()}

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
            raise PdfUnavailable(BUSY)
        try:
            if self.idle_timer is not None:
                self.idle_timer.cancel()
            if not self._running():
                self._start(browser)
            return self._print(path, deadline=time.monotonic() + timeout)
        except (OSError, ValueError, KeyError, TimeoutError, _BrowserError) as exc:
            logger.error("PDF: %s failed: %s", browser, exc)
            self._stop()
            raise PdfUnavailable(FAILED) from exc
        finally:
            idle = float(getattr(settings, "PDF_BROWSER_IDLE_SECONDS", 300))
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
    if _BROWSER.lock.acquire(timeout=5):
        try:
            _BROWSER._stop()
        finally:
            _BROWSER.lock.release()


_BROWSER = _Browser()
os.register_at_fork(after_in_child=_BROWSER.forget)
atexit.register(_close_at_exit)


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
        pdf = _BROWSER.print(source, browser=browser, timeout=timeout)
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
        self.lock = threading.Lock()
        self.files: collections.OrderedDict[bytes, tuple[float, bytes]] = collections.OrderedDict()

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
        # personal data: gone when its time is up, whether or not another file is asked for
        expiry = threading.Timer(float(getattr(settings, "PDF_KEEP_SECONDS", 600)) + 0.05, self.expire)
        expiry.daemon = True
        expiry.start()

    def expire(self) -> None:
        with self.lock:
            self._expire()

    def _expire(self) -> None:
        oldest = time.monotonic() - float(getattr(settings, "PDF_KEEP_SECONDS", 600))
        for key in [k for k, (made, _d) in self.files.items() if made < oldest]:
            del self.files[key]


_MADE = _Made()
os.register_at_fork(after_in_child=_MADE.forget)


def text_fold(text: str) -> str:
    """``text`` with every radical that stands for an ideograph replaced by that ideograph."""
    return text.translate(RADICAL_TO_IDEOGRAPH)


def _unicode_fixed(hex_digits: bytes) -> bytes:
    text = bytes.fromhex(hex_digits.decode()).decode("utf-16-be", "surrogatepass")
    fixed = text_fold(text)
    return hex_digits if fixed == text else fixed.encode("utf-16-be", "surrogatepass").hex().upper().encode()


_BFCHAR = re.compile(rb"(beginbfchar)(.*?)(endbfchar)", re.S)
_BFRANGE = re.compile(rb"(beginbfrange)(.*?)(endbfrange)", re.S)
_PAIR = re.compile(rb"(<[0-9A-Fa-f]+>)\s*<([0-9A-Fa-f]+)>")
_TO_UNICODE_REF = re.compile(rb"/ToUnicode (\d+) 0 R")
_RANGE = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")


def cmap_text_fix(data: bytes) -> bytes:
    """A ToUnicode CMap whose targets name ideographs, not radicals: ``bfchar`` targets are
    rewritten; a ``bfrange`` that reaches a radical becomes single ``bfchar`` entries."""
    data = _BFCHAR.sub(
        lambda m: (
            m.group(1)
            + _PAIR.sub(lambda p: p.group(1) + b" <" + _unicode_fixed(p.group(2)) + b">", m.group(2))
            + m.group(3)
        ),
        data,
    )
    singles: list[bytes] = []

    def ranges(m: re.Match[bytes]) -> bytes:
        kept = []
        for low, high, start in _RANGE.findall(m.group(2)):
            first, last, target = int(low, 16), int(high, 16), int(start, 16)
            if any(target + i in RADICAL_TO_IDEOGRAPH for i in range(last - first + 1)):
                width = len(low)
                singles.extend(
                    b"<%s> <%04X>" % (f"{first + i:0{width}X}".encode(), ord(text_fold(chr(target + i))))
                    for i in range(last - first + 1)
                )
            else:
                kept.append(b"<%s> <%s> <%s>" % (low, high, start))
        return m.group(1) + b"\n" + b"\n".join(kept) + b"\n" + m.group(3)

    data = _BFRANGE.sub(ranges, data)
    if singles:
        block = b"%d beginbfchar\n%s\nendbfchar\nendcmap" % (len(singles), b"\n".join(singles))
        data = data.replace(b"endcmap", block, 1)
    return data


def pdf_text_fix(pdf: bytes) -> bytes:
    """``pdf`` with its fonts' ToUnicode maps naming ideographs, not radicals (see above).  The maps
    are found by their references (Chromium writes its font dictionaries as plain objects; a file
    that keeps them in object streams is walked page by page)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import StreamObject

    writer = PdfWriter(PdfReader(io.BytesIO(pdf)), incremental=True)
    numbers = {int(n) for n in _TO_UNICODE_REF.findall(pdf)}
    found: list[Any] = []
    if numbers:
        found = [writer.get_object(n) for n in sorted(numbers)]
    else:
        for page in writer.pages:
            for ref in page.get("/Resources", {}).get("/Font", {}).values():
                found.append(ref.get_object().get("/ToUnicode"))
    streams = {id(s): s for s in (f.get_object() for f in found if f is not None) if isinstance(s, StreamObject)}
    changed = 0
    for stream in streams.values():
        data = stream.get_data()
        fixed = cmap_text_fix(data)
        if fixed != data:
            stream.set_data(fixed)
            changed += 1
    if not changed:
        return pdf
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
