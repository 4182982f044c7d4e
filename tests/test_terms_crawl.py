"""Issue 19, acceptance 3: both glossaries render every page of the crawl without a leftover term of the other.

The 2026 set (the default) is checked by the page crawl itself (tests/test_page_crawl.py: every page and
Excel file its clients meet).  Here the 2020 set: the deployment's term set is chosen before the data is
made (texts stored with the data — notices, default opinions, the demo line's source — are written in the
words of their day, as in a deployment), then every demo user follows every link from the home page, one
page of each kind (the words are the templates', the same for every page of a kind), anonymous visitors
the public pages, the county a lead of every state and source and some targets; every HTML page and Excel
file is read for 防止返贫致贫 (``fanpin.core.terms.leftover_terms``), and every page the page crawl must
reach is reached here too.  Shown as stored and left out of the check: the national lines' sources seeded
by a migration and Django's permission names (``tests.crawl.stored_texts``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.urls import reverse

from fanpin.core.models import User
from monitoring.models import Lead, LeadSource, LeadState, MonitoringTarget
from monitoring.services.demo import ROLE_USERS
from tests.crawl import GlossaryClient, crawl, stored_texts
from tests.test_page_crawl import NOT_LINKED, _county_data, _url_names

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _lead_pages(user: User) -> list[str]:
    """A few leads of every state and every source, each lead page that links a scan or an appeal, and
    a few targets: every kind of lead and target page the county meets."""
    leads = Lead.objects.for_user(user)
    chosen: set[int] = set()
    for state in LeadState:
        chosen |= set(leads.filter(state=state).order_by("id").values_list("pk", flat=True)[:2])
    by_source: dict[str, list[int]] = {}
    for pk, sources in leads.order_by("id").values_list("pk", "sources"):
        for source in sources:
            by_source.setdefault(source, []).append(pk)
    for source in LeadSource:
        chosen |= set(by_source.get(source, [])[:2])
    chosen |= set(leads.exclude(consent_scan="").values_list("pk", flat=True))
    chosen |= set(leads.filter(appeal_of__isnull=False).values_list("pk", flat=True))
    pages = [reverse("monitoring:lead_detail", args=[pk]) for pk in sorted(chosen)]
    targets = MonitoringTarget.objects.for_user(user).order_by("id").values_list("pk", flat=True)[:5]
    return pages + [reverse("monitoring:target_detail", args=[pk]) for pk in targets]


@pytest.mark.usefixtures("pdf_rendered_not_printed")
def test_every_page_of_the_crawl_speaks_the_2020_glossary(settings: Any, tmp_path: Path) -> None:
    settings.FANPIN_TERMS = "2020"
    cache.clear()  # dashboard figures cached by a run under the other set
    _county_data(tmp_path)
    stored = stored_texts()
    clients: list[tuple[str, GlossaryClient, dict[str, Any]]] = []
    for username in ROLE_USERS:
        client = GlossaryClient(stored=stored)
        client.force_login(User.objects.get(username=username))
        clients.append((username, client, {"per_pattern": 1, "per_path": 2}))
    clients.append(("anonymous", GlossaryClient(stored=stored), {}))
    county_user = User.objects.get(username="county")
    county = GlossaryClient(stored=stored)
    county.force_login(county_user)
    clients.append(("county (leads and targets)", county, {"starts": _lead_pages(county_user), "per_pattern": 1}))
    leftovers: list[str] = []
    reached: set[str] = set()
    pages = files = 0
    for name, client, options in clients:
        result = crawl(client, **options)
        assert not result.broken, "\n".join(result.broken[:20])
        reached |= result.url_names
        leftovers += [f"{name} {line}" for line in client.leftovers]
        pages += client.pages
        files += client.files
    unreached = _url_names() - reached - set(NOT_LINKED)
    assert not unreached, f"pages the page crawl reaches but not this one: {sorted(unreached)}"
    assert files >= 3, (pages, files)  # the exports were read too
    assert not leftovers, f"{len(leftovers)} words of the 2026 glossary:\n" + "\n".join(leftovers[:40])
