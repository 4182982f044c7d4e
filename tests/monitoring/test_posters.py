"""Village QR posters: the poster's QR code opens the self-report page with the village chosen and
``source=poster``; applications sent from it are counted as 村级二维码海报 on the county's list,
apart from those sent from the page opened directly and those a cadre entered."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from monitoring.models import Application, ApplicationSource
from monitoring.services.applications import application_record
from tests.conftest import World
from tests.factories import make_id_number

pytestmark = pytest.mark.django_db
VILLAGE = "520101001001"


def client_for(u: object) -> Client:
    client = Client()
    client.force_login(u)  # type: ignore[arg-type]
    return client


def _report(client: Client, query: str = "", **fields: Any) -> Any:
    """The self-report form as a person fills it: the page (with the poster's query), then submit."""
    page = client.get(reverse("self_report") + query).content.decode()
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    data = {
        "name": "赵申报",
        "id_number": make_id_number(),
        "village": VILLAGE,
        "phone": "13812345678",
        "reason": "ILLNESS",
        "description": "住院花了很多钱",
        **{k: v for k, v in hidden.items() if k != "csrfmiddlewaretoken"},
        **fields,
    }
    return client.post(reverse("self_report") + query, data)


def test_poster_shows_a_qr_code_to_the_self_report_page_of_the_village(world: World) -> None:
    html = client_for(world.users["village"]).get(reverse("monitoring:village_poster", args=[VILLAGE])).content
    text = html.decode()
    url = f"http://testserver/report/?village={VILLAGE}&amp;source=poster"
    assert f'data-url="{url}"' in text and "<svg" in text
    assert "村001001" in text and "群众自主申报" in text and "12317" in text
    assert "css/page-a4.css" in text
    a3 = client_for(world.users["village"]).get(reverse("monitoring:village_poster", args=[VILLAGE]), {"size": "A3"})
    assert "css/page-a3.css" in a3.content.decode()


def test_poster_qr_code_encodes_that_address() -> None:
    import segno  # noqa: F401  # the poster's codes are made by segno

    from fanpin.web.templatetags.print_tags import qr_svg

    svg = qr_svg(f"http://testserver/report/?village={VILLAGE}&source=poster", "海报")
    assert svg.startswith('<span class="qr-box" role="img" aria-label="海报"><svg') and "<path" in svg


@pytest.mark.parametrize(("role", "status"), [("village", 200), ("township", 200), ("county", 200), ("city", 403)])
def test_who_may_print_a_poster(world: World, role: str, status: int) -> None:
    url = reverse("monitoring:village_poster", args=[VILLAGE])
    assert client_for(world.users[role]).get(url).status_code == status


def test_poster_of_another_region_is_not_found(world: World) -> None:
    client = client_for(world.users["village"])
    for code in ["520101001002", "530101001001", "520101001000", "999999999999"]:
        assert client.get(reverse("monitoring:village_poster", args=[code])).status_code == 404, code


def test_the_posters_link_fills_in_the_village_and_keeps_the_source(world: World) -> None:
    page = Client().get(reverse("self_report"), {"village": VILLAGE, "source": "poster"}).content.decode()
    assert f'<option value="{VILLAGE}" selected>' in page
    assert '<input type="hidden" name="source" value="poster"' in page
    plain = Client().get(reverse("self_report")).content.decode()
    assert f'<option value="{VILLAGE}" selected>' not in plain
    assert 'name="source" value="poster"' not in plain


def test_applications_are_counted_per_source(world: World, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        for _ in range(2):
            assert _report(Client(), f"?village={VILLAGE}&source=poster").status_code == 200
        assert _report(Client()).status_code == 200
        assert _report(Client(), "?source=somewhere-else").status_code == 200  # anything else: direct
    application_record(
        actor=world.users["village"],
        household_id=world.households[VILLAGE].pk,
        reason="ILLNESS",
        description="看病花钱多",
    )
    sources = list(Application.objects.order_by("id").values_list("channel", "source"))
    assert sources == [
        ("PUBLIC", ApplicationSource.POSTER),
        ("PUBLIC", ApplicationSource.POSTER),
        ("PUBLIC", ApplicationSource.DIRECT),
        ("PUBLIC", ApplicationSource.DIRECT),
        ("CADRE", ApplicationSource.CADRE),
    ]
    html = client_for(world.users["county"]).get(reverse("monitoring:application_list")).content.decode()
    counts = dict(re.findall(r'data-testid="source-(\w+)">(\d+)<', html))
    assert counts == {"poster": "2", "direct": "2", "cadre": "1"}
    assert "村级二维码海报" in unescape(html) and "扫村级海报" in html
    # the API names the source by its code
    api = client_for(world.users["county"]).get("/api/v1/applications/").json()
    assert sorted(row["source"] for row in api["results"]) == ["CADRE", "DIRECT", "DIRECT", "POSTER", "POSTER"]


def test_source_counts_follow_the_region(world: World, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        _report(Client(), "?village=520101002001&source=poster", village="520101002001")
        _report(Client(), f"?village={VILLAGE}&source=poster")
    html = client_for(world.users["township"]).get(reverse("monitoring:application_list")).content.decode()
    assert dict(re.findall(r'data-testid="source-(\w+)">(\d+)<', html))["poster"] == "1"


def test_a_cadre_entry_cannot_claim_a_public_source(world: World) -> None:
    from django.db import IntegrityError, transaction

    row = application_record(
        actor=world.users["village"], household_id=world.households[VILLAGE].pk, reason="ILLNESS", description="x"
    ).application
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.filter(pk=row.pk).update(source=ApplicationSource.POSTER)


def test_poster_names_the_village_people_not_token_accounts_nor_disabled_ones(world: World) -> None:
    from fanpin.core.api_tokens import token_create
    from fanpin.core.roles import Role
    from tests.factories import user

    cadre = world.users["village"]
    cadre.full_name, cadre.phone = "村干部", "13700007777"
    cadre.save()
    token_create(actor=world.users["county"], name="村令牌", role=Role.VILLAGE, region_code=VILLAGE)
    gone = user("gone", Role.VILLAGE, VILLAGE)
    gone.full_name, gone.is_active = "已离任", False
    gone.save()
    html = client_for(world.users["county"]).get(reverse("monitoring:village_poster", args=[VILLAGE])).content.decode()
    assert "村干部" in html and "13700007777" in html
    assert "村令牌" not in html and "API" not in html
    assert "已离任" not in html
