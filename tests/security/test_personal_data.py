"""身份证号 masked by default; revealing it is for roles that need it and is written to the access log."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from fanpin.core.models import AccessLog, AppendOnlyError
from tests.conftest import World
from tests.monitoring.test_export_safety import download

pytestmark = pytest.mark.django_db


def test_county_reveals_an_id_and_it_is_logged(client: Client, world: World) -> None:
    household = world.households["520101001001"]
    member = household.members.get()
    client.force_login(world.users["county"])
    page = client.get(reverse("monitoring:household_detail", args=[household.pk])).content.decode()
    assert member.id_number not in page
    assert "显示" in page
    response = client.post(reverse("monitoring:member_id_number", args=[member.pk]), REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    assert member.id_number in response.content.decode()
    log = AccessLog.objects.get()
    assert (log.actor, log.action, log.object_id, log.row_count, log.region_code, log.ip_address) == (
        world.users["county"],
        AccessLog.Action.VIEW_ID,
        str(member.pk),
        1,
        "520101001001",
        "10.1.2.3",
    )
    assert household.household_no in log.what
    with pytest.raises(AppendOnlyError):
        log.delete()


@pytest.mark.parametrize("role", ["province", "city", "township", "village", "dept"])
def test_roles_without_need_cannot_reveal(client: Client, world: World, role: str) -> None:
    household = world.households["520101001001"]
    member = household.members.get()
    client.force_login(world.users[role])
    assert client.post(reverse("monitoring:member_id_number", args=[member.pk])).status_code == 403
    if role != "dept":
        page = client.get(reverse("monitoring:household_detail", args=[household.pk])).content.decode()
        assert reverse("monitoring:member_id_number", args=[member.pk]) not in page
    assert not AccessLog.objects.exists()


def test_reveal_outside_region_is_404_and_not_logged(client: Client, world: World) -> None:
    member = world.households["520102001001"].members.get()
    client.force_login(world.users["county"])
    assert client.post(reverse("monitoring:member_id_number", args=[member.pk])).status_code == 404
    assert client.get(reverse("monitoring:member_id_number", args=[member.pk])).status_code == 405
    assert not AccessLog.objects.exists()


def test_admin_can_search_the_access_log(client: Client, world: World) -> None:
    member = world.households["520101001001"].members.get()
    county = Client()
    county.force_login(world.users["county"])
    county.post(reverse("monitoring:member_id_number", args=[member.pk]))
    client.force_login(world.users["admin"])
    response = client.get(reverse("admin:fanpin_accesslog_changelist"), {"q": "county"})
    assert response.status_code == 200
    assert "查看完整身份证号" in response.content.decode()
    client.force_login(world.users["county"])
    assert client.get(reverse("admin:fanpin_accesslog_changelist")).status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        reverse("monitoring:leads_export"),
        reverse("monitoring:targets_export"),
        reverse("monitoring:household_export"),
    ],
)
def test_a_list_export_is_logged_with_the_clients_address(world: World, url: str) -> None:
    """Every access-log row written while a request is answered records its client's address, a
    direct export's too (it was left empty: only the unmasked view passed the address on)."""
    client = world.client_for("county")
    response = client.get(url, REMOTE_ADDR="10.4.5.6")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    if response.streaming:  # the household sheet: a FileResponse of a temporary file, closed here
        download(response)
    log = AccessLog.objects.get()
    assert (log.actor, log.action, log.ip_address) == (world.users["county"], AccessLog.Action.EXPORT, "10.4.5.6")


def test_outside_a_request_an_export_records_no_address(world: World) -> None:
    import io

    from monitoring.services.exports_leads import leads_export

    leads_export(user=world.users["county"], output=io.BytesIO())
    assert AccessLog.objects.get().ip_address is None
