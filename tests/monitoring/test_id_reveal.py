"""The 显示 button answers the full 身份证号 with a 隐藏 button that restores the masked number."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from fanpin.core.idcard import id_number_mask
from fanpin.core.models import AccessLog
from tests.conftest import World

pytestmark = pytest.mark.django_db


def test_reveal_answers_full_number_with_a_hide_button_carrying_the_masked_cell(client: Client, world: World) -> None:
    member = world.households["520101001001"].members.get()
    client.force_login(world.users["county"])
    html = client.post(reverse("monitoring:member_id_number", args=[member.pk])).content.decode()
    shown, hidden = html.split("<template data-id-masked>")
    assert member.id_number in shown and ">隐藏</button>" in shown
    assert f'hx-target="#id-{member.pk}"' in hidden and ">显示</button>" in hidden
    assert id_number_mask(member.id_number) in hidden and member.id_number not in hidden
    # the swap keeps the cell's id, so 显示 works again after 隐藏
    assert re.match(f'<span id="id-{member.pk}"', html)
    assert AccessLog.objects.filter(action=AccessLog.Action.VIEW_ID).count() == 1


def test_household_page_loads_the_toggle_script_only_for_roles_that_may_reveal(world: World) -> None:
    household = world.households["520101001001"]
    url = reverse("monitoring:household_detail", args=[household.pk])
    county, township = Client(), Client()
    county.force_login(world.users["county"])
    township.force_login(world.users["township"])
    assert "js/id-reveal.js" in county.get(url).content.decode()
    assert "js/id-reveal.js" not in township.get(url).content.decode()
