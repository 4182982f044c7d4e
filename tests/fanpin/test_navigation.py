"""The navigation bar fits one line at 1 366 px: county staff and administrators get two menus."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.conftest import World

pytestmark = pytest.mark.django_db


def top_level(world: World, username: str) -> tuple[int, list[str]]:
    client = Client()
    client.force_login(world.users[username])
    html = client.get("/").content.decode()
    return html.count('<li class="nav-item'), re.findall(r'data-testid="nav-group-(\w+)"', html)


@pytest.mark.parametrize("username", ["county", "admin"])
def test_busy_roles_get_two_menus_instead_of_sixteen_entries(world: World, username: str) -> None:
    entries, groups = top_level(world, username)
    assert entries <= 11
    assert groups == ["data", "system"]
    client = Client()
    client.force_login(world.users[username])
    html = client.get("/monitoring/screening/").content.decode()
    menu = html[html.index('data-testid="nav-group-data"') :]
    menu = menu[: menu.index("</ul>")]
    assert "数据导入" in menu and "筛查" in menu and "部门预警" in menu
    assert 'nav-link dropdown-toggle active"' in html  # the open page's menu is marked


@pytest.mark.parametrize("username", ["village", "dept", "province"])
def test_short_bars_stay_flat(world: World, username: str) -> None:
    entries, groups = top_level(world, username)
    assert groups == [] and entries <= 9


ROLES = ["admin", "province", "city", "county", "township", "village", "dept"]


@pytest.mark.parametrize("username", ROLES)
def test_api_docs_and_admin_are_linked_only_for_admin_and_county(world: World, username: str) -> None:
    client = Client()
    client.force_login(world.users[username])
    html = client.get("/", follow=True).content.decode()
    linked = {label for label in ("API 文档", "后台管理") if label in html}
    assert linked == ({"API 文档", "后台管理"} if username in ("admin", "county") else set())


def test_village_cadre_lands_on_the_cadre_home(world: World) -> None:
    client = Client()
    response = client.post("/accounts/login/", {"username": "village", "password": "pw-test-2020"}, follow=True)
    assert response.redirect_chain[-1][0] == "/monitoring/cadre/"
    assert "村级工作台" in response.content.decode()
    assert client.get("/").url == "/monitoring/cadre/"


@pytest.mark.parametrize("username", ["township", "county", "province"])
def test_other_roles_land_on_the_home_page(world: World, username: str) -> None:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": "pw-test-2020"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert response.status_code == 200


def test_favicon_is_served(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    icon = client.get(response["Location"])
    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(icon.streaming_content)  # type: ignore[attr-defined]


def test_pages_name_their_icon(world: World) -> None:
    client = Client()
    client.force_login(world.users["county"])
    assert '<link rel="icon" href="/static/img/favicon.svg"' in client.get("/").content.decode()
    assert '<link rel="icon"' in Client().get("/accounts/login/").content.decode()
