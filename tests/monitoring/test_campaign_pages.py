"""回头看 / 信息采集 pages as county staff use them: the start form's village picker (the county's
villages by township, names shown, codes only as values; an administrator chooses the county
first), a hand-made post with another county's village refused, and 结束活动 only with its
confirmation (once, audited)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.urls import reverse

from fanpin.core.models import AuditEntry
from monitoring.models import Campaign, CampaignState, CampaignTask, Household, HouseholdType
from monitoring.services.campaigns import campaign_close
from tests.conftest import World
from tests.factories import HouseholdFactory, region

COUNTY = "520101000000"
V1, V2, V3 = "520101001001", "520101001002", "520101002001"  # townships 520101001000 and 520101002000
OTHER_COUNTY_VILLAGE = "520102001001"
START = reverse("monitoring:campaign_start")


def _exited(village: str) -> Household:
    household: Household = HouseholdFactory(  # type: ignore[assignment]
        village=region(village), household_type=HouseholdType.EXITED, exit_year=2018
    )
    return household


def _form(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "REVISIT",
        "name": "春季回头看",
        "year": "2026",
        "selection": "EXITED_IN_VILLAGES",
        "line_factor": "1.5",
        "started_on": "2026-03-02",
        "due_on": "",
        "client_uuid": str(uuid.uuid4()),
    }
    data.update(over)
    return data


def _boxes(body: str, name: str) -> list[str]:
    """The values of the page's checkboxes called ``name``."""
    return re.findall(rf'type="checkbox" name="{name}" value="(\d+)"', body)


# -- the picker -------------------------------------------------------------------------------------


def test_a_county_user_picks_among_their_own_countys_villages_by_name(world: World) -> None:
    region("520102002001")  # another township of the neighbouring county
    body = world.client_for("county").get(START).content.decode()
    assert _boxes(body, "villages") == [V1, V2, V3]  # never another county's villages
    assert _boxes(body, "townships") == ["520101001000", "520101002000"]
    assert OTHER_COUNTY_VILLAGE not in body and "520102002001" not in body
    for code in (V1, V2, V3):  # the name is shown, the code is only the value
        assert f'<label class="form-check-label" for="v-{code}">村{code[-6:]}</label>' in body
    assert "全选区划520101001000（2 个村）" in body
    assert 'name="county"' not in body  # the county is the user's own
    assert "<textarea" not in body and "村级区划代码" not in body  # nothing to type


def test_an_administrator_chooses_the_county_first(world: World) -> None:
    client = world.client_for("admin")
    body = client.get(START).content.decode()
    assert 'data-testid="county-select"' in body
    counties = re.findall(r'<option value="(\d{12})"', body)
    assert counties == ["520101000000", "520102000000", "520201000000", "530101000000"]
    assert _boxes(body, "villages") == [] and "请先在上面选择县" in body
    # htmx asks the page for the chosen county (and swaps in its picker)
    body = client.get(START, {"county": "520102000000"}, HTTP_HX_REQUEST="true").content.decode()
    assert _boxes(body, "villages") == [OTHER_COUNTY_VILLAGE]
    assert '<option value="520102000000" selected>' in body
    # a code that is not a county lists nothing
    assert _boxes(client.get(START, {"county": V1}).content.decode(), "villages") == []
    assert _boxes(client.get(START, {"county": "520100000000"}).content.decode(), "villages") == []


def test_without_javascript_the_administrator_shows_the_countys_villages_keeping_what_was_typed(world: World) -> None:
    response = world.client_for("admin").post(START, _form(county="520101000000", name="秋季回头看", action="villages"))
    body = response.content.decode()
    assert response.status_code == 200 and not Campaign.objects.exists()
    assert _boxes(body, "villages") == [V1, V2, V3]
    assert 'value="秋季回头看"' in body
    assert "请修改以下问题" not in body  # choosing the county is not a failed submit


def test_posting_the_chosen_villages_starts_the_campaign_with_exactly_those(world: World) -> None:
    inside = [_exited(V1), _exited(V2), _exited(V3)]
    response = world.client_for("county").post(START, _form(villages=[V1, V3]))
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("monitoring:campaign", args=[campaign.pk])
    assert campaign.villages == [V1, V3]
    tasks = set(CampaignTask.objects.filter(campaign=campaign).values_list("household_id", flat=True))
    assert tasks == {inside[0].pk, inside[2].pk}
    audit = AuditEntry.objects.get(object_type="campaign", action="start")
    assert audit.data["villages"] == [V1, V3]


