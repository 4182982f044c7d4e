"""A page crawl as a user meets the site: start at the home page, follow every link breadth-first.

Links are ``<a href>``, htmx ``hx-get`` and the targets of GET forms (submitted with the values the
form shows).  A few URLs per URL pattern are fetched (``per_pattern``), so a list of 300 leads costs
six lead pages, not 300.  A failure is any 5xx answer or any exception the page raises (the test
client re-raises template errors; undefined template variables fail the test, see pyproject).
"""

from __future__ import annotations

import collections
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import openpyxl
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import Resolver404, resolve

from fanpin.core.terms import PROPER_NAMES, leftover_terms, terms
from monitoring.models import MonitoringLine

# Never followed: leaving the session, static files.  The API's browsable pages are reached from
# the API root and are fetched like any page.
SKIP = re.compile(r"^/(accounts/logout|static/|media/)")


class _Links(HTMLParser):
    """``href``/``hx-get`` targets and GET forms (action + the values the form shows) of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self._form: tuple[str, list[tuple[str, str]]] | None = None
        self._select: str | None = None
        self._select_value: str | None = None
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self.blocked: list[str] = []  # markup the CSP (no inline styles or scripts) keeps from working

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        inline = [k for k in a if k == "style" or k.startswith("on")]
        if tag == "style" or (
            tag == "script"
            and not a.get("src")
            and a.get("type", "").lower() in ("", "module", "text/javascript", "application/javascript")
        ):
            inline.append(f"<{tag}> without src")
        if a.get("href", "").lower().startswith("javascript:"):
            inline.append("href=javascript:")
        if inline:
            self.blocked.append(f"<{tag}> {', '.join(inline)}")
        for key in ("href", "hx-get"):
            if a.get(key):
                self.links.append(a[key])
        if tag == "form" and a.get("method", "get").lower() == "get":
            self._form = (a.get("action", ""), [])
        elif self._form is not None and tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file"):
                self._form[1].append((a["name"], a.get("value", "")))
        elif self._form is not None and tag == "select" and a.get("name"):
            self._select, self._select_value = a["name"], None
        elif self._select is not None and tag == "option" and (self._select_value is None or "selected" in a):
            self._select_value = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._form is not None and self._select is not None:
            self._form[1].append((self._select, self._select_value or ""))
            self._select = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None


@dataclass
class CrawlResult:
    pages: int = 0
    broken: list[str] = field(default_factory=list)
    url_names: set[str] = field(default_factory=set)  # every URL name answered without a 5xx
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)


def _local(base: str, href: str) -> str | None:
    href = href.replace("&amp;", "&").split("#")[0]
    if not href or href.startswith(("javascript:", "mailto:", "tel:", "data:")):
        return None
    url = urljoin(base, href)
    parts = urlsplit(url)
    if parts.scheme and parts.netloc not in ("testserver", ""):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _shapes(url: str) -> tuple[str, str]:
    """A URL's path shape (numbers and region codes as N) and that shape with its query keys."""
    path, _, query = url.partition("?")
    keys = sorted({pair.split("=")[0] for pair in query.split("&") if pair})
    shape = re.sub(r"-?\d+", "N", path)
    return shape, shape + ("?" + "&".join(keys) if keys else "")


def crawl(
    client: Client,
    *,
    starts: Sequence[str] = ("/",),
    per_pattern: int = 3,
    per_path: int = 8,
    max_pages: int = 400,
) -> CrawlResult:
    """Fetch ``starts`` and every page reachable from them by links, as ``client``'s user: every
    start, then at most ``per_pattern`` URLs of one shape and query keys, ``per_path`` of one path
    shape (filters and sort orders of one list), ``max_pages`` in all."""
    result = CrawlResult()
    queue: collections.deque[str] = collections.deque(starts)
    max_pages += len(starts)
    seen: set[str] = set()
    per: collections.Counter[str] = collections.Counter()
    while queue and len(seen) < max_pages:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        try:
            response: Any = client.get(url)
        except Exception as exc:  # the test client re-raises a view's or a template's error
            result.broken.append(f"{url}: {type(exc).__name__}: {exc}"[:300])
            continue
        result.statuses[response.status_code] += 1
        if response.status_code >= 500:
            result.broken.append(f"{url}: HTTP {response.status_code}")
            continue
        try:
            match = resolve(urlsplit(url).path)
        except Resolver404:
            match = None
        if match is not None and response.status_code < 400:
            result.url_names.add(match.view_name)
        found: list[str] = []
        if response.status_code in (301, 302, 303) and response.get("Location"):
            found.append(response["Location"])
        elif "text/html" in response.get("Content-Type", "") and not getattr(response, "streaming", False):
            parser = _Links()
            parser.feed(response.content.decode("utf-8", "replace"))
            if parser.blocked:  # the CSP (fanpin/settings.py) blocks these in the browser
                result.broken.append(f"{url}: blocked by the CSP: {'; '.join(sorted(set(parser.blocked)))}"[:300])
            found.extend(parser.links)
            for action, values in parser.forms:
                target = action or url.split("?")[0]
                found.append(target + ("?" + urlencode(values) if values else ""))
        elif getattr(response, "streaming", False):
            b"".join(response.streaming_content)  # read a file answer to its end (closes it)
        for href in found:
            local = _local(url, href)
            if local is None or SKIP.search(local) or local in seen:
                continue
            path, shape = _shapes(local)
            if per[shape] < per_pattern and per[path] < per_path:
                per[shape] += 1
                per[path] += 1
                queue.append(local)
    result.pages = len(seen)
    return result


