"""Every demo role signs in on the demo data and lands on its own page with its 待办 (issue 15); the
screenshots illustrate the user guide (docs/用户手册.md)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LANDING = {
    "admin": "/",
    "province": "/",
    "city": "/",
    "county": "/",
    "township": "/",
    "village": "/monitoring/cadre/",
    "dept": "/",
}


def test_each_role_lands_on_its_page_with_its_work(page, browser, live_server) -> None:  # type: ignore[no-untyped-def]
    call_command("generate_demo", households=2000, verbosity=0)
    call_command("screen", year=2025, verbosity=0)
    call_command("demo_workflow", verbosity=0)
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.get_by_role("link", name="农户自主申报").is_visible()
    screenshot(page, "login.png")
    for username, landing in LANDING.items():
        # each role on a device of its own: clearing one context's cookies left the village cadre's
        # service worker fetching its pages for offline use, and a response to one of those could
        # set a new CSRF cookie between the next login page and its POST (403 under load)
        page.context.close()
        page = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768}).new_page()
        page.set_default_timeout(15000)
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill("demo-2020")
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(f"{live_server.url}{landing}")
        todo = page.get_by_test_id("todo")
        assert todo.is_visible(), username
        assert todo.get_by_role("link").count() >= 1, username
        screenshot(page, f"home-{username}.png")
    page.context.close()
