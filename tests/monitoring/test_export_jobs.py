"""Large browser exports run as jobs (SPEC §7): the page follows the job, the file waits for its owner."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from fanpin.core.models import AccessLog, AuditEntry
from fanpin.core.roles import Role
from monitoring.models import ExportJob, ExportStatus, Household
from monitoring.services.export_jobs import export_files_purge, export_job_run
from tests.conftest import World
from tests.factories import LeadFactory, TargetFactory, user

pytestmark = pytest.mark.django_db


def client_for(u: Any) -> Client:
    client = Client()
    client.force_login(u)
    return client


@pytest.fixture
def large(settings: Any) -> None:
    settings.EXPORT_DIRECT_MAX_ROWS = 0  # every export with a row counts as large


def read(response: Any) -> bytes:
    from django.core.signals import request_finished
    from django.db import close_old_connections

    data = b"".join(response.streaming_content)
    # close the file without ending the test's database connection (close() fires request_finished)
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    return data


def download_rows(response: Any) -> list[tuple[Any, ...]]:
    data = read(response)
    return list(load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True))


def test_large_household_export_becomes_a_job_the_owner_downloads(
    world: World, large: None, django_capture_on_commit_callbacks: Any
) -> None:
    county = world.users["county"]
    client = client_for(county)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.get(reverse("monitoring:household_export"), {"village": "520101001001"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("monitoring:export_detail", args=[job.pk])
    assert len(callbacks) == 1  # the task is enqueued once the job row is committed
    assert (job.kind, job.status, job.filters, job.created_by) == (
        "households",
        ExportStatus.QUEUED,
        {"region_code": "520101001001"},  # the 村 field narrows by code prefix (a township too)
        county,
    )
    waiting = client.get(response["Location"], headers={"HX-Request": "true"}).content.decode()
    assert "排队中" in waiting and 'hx-trigger="every 2s"' in waiting and "export-download" not in waiting

    export_job_run(job_id=job.pk)
    export_job_run(job_id=job.pk)  # a second delivery does nothing
    job.refresh_from_db()
    expected = Household.objects.filter(village_id="520101001001").count()
    assert (job.status, job.row_count) == (ExportStatus.SUCCEEDED, expected)
    done = client.get(response["Location"]).content.decode()
    assert "已导出" in done and 'data-testid="export-download"' in done and "every 2s" not in done
    rows = download_rows(client.get(reverse("monitoring:export_download", args=[job.pk])))
    assert len(rows) == 1 + expected  # header + the filtered households
    # the export is audited as any export of personal data, in the owner's name
    assert AuditEntry.objects.filter(object_type="export", actor=county).count() == 1
    # one access-log row for writing the export, one for the download
    assert AccessLog.objects.filter(actor=county, action=AccessLog.Action.EXPORT, row_count=expected).count() == 2
    assert AccessLog.objects.filter(what__startswith="下载导出文件", object_id=str(job.pk)).exists()
    assert "农户信息" in client.get(reverse("monitoring:export_list")).content.decode()


def test_only_the_owner_sees_an_export(world: World, large: None) -> None:
    LeadFactory(household=world.households["520101001001"])
    client_for(world.users["county"]).get(reverse("monitoring:leads_export"), {"state": "ALL"})
    job = ExportJob.objects.get()
    export_job_run(job_id=job.pk)
    colleague = user("county2", Role.COUNTY, "520101000000")
    other = client_for(colleague)
    assert other.get(reverse("monitoring:export_detail", args=[job.pk])).status_code == 404
    assert other.get(reverse("monitoring:export_download", args=[job.pk])).status_code == 404
    assert "预警线索" not in other.get(reverse("monitoring:export_list")).content.decode()
    admin = client_for(world.users["admin"])
    assert admin.get(reverse("monitoring:export_download", args=[job.pk])).status_code == 404


def test_lead_and_target_exports_keep_the_page_filters(world: World, large: None) -> None:
    hh = world.households["520101001001"]
    LeadFactory(household=hh)
    LeadFactory(household=world.households["520101001002"], state="VERIFIED", verified_at=timezone.now())
    client = client_for(world.users["county"])
    client.get(reverse("monitoring:leads_export"), {"state": "NEW"})
    job = ExportJob.objects.get(kind="leads")
    assert job.filters["state"] == "NEW"
    export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.row_count == 1
    TargetFactory(household=hh)
    client.get(reverse("monitoring:targets_export"))
    target_job = ExportJob.objects.get(kind="targets")
    assert export_job_run(job_id=target_job.pk).status == ExportStatus.SUCCEEDED


def test_small_exports_still_download_at_once(world: World) -> None:
    response = client_for(world.users["county"]).get(reverse("monitoring:household_export"))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    read(response)
    assert not ExportJob.objects.exists()


def test_old_export_files_are_deleted_and_the_page_says_so(world: World, large: None) -> None:
    client = client_for(world.users["county"])
    client.get(reverse("monitoring:household_export"))
    job = export_job_run(job_id=ExportJob.objects.get().pk)
    path = job.file.path
    assert export_files_purge() == 0
    ExportJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - dt.timedelta(days=8))
    assert export_files_purge() == 1
    job.refresh_from_db()
    assert job.file == ""
    import os

    assert not os.path.exists(path)
    page = client.get(reverse("monitoring:export_detail", args=[job.pk])).content.decode()
    assert "文件已过保存期限" in page
    assert client.get(reverse("monitoring:export_download", args=[job.pk])).status_code == 404


def test_a_second_delivery_while_running_does_nothing_and_a_searched_id_is_masked_afterwards(
    world: World, large: None
) -> None:
    id_number = world.households["520101001001"].members.get().id_number
    client = client_for(world.users["county"])
    client.get(reverse("monitoring:household_export"), {"q": id_number})
    job = ExportJob.objects.get()
    assert job.filters["search"] == id_number  # needed to run it
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, started_at=timezone.now())
    assert export_job_run(job_id=job.pk).status == ExportStatus.RUNNING  # another worker has it
    ExportJob.objects.filter(pk=job.pk).update(started_at=timezone.now() - dt.timedelta(hours=3))
    done = export_job_run(job_id=job.pk)  # that worker died long ago: run again
    assert (done.status, done.row_count) == (ExportStatus.SUCCEEDED, 1)
    assert done.filters["search"] == f"{id_number[:6]}********{id_number[-4:]}"
