"""Uploaded sheets (personal data) are deleted after the retention period; the job record stays."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from monitoring.models import ImportJob, ImportStatus
from monitoring.services.imports.jobs import import_files_purge
from tests.conftest import World

pytestmark = pytest.mark.django_db


def job(world: World, *, status: str, age_days: int, finished: bool) -> ImportJob:
    created = timezone.now() - dt.timedelta(days=age_days)
    item = ImportJob.objects.create(
        kind="members",
        file_name="成员.xlsx",
        created_by=world.users["county"],
        region_code="520101000000",
        status=status,
        error_count=1 if status == ImportStatus.INVALID else 0,
        errors=[{"row": 2, "column": "身份证号", "value": "520101********1234", "message": "校验位错误"}],
    )
    item.file.save("成员.xlsx", ContentFile(b"PK\x03\x04 sheet"), save=False)
    ImportJob.objects.filter(pk=item.pk).update(
        file=item.file.name, created_at=created, finished_at=created if finished else None
    )
    item.refresh_from_db()
    return item


def test_old_files_go_recent_and_running_ones_stay(world: World) -> None:
    """Old: ended 30+ days ago, or never ended (unconfirmed, or its worker died) and uploaded 30+
    days ago.  A recent job and one running now keep their files."""
    old_done = job(world, status=ImportStatus.SUCCEEDED, age_days=31, finished=True)
    old_invalid = job(world, status=ImportStatus.INVALID, age_days=40, finished=True)
    abandoned = job(world, status=ImportStatus.VALIDATED, age_days=31, finished=False)  # never confirmed
    recent = job(world, status=ImportStatus.SUCCEEDED, age_days=3, finished=True)
    running = job(world, status=ImportStatus.RUNNING, age_days=0, finished=False)
    stuck = job(world, status=ImportStatus.RUNNING, age_days=31, finished=False)  # its worker died
    paths = {j.pk: Path(j.file.path) for j in (old_done, old_invalid, abandoned, recent, running, stuck)}
    assert all(p.exists() for p in paths.values())

    assert import_files_purge() == 4
    for gone in (old_done, old_invalid, abandoned, stuck):
        gone.refresh_from_db()
        assert gone.file == "" and not paths[gone.pk].exists()
        assert gone.errors and gone.file_name == "成员.xlsx"  # the record and masked errors stay
    assert paths[recent.pk].exists() and paths[running.pk].exists()
    assert import_files_purge() == 0  # idempotent

    # the job page still opens; the annotated copy is no longer offered
    client = Client()
    client.force_login(world.users["county"])
    page = client.get(reverse("monitoring:import_detail", args=[old_invalid.pk]))
    assert page.status_code == 200 and 'data-testid="annotated-download"' not in page.content.decode()
    assert client.get(reverse("monitoring:import_annotated", args=[old_invalid.pk])).status_code == 404


def test_retention_period_comes_from_settings(world: World, settings: Any) -> None:
    item = job(world, status=ImportStatus.SUCCEEDED, age_days=8, finished=True)
    assert import_files_purge() == 0
    settings.IMPORT_FILE_RETENTION_DAYS = 7
    assert import_files_purge() == 1
    item.refresh_from_db()
    assert item.file == ""


def test_an_unconfirmed_upload_whose_file_is_gone_cannot_be_confirmed(world: World) -> None:
    from django.core.exceptions import ValidationError

    from monitoring.services.imports.jobs import import_job_confirm

    abandoned = job(world, status=ImportStatus.VALIDATED, age_days=31, finished=False)
    import_files_purge()
    with pytest.raises(ValidationError, match="已过保存期限"):
        import_job_confirm(job_id=abandoned.pk, user=world.users["county"])
    abandoned.refresh_from_db()
    assert abandoned.status == ImportStatus.VALIDATED