# -- reading what the crawl meets for words of the other glossary (issue 19, acceptance 3) ----------
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_text(content: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    parts = list(book.sheetnames)
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            parts += [str(cell) for cell in row if isinstance(cell, str)]
    book.close()
    return "\n".join(parts)


class GlossaryClient(Client):
    """The test client, reading every page and Excel file it gets for leftover terms (the crawl's own
    checks are unchanged: it gets the same responses)."""

    def __init__(
        self,
        *args: Any,
        stored: list[str] | None = None,
        hidden_in_pages: Sequence[str] = (),
        hidden_in_files: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.leftovers: list[str] = []
        self.stored: list[str] = stored or []  # texts of the data, shown as stored (see stored_texts)
        # texts no page or JSON answer (``hidden_in_pages``), or no Excel file (``hidden_in_files``),
        # may show this user: full numbers it may not see (tests/test_page_crawl.py); ``leaks`` lists them
        self.hidden_in_pages = tuple(hidden_in_pages)
        self.hidden_in_files = tuple(hidden_in_files)
        self.leaks: list[str] = []
        self.pages = 0
        self.files = 0

    def get(self, path: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        response: Any = super().get(path, *args, **kwargs)
        kind = response.get("Content-Type", "")
        if response.status_code >= 300:
            return response
        if "text/html" in kind and not getattr(response, "streaming", False):
            self.pages += 1
            text = response.content.decode("utf-8", "replace")
            self._check(path, text)  # text, attributes, chart data
            self._hidden(path, text, self.hidden_in_pages)
        elif "json" in kind and not getattr(response, "streaming", False):
            self._hidden(path, response.content.decode("utf-8", "replace"), self.hidden_in_pages)
        elif kind.startswith(XLSX):
            content = b"".join(response.streaming_content) if response.streaming else response.content
            if response.streaming:
                response.streaming_content = [content]  # the crawl reads the answer to its end too
            self.files += 1
            text = xlsx_text(content)
            self._check(path, text)
            self._hidden(path, text, self.hidden_in_files)
        return response

    def _hidden(self, path: str, text: str, hidden: Sequence[str]) -> None:
        for word in hidden:
            if word in text:
                at = text.find(word)
                self.leaks.append(f"{path}: {word!r} in …{text[max(0, at - 60) : at + len(word) + 20]!r}…")

    def _check(self, path: str, text: str) -> None:
        for stored in self.stored:
            text = text.replace(stored, "")
        for word in leftover_terms(text):
            shown = text
            for own in sorted((*terms().values(), *PROPER_NAMES), key=len, reverse=True):
                shown = shown.replace(own, "＊" * len(own))  # point at the leftover, not at a word containing it
            at = shown.find(word)
            self.leftovers.append(f"{path}: {word!r} in …{shown[max(0, at - 30) : at + len(word) + 30]!r}…")


def stored_texts() -> list[str]:
    """Data no glossary writes, shown as stored: the national lines' sources seeded by migration 0002 (they
    quote the 2021 document: 2021 年全国防止返贫监测范围 6000 元) and Django's permission names, made from
    the models' verbose names when the tables were created (the admin's user and group pages list them)."""
    sources = MonitoringLine.objects.filter(province__isnull=True).values_list("source", flat=True)
    permissions = Permission.objects.values_list("name", flat=True)
    return sorted({text for text in [*sources, *permissions] if leftover_terms(text)}, key=len, reverse=True)
