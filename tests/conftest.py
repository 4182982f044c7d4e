from __future__ import annotations

import copy
import itertools
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.test import Client

from fanpin.core.models import User
from fanpin.core.regions import region_level_of, region_parent_code
from fanpin.core.roles import Department, Role
from monitoring.models import Household, Member, Region, Relation
from tests.factories import HouseholdFactory, MemberFactory, user

# A small world: two provinces; in province 52 two cities, three counties, townships and villages.
VILLAGES = [
    "520101001001",  # county 520101, township 001
    "520101001002",
    "520101002001",  # county 520101, township 002
    "520102001001",  # county 520102 (same city 5201)
    "520201001001",  # city 5202
    "530101001001",  # another province
]


@dataclass
class World:
    households: dict[str, Household] = field(default_factory=dict)  # village code → household
    users: dict[str, User] = field(default_factory=dict)  # role name → user
    sessions: dict[str, str] = field(default_factory=dict)  # role name → session key (shared worlds)

    def visible(self, prefix: str) -> set[str]:
        return {h.household_no for code, h in self.households.items() if code.startswith(prefix)}

    def client_for(self, role: str) -> Client:
        """A test client logged in as the role's user.  A shared world logged each user in once
        (``force_login``, in the module's transaction); its clients carry that session's cookie."""
        client = Client()
        if role in self.sessions:
            client.cookies[django_settings.SESSION_COOKIE_NAME] = self.sessions[role]
        else:
            client.force_login(self.users[role])
        return client


# role → (region code, the prefix of what it must see)
ROLE_REGIONS = {
    "province": (Role.PROVINCE, "520000000000", "52"),
    "city": (Role.CITY, "520100000000", "5201"),
    "county": (Role.COUNTY, "520101000000", "520101"),
    "township": (Role.TOWNSHIP, "520101001000", "520101001"),
    "village": (Role.VILLAGE, "520101001001", "520101001001"),
}


def _build_world() -> World:
    """The world in a few inserts: the rows ``tests.factories.region`` and the factories would write
    one query at a time (villages named 村…, their ancestors 区划…, one household with its head per
    village), then the users through ``tests.factories.user``."""
    w = World()
    regions: dict[str, Region] = {}
    for code in VILLAGES:
        chain = [code]
        while (parent := region_parent_code(chain[-1])) and parent not in regions:
            chain.append(parent)
        for c in reversed(chain):  # from the top down, so every parent is written before its child
            name = f"村{c[-6:]}" if c == code else f"区划{c}"
            regions[c] = Region(code=c, name=name, level=region_level_of(c), parent_id=region_parent_code(c))
    existing = Region.objects.in_bulk(list(regions))  # a region already there is kept, as region() keeps it
    Region.objects.bulk_create([r for c, r in regions.items() if c not in existing])
    regions.update(existing)
    for code in VILLAGES:
        w.households[code] = HouseholdFactory.build(household_no=f"H{code}", village=regions[code])
    Household.objects.bulk_create(w.households.values())
    heads = [
        MemberFactory.build(household=hh, relation=Relation.HEAD, name=f"户主{code[-6:]}")
        for code, hh in w.households.items()
    ]
    Member.objects.bulk_create(heads)
    for name, (role, code, _prefix) in ROLE_REGIONS.items():
        w.users[name] = user(name, role, code)
    w.users["admin"] = user("admin", Role.ADMIN, None)
    w.users["dept"] = user("dept", Role.DEPT, "520101000000", department=Department.MEDICAL_INSURANCE)
    return w


