"""Uploads: only real .xlsx workbooks, size-limited, zip bombs refused before decompression; CSRF."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from monitoring.models import ImportJob
from monitoring.services.imports.reader import SheetError, archive_check
from tests.conftest import World

pytestmark = pytest.mark.django_db


def bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/sharedStrings.xml", b"\0" * (10 * 1024 * 1024))  # 10 MB of zeros, ~10 KB zipped
    return buffer.getvalue()


def test_zip_bomb_is_refused_from_the_directory_alone() -> None:
    data = bomb()
    assert len(data) < 1024 * 1024
    with pytest.raises(SheetError, match="解压后异常巨大"):
        archive_check(io.BytesIO(data))


@pytest.mark.parametrize("content", [b"not a zip at all", b"PK\\x03\\x04broken"])
def test_non_workbooks_are_refused(content: bytes) -> None:
    with pytest.raises(SheetError, match="不是有效的 Excel 工作簿"):
        archive_check(io.BytesIO(content))


def test_a_zip_that_is_not_a_workbook_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(SheetError, match="不是有效的 Excel 工作簿"):
        archive_check(buffer)


def test_bomb_upload_through_the_page_is_refused_with_a_message(client: Client, world: World) -> None:
    client.force_login(world.users["county"])
    upload = SimpleUploadedFile("收入.xlsx", bomb())
    response = client.post(reverse("monitoring:import_list"), {"kind": "incomes", "file": upload}, follow=True)
    assert "解压后异常巨大" in response.content.decode()
    assert not ImportJob.objects.exclude(status=ImportJob.Status.INVALID).exists()


def test_forms_need_a_csrf_token(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["county"])
    lead_page = client.post(reverse("monitoring:import_list"), {"kind": "incomes"})
    assert lead_page.status_code == 403
    logout = client.post(reverse("logout"))
    assert logout.status_code == 403
