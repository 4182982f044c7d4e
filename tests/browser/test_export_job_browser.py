"""A large export in the browser: the click lands on the job's page, which updates itself when the
worker is done and then offers the file (the worker is played here by calling the task's service)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from monitoring.models import ExportJob
from monitoring.services.export_jobs import export_job_run
from tests.browser.conftest import login
from tests.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_large_export_waits_on_its_page_then_downloads(
    page, live_server, world: World, settings: Any, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from monitoring import tasks

    settings.EXPORT_DIRECT_MAX_ROWS = 0
    # a busy queue: nothing runs the job until the test plays the worker (a broker may be configured)
    monkeypatch.setattr(tasks.export_job_task, "delay_on_commit", lambda *args, **kwargs: None)
    login(page, live_server, "county")
    page.get_by_role("link", name="农户信息").first.click()
    page.get_by_test_id("household-export").click()
    status = page.get_by_test_id("export-status")
    expect(status).to_contain_text("排队中")
    expect(status).to_contain_text("可以离开本页")

    export_job_run(job_id=ExportJob.objects.get().pk)  # what the Celery worker does

    expect(page.get_by_test_id("export-download")).to_be_visible(timeout=10000)  # the page polled
    with page.expect_download() as info:
        page.get_by_test_id("export-download").click()
    assert info.value.suggested_filename.startswith("农户信息") and info.value.suggested_filename.endswith(".xlsx")
    page.get_by_test_id("nav-group-data").click()
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的导出").click()
    expect(page.get_by_test_id("export-table")).to_contain_text("农户信息")