# Modules marked ``shared_world`` (the big permission matrices) build the world once, as Django's
# ``TestCase.setUpTestData`` does for a class: the module opens a transaction and writes the world;
# each test runs in its own savepoint inside it (the ``db`` fixture's transaction becomes a
# savepoint) and is rolled back after the test as always; the module's transaction is rolled back
# after its last test.  Every test of such a module sees the world in the database (whether it asks
# for ``world`` or not), none may be transactional.  ``world`` hands each test a deep copy of the
# objects, so one test's in-memory changes (``last_login`` set by a login) never reach the next.
@pytest.fixture(scope="module", autouse=True)
def _module_world(request: pytest.FixtureRequest) -> Iterator[World | None]:
    if request.node.get_closest_marker("shared_world") is None:
        yield None
        return
    request.getfixturevalue("django_db_setup")
    blocker = request.getfixturevalue("django_db_blocker")
    outer = transaction.atomic()
    outer._from_testcase = True  # type: ignore[attr-defined]  # as Django's TestCase marks its own
    with blocker.unblock():
        outer.__enter__()
        try:
            shared = _build_world()
            for role, account in shared.users.items():
                client = Client()
                client.force_login(account)
                shared.sessions[role] = client.cookies[django_settings.SESSION_COOKIE_NAME].value
        except BaseException:
            outer.__exit__(*sys.exc_info())
            raise
    try:
        yield shared
    finally:
        with blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(_module_world: World | None, db: None) -> World:
    if _module_world is not None:
        return copy.deepcopy(_module_world)
    return _build_world()


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture(scope="session")
def _media_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


_media_numbers = itertools.count()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, _media_base: Path) -> None:
    """Uploaded files (imports, scans, photos) go to a temporary MEDIA_ROOT, never into the project:
    a directory of its own for each test (not yet created, as ``tmp_path / "media"`` was; a
    ``tmp_path`` for every test cost more than most tests)."""
    settings.MEDIA_ROOT = _media_base / f"test{next(_media_numbers)}"


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Every test starts with an empty cache (dashboard snapshots, rate limits)."""
    from django.core.cache import cache

    cache.clear()


# -- running the suite -------------------------------------------------------------------------
# pyproject runs the suite on every core: ``-n auto --dist loadgroup --no-loadscope-reorder``
# (pytest-xdist).  Each worker takes the tests one by one in the collection order, so Django's order
# holds in every worker (pytest-django puts transactional tests, which empty the tables, after the
# others); the browser tests form one group, run one after the other by one worker (two Chromiums
# and two live servers at once on a small machine made a page miss its 15 s wait).  Each worker has
# its own test database (``…_gw0``), Celery queue (settings_test) and temporary directories.
# Naming test files, test ids or ``-k``/``--pdb`` is a focused run: one process (no worker
# start-up; prints and the debugger work).  ``-n 2`` / ``-n 0`` on the command line always win.
LONGEST_FIRST = ("tests/test_page_crawl.py", "tests/security/test_id_search_probe.py")


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    focused = any(not Path(arg.split("::")[0]).is_dir() for arg in config.args)
    if focused or config.option.keyword or config.option.usepdb:
        return 0
    return None  # xdist's own count of the cores


@pytest.hookimpl(tryfirst=True)  # before pytest-django's stable sort and xdist's group names
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("shared_world") and _is_transactional(item):
            raise pytest.UsageError(f"{item.nodeid}: a shared_world module's tests may not be transactional")
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # Every worker collects the same list.  The longest tests and the browser group first, so
        # that the run does not end with one worker alone on the page crawl while the other waits;
        # pytest-django then sorts by kind (database, transactional, none), keeping this order.
        def rank(item: pytest.Item) -> int:
            path = item.nodeid.split("::")[0]
            if path in LONGEST_FIRST:
                return LONGEST_FIRST.index(path)
            if item.get_closest_marker("browser"):
                return len(LONGEST_FIRST)
            return len(LONGEST_FIRST) + (1 if item.get_closest_marker("slow") else 2)

        items.sort(key=rank)


def _is_transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


@pytest.fixture
def pdf_rendered_not_printed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The crawls render every PDF page's HTML (its template, its data) but do not print it with
    Chromium: a printed card or village batch costs 1–4 s, ~100 s of a crawl that reaches 34 of them.
    The printing itself is tested in tests/assistance/test_cards.py and the cards browser test."""
    printed: list[str] = []

    def fake(html: str, *, stylesheets: list[str]) -> bytes:
        assert "<html" in html.lower(), html[:80]
        printed.append(html)
        return b"%PDF-1.4\n%%EOF\n"

    monkeypatch.setattr("assistance.views.cards.pdf_from_html", fake)
    return printed
