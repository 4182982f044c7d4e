"""The API documentation (Swagger UI, served from static files) works under the site's CSP: the
operations are listed and their page styles apply (the package's inline <style> is blocked, so the
project serves them from a file; tests/browser/conftest.py fails any test on a CSP refusal)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_county_reads_the_api_documentation(page, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    login(page, live_server, "county")
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    assert page.locator(".swagger-ui .opblock").count() > 10
    # the page styles from static/css/swagger-page.css
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(250, 250, 250)"
    assert page.evaluate("getComputedStyle(document.documentElement).boxSizing") == "border-box"
