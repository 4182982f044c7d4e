"""Issue 19, acceptance 3: both glossaries render every page of the crawl without a leftover term of the other.

The data and the walk are the page crawl's (tests/test_page_crawl.py, tests/crawl.py): the demo made the
ways a county makes it, then every demo user follows every link from the home page, anonymous visitors
the public pages, the county every lead and target page.  The deployment's term set is chosen before the
data is made (texts stored with the data — notices, default opinions, the demo line's source — are written
in the words of their day, as in a deployment), and every HTML page and every Excel download the crawl
meets is read for words of the other set (``fanpin.core.terms.leftover_terms``): under 2026 no 监测对象,
防止返贫监测 or 监测范围 that is not part of a 2026 word, under 2020 no 防止返贫致贫.  Shown as stored and
left out of the check: the national lines' sources seeded by a migration and Django's permission names.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from fanpin.core.models import User
from fanpin.core.terms import PROPER_NAMES, leftover_terms, term, terms
from monitoring.models import Lead, MonitoringLine, MonitoringTarget
from monitoring.services.demo import ROLE_USERS
from tests.crawl import crawl
from tests.test_page_crawl import _county_data

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx_text(content: bytes) -> str:
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.leftovers: list[str] = []
        self.stored: list[str] = []  # texts of the data, shown as stored (see _stored_texts)
        self.pages = 0
        self.files = 0

    def get(self, path: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        response: Any = super().get(path, *args, **kwargs)
        kind = response.get("Content-Type", "")
        if response.status_code >= 300:
            return response
        if "text/html" in kind and not getattr(response, "streaming", False):
            self.pages += 1
            self._check(path, response.content.decode("utf-8", "replace"))  # text, attributes, chart data
        elif kind.startswith(XLSX):
            content = b"".join(response.streaming_content) if response.streaming else response.content
            if response.streaming:
                response.streaming_content = [content]  # the crawl reads the answer to its end too
            self.files += 1
            self._check(path, _xlsx_text(content))
        return response

    def _check(self, path: str, text: str) -> None:
        for stored in self.stored:
            text = text.replace(stored, "")
        for word in leftover_terms(text):
            shown = text
            for own in sorted((*terms().values(), *PROPER_NAMES), key=len, reverse=True):
                shown = shown.replace(own, "＊" * len(own))  # point at the leftover, not at a word containing it
            at = shown.find(word)
            self.leftovers.append(f"{path}: {word!r} in …{shown[max(0, at - 30) : at + len(word) + 30]!r}…")


def _stored_texts() -> list[str]:
    """Data no glossary writes, shown as stored: the national lines' sources seeded by migration 0002 (they
    quote the 2021 document: 2021 年全国防止返贫监测范围 6000 元) and Django's permission names, made from
    the models' verbose names when the tables were created (the admin's user and group pages list them)."""
    sources = MonitoringLine.objects.filter(province__isnull=True).values_list("source", flat=True)
    permissions = Permission.objects.values_list("name", flat=True)
    return sorted({text for text in [*sources, *permissions] if leftover_terms(text)}, key=len, reverse=True)


@pytest.mark.parametrize("term_set", ["2026", "2020"])
def test_every_page_of_the_crawl_speaks_one_glossary(settings: Any, tmp_path: Path, term_set: str) -> None:
    settings.FANPIN_TERMS = term_set
    cache.clear()  # dashboard figures cached by a run under the other set
    _county_data(tmp_path)
    stored = _stored_texts()
    leftovers: list[str] = []
    pages = files = 0
    clients: list[tuple[str, GlossaryClient, dict[str, Any]]] = []
    for username in ROLE_USERS:
        client = GlossaryClient()
        client.force_login(User.objects.get(username=username))
        clients.append((username, client, {}))
    clients.append(("anonymous", GlossaryClient(), {}))
    county_user = User.objects.get(username="county")
    county = GlossaryClient()
    county.force_login(county_user)
    starts = [
        reverse("monitoring:lead_detail", args=[pk])
        for pk in Lead.objects.for_user(county_user).values_list("pk", flat=True)
    ]
    starts += [
        reverse("monitoring:target_detail", args=[pk])
        for pk in MonitoringTarget.objects.for_user(county_user).values_list("pk", flat=True)
    ]
    clients.append(("county (every lead and target)", county, {"starts": starts, "max_pages": 200}))
    for name, client, options in clients:
        client.stored = stored
        result = crawl(client, **options)
        assert not result.broken, "\n".join(result.broken[:20])
        leftovers += [f"{name} {line}" for line in client.leftovers]
        pages += client.pages
        files += client.files
    assert pages > 300 and files >= 3, (pages, files)  # the crawl read pages of every kind and the exports
    assert not leftovers, f"{len(leftovers)} leftovers of the other glossary under {term('target')}:\n" + "\n".join(
        leftovers[:40]
    )