def test_a_townships_select_all_takes_its_villages_without_javascript(world: World) -> None:
    _exited(V1), _exited(V2), _exited(V3)
    response = world.client_for("county").post(START, _form(townships=["520101001000"]))
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.villages == [V1, V2]
    assert set(CampaignTask.objects.filter(campaign=campaign).values_list("village_code", flat=True)) == {V1, V2}


def test_a_township_chosen_comes_back_as_its_villages_so_unticking_one_leaves_it_out(world: World) -> None:
    """Without JavaScript: 全选 of a township, the form shown again for an error elsewhere; the
    township's villages come back ticked and its 全选 box not, so unticking a village and posting
    again leaves that village out (it used to take the whole township again)."""
    _exited(V1), _exited(V2)
    client = world.client_for("county")
    response = client.post(START, _form(townships=["520101001000"], name=""))  # no name: shown again
    body = response.content.decode()
    assert response.status_code == 200 and not Campaign.objects.exists()
    assert f'value="{V1}" id="v-{V1}" checked' in body and f'value="{V2}" id="v-{V2}" checked' in body
    assert 'id="tw-520101001000">' in body  # not ticked
    # the user unticks V2 and posts what the page now holds
    response = client.post(START, _form(villages=[V1]))
    assert response.status_code == 302
    assert Campaign.objects.get().villages == [V1]


def test_the_form_of_a_started_campaign_changed_after_going_back_starts_nothing_silently(world: World) -> None:
    """A double submit answers with the campaign already started; the same form gone back to in
    the browser and changed (its one-time client_uuid unchanged) is refused with a clear message,
    and the page comes back as a new form that, submitted again, starts the other campaign."""
    _exited(V1), _exited(V2), _exited(V3)
    client = world.client_for("county")
    token = str(uuid.uuid4())
    first = client.post(START, _form(client_uuid=token, villages=[V1]))
    campaign = Campaign.objects.get()
    again = client.post(START, _form(client_uuid=token, villages=[V1]))  # a double submit
    assert first.status_code == again.status_code == 302 and again["Location"] == first["Location"]
    changed = client.post(START, _form(client_uuid=token, villages=[V1, V3], name="另一个回头看"))
    body = changed.content.decode()
    assert changed.status_code == 200 and Campaign.objects.count() == 1
    assert f"这张表单已发起过活动“{campaign.name}”" in body
    fresh = re.search(r'name="client_uuid" value="([0-9a-f-]{36})"', body)
    assert fresh is not None and fresh.group(1) != token
    assert f'value="{V3}" id="v-{V3}" checked' in body  # what was typed is kept
    response = client.post(START, _form(client_uuid=fresh.group(1), villages=[V1, V3], name="另一个回头看"))
    assert response.status_code == 302
    assert Campaign.objects.get(name="另一个回头看").villages == [V1, V3]


def test_a_village_of_another_county_posted_by_hand_is_refused_and_nothing_is_written(world: World) -> None:
    client = world.client_for("county")
    response = client.post(START, _form(villages=[V1, OTHER_COUNTY_VILLAGE]))
    body = response.content.decode()
    assert response.status_code == 200
    assert f"村级区划代码 {OTHER_COUNTY_VILLAGE} 不存在或不属于区划520101000000，请在列表中勾选本县的村。" in body
    assert not Campaign.objects.exists() and not CampaignTask.objects.exists()
    assert not AuditEntry.objects.filter(object_type="campaign").exists()
    assert _boxes(body, "villages") == [V1, V2, V3]  # the picker is back, still the county's own
    assert f'value="{V1}" id="v-{V1}" checked' in body  # what was ticked stays ticked
    # a township of another county too
    response = client.post(START, _form(townships=["520102001000"]))
    assert "乡镇区划代码 520102001000 不存在或不属于区划520101000000" in response.content.decode()
    # nothing chosen
    response = client.post(START, _form())
    assert "选择“所选村的全部脱贫户”时请至少选择一个村。" in response.content.decode()
    assert not Campaign.objects.exists()


def test_an_administrator_may_not_take_villages_of_another_county_than_the_one_chosen(world: World) -> None:
    response = world.client_for("admin").post(START, _form(county="520101000000", villages=[OTHER_COUNTY_VILLAGE]))
    assert response.status_code == 200 and "不存在或不属于区划520101000000" in response.content.decode()
    assert _boxes(response.content.decode(), "villages") == [V1, V2, V3]
    assert not Campaign.objects.exists()


# -- 结束活动 ----------------------------------------------------------------------------------------


def _campaign(world: World) -> Campaign:
    _exited(V1), _exited(V1)
    world.client_for("county").post(START, _form(villages=[V1]))
    return Campaign.objects.get()


def test_the_campaign_page_says_what_ending_does_before_it_ends(world: World) -> None:
    campaign = _campaign(world)
    body = world.client_for("county").get(reverse("monitoring:campaign", args=[campaign.pk])).content.decode()
    assert 'data-bs-target="#close-confirm"' in body and 'id="close-confirm"' in body
    text = body[body.index('data-testid="close-confirm-text"') :]
    assert "未完成的 <strong>2</strong> 户任务保留为未完成" in text and "不再完成本活动的任务" in text
    assert 'name="confirm" value="yes"' in body


def test_ending_without_the_confirmation_does_not_end_it(world: World) -> None:
    campaign = _campaign(world)
    url = reverse("monitoring:campaign_close", args=[campaign.pk])
    response = world.client_for("county").post(url, {"reason": "提前结束"})
    body = response.content.decode()
    assert response.status_code == 200 and 'data-testid="close-ask"' in body
    assert "请确认后再结束活动" in body and "未完成的 2 户任务保留为未完成" in body
    assert 'value="提前结束"' in body  # the note is kept for the confirming post
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.OPEN and campaign.closed_on is None
    assert not AuditEntry.objects.filter(object_type="campaign", action="close").exists()
    # any other value is no confirmation either
    world.client_for("county").post(url, {"confirm": "1"})
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.OPEN


def test_ending_with_the_confirmation_ends_and_audits_it_and_twice_says_so(world: World) -> None:
    campaign = _campaign(world)
    client = world.client_for("county")
    url = reverse("monitoring:campaign_close", args=[campaign.pk])
    response = client.post(url, {"reason": "年度结束", "confirm": "yes"}, follow=True)
    assert response.redirect_chain == [(reverse("monitoring:campaign", args=[campaign.pk]), 302)]
    body = response.content.decode()
    assert f"活动“{campaign.name}”已结束。" in body and 'data-testid="campaign-close"' not in body
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.CLOSED and campaign.closed_by == world.users["county"]
    audit = AuditEntry.objects.get(object_type="campaign", action="close")
    assert (audit.from_state, audit.to_state, audit.reason) == ("OPEN", "CLOSED", "年度结束")
    assert audit.data == {"tasks": 2, "open_tasks": 2} and audit.actor == world.users["county"]
    day = campaign.closed_on
    assert day is not None
    for data in ({"confirm": "yes"}, {}):  # a second tab, a replayed form
        again = client.post(url, data)
        assert again.status_code == 409
        assert f"已于 {day.year}年{day.month}月{day.day}日 结束，无需再次结束。" in again.content.decode()
    assert AuditEntry.objects.filter(object_type="campaign", action="close").count() == 1


def test_ending_is_refused_outside_the_scope_and_to_other_roles_confirmed_or_not(world: World) -> None:
    campaign = _campaign(world)
    url = reverse("monitoring:campaign_close", args=[campaign.pk])
    assert world.client_for("township").post(url, {"confirm": "yes"}).status_code == 403
    other = Campaign.objects.create(
        county_id="520102000000",
        kind="REVISIT",
        name="邻县回头看",
        year=2026,
        selection="ALL_TARGETS",
        started_on=campaign.started_on,
        due_on=campaign.due_on,
        created_by=world.users["admin"],
    )
    other_url = reverse("monitoring:campaign_close", args=[other.pk])
    assert world.client_for("county").post(other_url).status_code == 404
    assert world.client_for("county").post(other_url, {"confirm": "yes"}).status_code == 404
    campaign_close(actor=world.users["admin"], campaign_id=other.pk, today=campaign.started_on)
    assert Campaign.objects.get(pk=campaign.pk).state == CampaignState.OPEN
