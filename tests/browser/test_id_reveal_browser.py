"""显示 turns into 隐藏 after revealing a 身份证号; 隐藏 puts the masked number back without a request."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fanpin.core.idcard import id_number_mask
from fanpin.core.models import AccessLog
from tests.browser.conftest import login
from tests.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reveal_then_hide_then_reveal_again(page, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    household = world.households["520101001001"]
    member = household.members.get()
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    login(page, live_server, "county")
    page.goto(f"{live_server.url}/monitoring/households/{household.pk}/")
    cell = page.get_by_test_id("member-table").locator("tbody tr").first
    expect(cell).to_contain_text(id_number_mask(member.id_number))
    cell.get_by_role("button", name="显示").click()
    expect(cell).to_contain_text(member.id_number)
    expect(cell.get_by_role("button", name="显示")).to_have_count(0)
    cell.get_by_role("button", name="隐藏").click()
    expect(cell).to_contain_text(id_number_mask(member.id_number))
    expect(cell).not_to_contain_text(member.id_number)
    assert len([u for u in posts if "id-number" in u]) == 1  # hiding asked nothing
    cell.get_by_role("button", name="显示").click()  # and 显示 works again (a new, logged reveal)
    expect(cell.get_by_role("button", name="隐藏")).to_be_visible()
    expect(cell).to_contain_text(member.id_number)
    assert AccessLog.objects.filter(action=AccessLog.Action.VIEW_ID).count() == 2
