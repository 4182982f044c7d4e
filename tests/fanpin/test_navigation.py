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
