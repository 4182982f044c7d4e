"""Playwright fixtures driving Debian's chromium against Django's live server.

Skipped when /usr/bin/chromium is missing (a fresh machine with only Python); ``.ci/run`` installs it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not os.path.exists(CHROMIUM):
        skip = pytest.mark.skip(reason="chromium 未安装（apt-get install -y chromium fonts-noto-cjk）")
        for item in items:
            if "tests/browser" in str(item.fspath):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-quic",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        _watch_every_context(browser)
        yield browser
        browser.close()


# What Chromium logs when the Content-Security-Policy (fanpin/settings.py) blocks something: an inline
# style attribute or script, a script or style from elsewhere.  Every browser test fails on it.
CSP_REFUSED = "Content Security Policy"


def _watch_every_context(browser: Any) -> None:
    """Every context the tests open (fixtures and tests alike) keeps what the CSP refused."""
    original = browser.new_context
    browser.csp_refused = []

    def new_context(**kwargs: Any) -> Any:
        context = original(**kwargs)
        context.on(
            "console",
            lambda message: (
                browser.csp_refused.append(f"{message.location.get('url', '')}: {message.text}"[:400])
                if message.type == "error" and CSP_REFUSED in message.text
                else None
            ),
        )
        return context

    browser.new_context = new_context


@pytest.fixture(autouse=True)
def _nothing_refused_by_the_csp(request: pytest.FixtureRequest) -> Iterator[None]:
    """A browser test fails when a page it opened had something blocked by the CSP (the import's
    progress bar once stayed empty that way: an inline ``style`` width)."""
    if "browser" not in request.fixturenames:
        yield
        return
    browser = request.getfixturevalue("browser")
    browser.csp_refused.clear()
    yield
    assert not browser.csp_refused, "the CSP blocked:\n" + "\n".join(browser.csp_refused[:20])


def _desk_page(browser: object) -> object:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(15000)
    return page


@pytest.fixture
def page(browser: object, live_server: object) -> Iterator[object]:
    first = _desk_page(browser)
    yield first
    switched = [c for c in browser.contexts if getattr(c, "switched_user", False)]  # type: ignore[attr-defined]
    for context in [first.context, *switched]:  # type: ignore[attr-defined]  # closing twice is harmless
        context.close()


def switch_user(page: object, live_server: object, username: str, password: str = "pw-test-2020") -> object:
    """Sign in as ``username`` (whatever page the role lands on) on a browser context of its own,
    the previous user's closed; returns the new page (the ``page`` fixture closes it).  Clearing one
    context's cookies instead raced the village cadre's service worker, whose responses could set a
    new CSRF cookie between the login page and its POST (CI, session 12)."""
    browser = page.context.browser  # type: ignore[attr-defined]
    page.context.close()  # type: ignore[attr-defined]
    page = _desk_page(browser)
    page.context.switched_user = True  # type: ignore[attr-defined]  # closed by the ``page`` fixture
    page.goto(f"{live_server.url}/accounts/login/")  # type: ignore[attr-defined]
    page.get_by_label("用户名").fill(username)  # type: ignore[attr-defined]
    page.get_by_label("密码").fill(password)  # type: ignore[attr-defined]
    page.get_by_role("button", name="登录").click()  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    assert "/accounts/login/" not in page.url  # type: ignore[attr-defined]
    return page


@pytest.fixture
def phone(browser: object, live_server: object) -> Iterator[object]:
    """A page on a phone (375 × 812, touch), as village and township cadres use the cadre pages;
    ``phone.context`` goes offline and back (``set_offline``)."""
    context = browser.new_context(  # type: ignore[attr-defined]
        locale="zh-CN", viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def login(page: object, live_server: object, username: str, password: str = "pw-test-2020") -> None:
    page.goto(f"{live_server.url}/accounts/login/")  # type: ignore[attr-defined]
    page.get_by_label("用户名").fill(username)  # type: ignore[attr-defined]
    page.get_by_label("密码").fill(password)  # type: ignore[attr-defined]
    page.get_by_role("button", name="登录").click()  # type: ignore[attr-defined]
    # a village cadre lands on 村级工作台, everybody else on the home page
    landing = "/monitoring/cadre/" if username.startswith("village") else "/"
    page.wait_for_url(f"{live_server.url}{landing}")  # type: ignore[attr-defined]


def screenshot(page: object, name: str) -> None:
    """Save a screenshot; into docs/screenshots/ only with FANPIN_SCREENSHOTS=1 (keeps the tree clean)."""
    import tempfile

    folder = (
        SCREENSHOTS if os.environ.get("FANPIN_SCREENSHOTS") == "1" else Path(tempfile.gettempdir()) / "fanpin-screens"
    )
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)  # type: ignore[attr-defined]


@pytest.fixture
def eager_celery(settings: Any, tmp_path: Path) -> Iterator[None]:
    """Celery runs tasks in-process for one test, as in the demo without a broker."""
    from fanpin.celery import app as celery_app

    # read before the setting changes: the app's configuration is loaded from the settings lazily,
    # and reading it afterwards would "restore" eager mode for every later test
    previous = celery_app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.MEDIA_ROOT = tmp_path / "media"
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous
