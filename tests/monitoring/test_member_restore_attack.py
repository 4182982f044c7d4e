"""Outside attacks on 恢复在册 (member_restore)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from fanpin.core.models import AuditEntry
from monitoring.models import HouseholdChange, Member, MemberStatus, Relation
from tests.conftest import World
from tests.factories import HouseholdFactory, MemberFactory, region
from tests.monitoring.test_household_changes import decide, member_row, run
from tests.monitoring.test_member_departure import VILLAGE, depart

pytestmark = pytest.mark.django_db


def test_restore_then_reimport_as_normal_and_as_dead_again(tmp_path: Path, world: World) -> None:
    hh = world.households[VILLAGE]
    father = MemberFactory(household=hh, relation=Relation.FATHER, name="王老汉")
    depart(tmp_path, world, father)
    county = world.client_for("county")
    assert county.post(reverse("monitoring:member_restore", args=[father.pk]), {"reason": "误报"}).status_code == 302
    # the next import lists him as 正常: no error, nothing proposed
    result = run(tmp_path, world, "members", [member_row(father)])
    assert result.ok, result.errors
    assert not HouseholdChange.objects.filter(member=father, state="PENDING").exists()
    # really dead later: a new removal is proposed and can be accepted
    change = depart(tmp_path, world, father)
    assert father.status == MemberStatus.DECEASED and father.departure_change_id == change.pk


def test_restore_of_another_countys_member_is_404_and_says_nothing(tmp_path: Path, world: World) -> None:
    hh = world.households[VILLAGE]
    father = MemberFactory(household=hh, relation=Relation.FATHER, name="王老汉")
    depart(tmp_path, world, father)
    outsider = world.users["county"]
    outsider.region_id = "520102000000"
    outsider.save(update_fields=["region"])
    from django.test import Client

    c = Client()
    c.force_login(outsider)
    for reason in ("误报", "", "x" * 301):
        r = c.post(reverse("monitoring:member_restore", args=[father.pk]), {"reason": reason})
        assert r.status_code == 404, (reason, r.status_code)
        assert "王老汉" not in r.content.decode()
    r = c.post(reverse("monitoring:member_restore", args=[999999]), {"reason": "误报"})
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("reason", "said", "status"),
    [
        ("x" * 301, "不能超过 300 个字", 200),
        ("\t\n ", "请填写恢复在册的理由", 200),
        # refused by the one error map before the view (any posted value with a NUL): 填写有误, 400
        ("误报\x00", "控制字符", 400),
    ],
)
def test_bad_reasons_are_messages_not_errors(tmp_path: Path, world: World, reason: str, said: str, status: int) -> None:
    hh = world.households[VILLAGE]
    father = MemberFactory(household=hh, relation=Relation.FATHER, name="王老汉")
    depart(tmp_path, world, father)
    county = world.client_for("county")
    r = county.post(reverse("monitoring:member_restore", args=[father.pk]), {"reason": reason}, follow=True)
    assert r.status_code == status
    father.refresh_from_db()
    assert father.status == MemberStatus.DECEASED
    assert not AuditEntry.objects.filter(object_type="member", action="restore").exists()
    assert said in r.content.decode()


def test_head_refused_while_another_head_is_a_message(tmp_path: Path, world: World) -> None:
    hh = HouseholdFactory(village=region(VILLAGE), household_no="H520101001088")
    head = MemberFactory(household=hh, relation=Relation.HEAD, name="钱大")
    son = MemberFactory(household=hh, relation=Relation.SON, name="钱小")
    depart(tmp_path, world, head)
    assert run(tmp_path, world, "members", [member_row(son, 与户主关系="户主")]).ok
    county = world.client_for("county")
    r = county.post(reverse("monitoring:member_restore", args=[head.pk]), {"reason": "误报"}, follow=True)
    assert r.status_code == 200 and "已有在册户主" in r.content.decode()
    head.refresh_from_db()
    assert head.status == MemberStatus.DECEASED


def test_restore_after_household_deleted_is_404(tmp_path: Path, world: World) -> None:
    hh = HouseholdFactory(village=region(VILLAGE), household_no="H520101001066")
    MemberFactory(household=hh, relation=Relation.HEAD, name="周大")
    m = MemberFactory(household=hh, relation=Relation.SON, name="周二")
    depart(tmp_path, world, m)
    pk = m.pk
    hh.delete()
    assert not Member.objects.filter(pk=pk).exists()
    county = world.client_for("county")
    assert county.post(reverse("monitoring:member_restore", args=[pk]), {"reason": "误报"}).status_code == 404


def test_pending_change_and_accepted_change_after_restore(tmp_path: Path, world: World) -> None:
    hh = world.households[VILLAGE]
    father = MemberFactory(household=hh, relation=Relation.FATHER, name="王老汉")
    change = depart(tmp_path, world, father)
    county = world.client_for("county")
    assert county.post(reverse("monitoring:member_restore", args=[father.pk]), {"reason": "误报"}).status_code == 302
    # the household changes page still loads (the accepted change names a member now in the registry)
    page = county.get(reverse("monitoring:household_changes") + "?state=ACCEPTED")
    assert page.status_code == 200
    change.refresh_from_db()
    assert change.state == "ACCEPTED"
    # a second decide on the accepted change is still refused
    assert decide(county, change, "accept") in (302, 409)
    father.refresh_from_db()
    assert father.status == MemberStatus.ACTIVE


def test_counts_page_and_double_submit_after_restore(tmp_path: Path, world: World) -> None:
    from monitoring.selectors.overview import overview_counts

    hh = world.households[VILLAGE]
    father = MemberFactory(household=hh, relation=Relation.FATHER, name="王老汉")
    county_user = world.users["county"]
    before = overview_counts(user=county_user)["members"]
    depart(tmp_path, world, father)
    assert overview_counts(user=county_user)["members"] == before - 1
    county = world.client_for("county")
    url = reverse("monitoring:member_restore", args=[father.pk])
    first = county.post(url, {"reason": "误报"}, follow=True)
    page = first.content.decode()
    assert "已恢复王老汉在册" in page
    current = page.split('data-testid="member-table"')[1]
    assert "王老汉" in current and 'data-testid="departed-member-table"' not in page
    assert overview_counts(user=county_user)["members"] == before
    second = county.post(url, {"reason": "误报"})
    assert second.status_code == 409 and "已在册" in second.content.decode()
    (row,) = AuditEntry.objects.filter(object_type="member", object_id=str(father.pk), action="restore")
    assert row.region_code == VILLAGE and row.data["household_id"] == hh.pk


def test_publicity_page_and_xlsx_name_no_head_and_no_departed_person(tmp_path: Path, world: World) -> None:
    import datetime as dt
    import io

    from django.utils import timezone
    from openpyxl import load_workbook

    from monitoring.models import LeadState
    from monitoring.models.households import NO_HEAD
    from tests.factories import LeadFactory

    hh = HouseholdFactory(village=region(VILLAGE), household_no="H520101001077")
    head = MemberFactory(household=hh, relation=Relation.HEAD, name="孙大")
    MemberFactory(household=hh, relation=Relation.SON, name="孙二")
    depart(tmp_path, world, head)
    today = timezone.localdate()
    LeadFactory(household=hh, state=LeadState.VERIFIED, publicity_start=today, publicity_end=today + dt.timedelta(4))
    village = world.client_for("village")
    page = village.get(reverse("monitoring:publicity", args=[VILLAGE])).content.decode()
    assert NO_HEAD in page and "孙大" not in page and "孙二" not in page
    data = village.get(reverse("monitoring:publicity_xlsx", args=[VILLAGE])).getvalue()
    cells = [str(c) for row in load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True) for c in row if c]
    assert NO_HEAD in cells and not any("孙大" in c or "孙二" in c or head.id_number in c for c in cells)


def test_a_roster_line_released_by_the_death_matches_again_after_restore(tmp_path: Path, world: World) -> None:
    from monitoring.models import AlertStatus, AssistanceEntry
    from tests.monitoring.test_rosters_api import URL, client_of, line, minzheng

    hh = world.households[VILLAGE]
    father = MemberFactory(household=hh, relation=Relation.FATHER, name="王老汉")
    batch = {"entries": [line(father.id_number)]}
    client = client_of(minzheng(world))
    assert client.post(URL, batch, format="json").status_code == 201
    depart(tmp_path, world, father)
    entry = AssistanceEntry.objects.get(id_number=father.id_number)
    assert (entry.member_id, entry.status) == (None, AlertStatus.UNMATCHED)
    county = world.client_for("county")
    assert county.post(reverse("monitoring:member_restore", args=[father.pk]), {"reason": "误报"}).status_code == 302
    # the same roster sent again (as the decision record says) matches him again
    assert client.post(URL, batch, format="json").status_code == 201
    entry.refresh_from_db()
    assert (entry.member_id, entry.status) == (father.pk, AlertStatus.MATCHED)
