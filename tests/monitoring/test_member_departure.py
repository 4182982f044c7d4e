"""A member's accepted death or removal keeps the member (死亡 / 注销, the date and the change) and
leaves them out of everything that means the household's current members (decision record
2026-12-04-member-departure.md)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from assistance.selectors.recommendation import household_labor_capacity
from fanpin.core.models import AuditEntry
from fanpin.core.scoping import ObjectOutOfScope
from monitoring.models import (
    AlertStatus,
    AssistanceEntry,
    DepartmentAlert,
    HouseholdChange,
    Labor,
    Lead,
    Member,
    MemberStatus,
    Relation,
    RigidExpenditure,
)
from monitoring.selectors.exports import households_export_rows
from monitoring.selectors.households import households_in_scope
from monitoring.selectors.overview import overview_counts
from monitoring.selectors.screening_sql import out_of_pocket_window_fen
from monitoring.services.members import member_restore
from tests.conftest import World
from tests.factories import ExpenditureFactory, HouseholdFactory, MemberFactory, income, region
from tests.monitoring.screening_helpers import YEAR, screen, setup_lines
from tests.monitoring.test_household_changes import decide, member_row, run

pytestmark = pytest.mark.django_db

VILLAGE = "520101001001"


def depart(tmp_path: Path, world: World, member: Member, status: str = "死亡") -> HouseholdChange:
    """The member import proposes the death or removal; the county accepts it on its page."""
    result = run(tmp_path, world, "members", [member_row(member, 成员状态=status)])
    assert result.ok, result.errors
    change = HouseholdChange.objects.get(member=member, state="PENDING")
    assert decide(world.client_for("county"), change, "accept") == 302
    member.refresh_from_db()
    return change


def test_an_accepted_death_keeps_the_member_with_status_date_change_and_audit(tmp_path: Path, world: World) -> None:
    hh = world.households[VILLAGE]
    father = MemberFactory(household=hh, relation=Relation.FATHER, name="王老汉")
    change = depart(tmp_path, world, father)
    assert (father.status, father.departed_on, father.departure_change_id, father.household_id) == (
        MemberStatus.DECEASED,
        timezone.localdate(),
        change.pk,
        hh.pk,
    )
    (row,) = AuditEntry.objects.filter(object_type="member", object_id=str(father.pk))
    assert (row.action, row.from_state, row.to_state, row.region_code) == ("depart", "ACTIVE", "DECEASED", VILLAGE)
    assert row.actor == world.users["county"]
    assert str(change.pk) in row.reason
    # a removal (注销) alike
    son = MemberFactory(household=hh, relation=Relation.SON)
    depart(tmp_path, world, son, "注销")
    assert son.status == MemberStatus.REMOVED


def test_the_household_page_lists_departed_members_apart_and_masked(tmp_path: Path, world: World) -> None:
    hh = world.households[VILLAGE]
    father = MemberFactory(household=hh, relation=Relation.FATHER, name="王老汉")
    son = MemberFactory(household=hh, relation=Relation.SON, name="王小二")
    depart(tmp_path, world, father)
    depart(tmp_path, world, son, "注销")
    page = world.client_for("village").get(reverse("monitoring:household_detail", args=[hh.pk])).content.decode()
    current, departed = page.split('data-testid="member-table"')[1].split('data-testid="departed-member-table"')
    assert "户主" in current and "王老汉" not in current and "王小二" not in current
    assert "已故或已注销的成员" in page
    day = f"{timezone.localdate():%Y-%m-%d}"
    assert "王老汉" in departed and "已故" in departed and "王小二" in departed and "已注销" in departed
    assert day in departed
    assert father.id_number not in page and f"{father.id_number[:6]}********{father.id_number[-4:]}" in departed
    # a household without departed members shows no such list
    other = world.client_for("village").get(
        reverse("monitoring:household_detail", args=[world.households["520101001002"].pk])
    )
    assert "已故或已注销的成员" not in other.content.decode()


def test_counts_size_head_and_search_leave_departed_members_out(tmp_path: Path, world: World) -> None:
    hh = HouseholdFactory(village=region(VILLAGE), household_no="H520101001099")
    head = MemberFactory(household=hh, relation=Relation.HEAD, name="赵大")
    son = MemberFactory(household=hh, relation=Relation.SON, name="赵小")
    county = world.users["county"]
    before = overview_counts(user=county)["members"]
    depart(tmp_path, world, head)
    # 户主: the dead head is no head; the son becomes 户主 through the next import (one current head)
    assert households_in_scope(user=county).get(pk=hh.pk).head_name is None
    assert overview_counts(user=county)["members"] == before - 1
    assert run(tmp_path, world, "members", [member_row(son, 与户主关系="户主")]).ok
    assert households_in_scope(user=county).get(pk=hh.pk).head_name == "赵小"
    rows = [r for r in households_export_rows(user=county) if r[0] == hh.household_no]
    assert [(r[1], r[9]) for r in rows] == [("赵小", 1)]  # 户主姓名, 家庭人口
    # a name finds only current members; a 身份证号 still finds the household of a departed person
    assert not households_in_scope(user=county, search="赵大").filter(pk=hh.pk).exists()
    assert households_in_scope(user=county, search="赵小").filter(pk=hh.pk).exists()
    assert households_in_scope(user=county, search=head.id_number).filter(pk=hh.pk).exists()
    # the database keeps one current 户主: the dead one does not count, a second living one does
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberFactory(household=hh, relation=Relation.HEAD)


def test_labor_and_screening_ignore_departed_members(tmp_path: Path, world: World) -> None:
    setup_lines()
    hh = HouseholdFactory(village=region(VILLAGE), household_no="H520101001098")
    MemberFactory(household=hh, relation=Relation.HEAD, labor=Labor.LOST)
    able = MemberFactory(household=hh, relation=Relation.SON, labor=Labor.NORMAL)
    assert household_labor_capacity(household_id=hh.pk) == "FULL"
    depart(tmp_path, world, able)
    assert household_labor_capacity(household_id=hh.pk) == "NONE"
    income(hh, YEAR, "100.00")
    screen()
    assert "LACK_OF_LABOR" in Lead.objects.get(household=hh).suggested_risk_types


def test_expenditures_keep_their_member_and_the_medical_maximum_stays_per_person(tmp_path: Path, world: World) -> None:
    """The departed member's 医保 extract (5 000) and other records (3 000) count the larger, 5 000;
    the household's member-less record (4 000) counts apart: 9 000 (mixed with the member-less
    group, as when the member was deleted, it was max(5 000, 7 000) = 7 000)."""
    hh = world.households[VILLAGE]
    father = MemberFactory(household=hh, relation=Relation.FATHER)
    on = dt.date(YEAR, 3, 1)

    def spent(member: Member | None, day: int, amount: str, **source: bool) -> RigidExpenditure:
        return ExpenditureFactory(
            household=hh, member=member, occurred_on=on.replace(day=day), amount=Decimal(amount), **source
        )

    extract = spent(father, 1, "5000", source_extract=True, source_import=False)
    records = spent(father, 2, "3000", source_import=True)
    apart = spent(None, 3, "4000", source_import=True)
    depart(tmp_path, world, father)
    for row in (extract, records):
        row.refresh_from_db()
        assert row.member_id == father.pk
    apart.refresh_from_db()
    assert apart.member_id is None
    window = out_of_pocket_window_fen(household_id=hh.pk, start=dt.date(YEAR, 1, 1), end=dt.date(YEAR, 12, 31))
    assert window["x_medical"] == 900_000


def test_roster_lines_released_alerts_kept_and_new_ones_matched_flagged(tmp_path: Path, world: World) -> None:
    hh = world.households[VILLAGE]
    father = MemberFactory(household=hh, relation=Relation.FATHER, name="王老汉")
    line = AssistanceEntry.objects.create(
        id_number=father.id_number,
        name=father.name,
        category="SUBSISTENCE",
        start_date=dt.date(2026, 1, 1),
        member=father,
        status=AlertStatus.MATCHED,
        region_code=VILLAGE,
        scope_code="520101000000",
    )
    depart(tmp_path, world, father)
    line.refresh_from_db()
    assert (line.member_id, line.status) == (None, AlertStatus.UNMATCHED)
    # a new department alert of the person still reaches the household, flagged on the list
    client = APIClient()
    client.force_authenticate(world.users["dept"])
    body = {
        "idempotency_key": "d1",
        "id_number": father.id_number,
        "name": father.name,
        "alert_type": "MEDICAL",
        "alert_date": "2025-03-14",
        "amount": "23456.00",
    }
    response = client.post("/api/v1/alerts/", {"alerts": [body]}, format="json")
    assert response.status_code == 201, response.content
    alert = DepartmentAlert.objects.get(idempotency_key="d1")
    assert (alert.member_id, alert.status, alert.region_code) == (father.pk, AlertStatus.MATCHED, VILLAGE)
    assert RigidExpenditure.objects.get(alert=alert).member_id == father.pk
    page = world.client_for("county").get(reverse("monitoring:alert_list")).content.decode()
    assert "该成员已死亡" in page


def test_import_round_trips(tmp_path: Path, world: World) -> None:
    hh = world.households[VILLAGE]
    father = MemberFactory(household=hh, relation=Relation.FATHER)
    change = depart(tmp_path, world, father)
    members, audits = Member.objects.count(), AuditEntry.objects.count()
    # listed again as 死亡 (or 注销): unchanged, nothing written, no new change
    for status in ("死亡", "注销"):
        again = run(tmp_path, world, "members", [member_row(father, 成员状态=status, 姓名="新名字")])
        assert again.ok and (again.created, again.updated, again.unchanged) == (0, 0, 1), again.errors
    # listed as 在册 (empty / 正常), in its household or another: a row error, no resurrection
    for over in ({"成员状态": None}, {"成员状态": "正常", "户编号": "H520101001002"}):
        back = run(tmp_path, world, "members", [member_row(father, **over)])
        assert [(e.row, e.column) for e in back.errors] == [(2, "成员状态")]
        assert back.errors[0].message == (
            f"该成员已于 {timezone.localdate():%Y-%m-%d} 经县级审核登记为死亡（变更 {change.pk}），"
            "不能再作为在册成员导入；如属误报，请联系县级核实。"
        )
    father.refresh_from_db()
    assert (father.status, father.name) == (MemberStatus.DECEASED, member_row(father)["姓名"])
    assert (Member.objects.count(), AuditEntry.objects.count(), HouseholdChange.objects.count()) == (
        members,
        audits,
        1,
    )


def test_api_lists_current_members_and_departed_ones_with_status(tmp_path: Path, world: World) -> None:
    hh = world.households[VILLAGE]
    father = MemberFactory(household=hh, relation=Relation.FATHER, name="王老汉")
    depart(tmp_path, world, father)
    client = APIClient()
    client.force_authenticate(world.users["county"])
    body = client.get(f"/api/v1/households/{hh.pk}/").json()
    assert [m["relation"] for m in body["members"]] == ["HEAD"]
    (gone,) = body["departed_members"]
    assert (gone["name"], gone["status"], gone["departed_on"]) == ("王老汉", "DECEASED", f"{timezone.localdate()}")
    assert gone["id_number"] == f"{father.id_number[:6]}********{father.id_number[-4:]}"


def test_a_household_with_a_departed_member_and_a_pending_change_can_be_deleted(tmp_path: Path, world: World) -> None:
    """The departure's change goes with its household and member (the demo's regeneration, cascades)."""
    hh = HouseholdFactory(village=region(VILLAGE), household_no="H520101001097")
    MemberFactory(household=hh, relation=Relation.HEAD)
    gone = MemberFactory(household=hh, relation=Relation.SON)
    waiting = MemberFactory(household=hh, relation=Relation.DAUGHTER)
    depart(tmp_path, world, gone)
    assert run(tmp_path, world, "members", [member_row(waiting, 成员状态="注销")]).ok  # pending
    hh.delete()
    assert not Member.objects.filter(pk__in=[gone.pk, waiting.pk]).exists()
    assert not HouseholdChange.objects.filter(household_id=hh.pk).exists()


def test_the_household_list_finds_a_departed_person_by_number_not_by_name(tmp_path: Path, world: World) -> None:
    hh = HouseholdFactory(village=region(VILLAGE), household_no="H520101001096")
    MemberFactory(household=hh, relation=Relation.HEAD, name="钱在册")
    gone = MemberFactory(household=hh, relation=Relation.SON, name="孙已故")
    depart(tmp_path, world, gone)
    client = world.client_for("village")
    url = reverse("monitoring:household_list")
    assert "H520101001096" not in client.get(url, {"q": "孙已故"}).content.decode()
    assert "H520101001096" in client.get(url, {"q": "钱在册"}).content.decode()
    assert "H520101001096" in client.get(url, {"q": gone.id_number[-4:]}).content.decode()
    # the home page's 家庭成员 count is the current members
    home = world.client_for("county").get(reverse("home")).context["counts"]
    assert home["members"] == Member.objects.current().for_user(world.users["county"]).count()
    assert home["members"] == Member.objects.for_user(world.users["county"]).count() - 1


def test_the_departure_s_change_is_not_deleted_alone(tmp_path: Path, world: World) -> None:
    from django.db import connection

    gone = MemberFactory(household=world.households[VILLAGE], relation=Relation.SON)
    change = depart(tmp_path, world, gone)
    with pytest.raises(IntegrityError), transaction.atomic():
        HouseholdChange.objects.filter(pk=change.pk).delete()
        connection.check_constraints(table_names=[Member._meta.db_table])


def test_a_household_whose_every_member_departed_does_not_say_none_were_entered(tmp_path: Path, world: World) -> None:
    hh = HouseholdFactory(village=region(VILLAGE), household_no="H520101001094")
    alone = MemberFactory(household=hh, relation=Relation.HEAD, name="独居老人")
    depart(tmp_path, world, alone)
    page = world.client_for("village").get(reverse("monitoring:household_detail", args=[hh.pk])).content.decode()
    current = page.split('data-testid="member-table"')[1].split('data-testid="departed-member-table"')[0]
    assert "尚未录入家庭成员" not in current and "没有在册成员" in current
    assert "独居老人" in page.split('data-testid="departed-member-table"')[1]


# -- a departure accepted by mistake: the county puts the member back (恢复在册) -----------------------
def test_the_county_restores_a_member_reported_dead_by_mistake(tmp_path: Path, world: World) -> None:
    hh = world.households[VILLAGE]
    father = MemberFactory(household=hh, relation=Relation.FATHER, name="王老汉")
    depart(tmp_path, world, father)
    county = world.client_for("county")
    url = reverse("monitoring:member_restore", args=[father.pk])
    page = county.get(reverse("monitoring:household_detail", args=[hh.pk])).content.decode()
    assert 'data-testid="member-restore"' in page and url in page
    village_page = world.client_for("village").get(reverse("monitoring:household_detail", args=[hh.pk]))
    assert 'data-testid="member-restore"' not in village_page.content.decode()
    # no reason: nothing changes, the household page says why
    answer = county.post(url, {"reason": "  "}, follow=True)
    assert "请填写恢复在册的理由" in answer.content.decode()
    father.refresh_from_db()
    assert father.status == MemberStatus.DECEASED
    # other roles 403, another county 404
    assert world.client_for("village").post(url, {"reason": "误报"}).status_code == 403
    assert world.client_for("township").post(url, {"reason": "误报"}).status_code == 403
    outsider = world.users["county"]
    outsider.region_id = "520102000000"
    with pytest.raises(ObjectOutOfScope):
        member_restore(actor=outsider, member_id=father.pk, reason="误报")
    outsider.refresh_from_db()
    assert county.post(url, {"reason": "医保部门名单身份证号有误，经核实本人健在"}).status_code == 302
    father.refresh_from_db()
    assert (father.status, father.departed_on, father.departure_change_id) == (MemberStatus.ACTIVE, None, None)
    assert Member.objects.current().filter(pk=father.pk).exists()
    (row,) = AuditEntry.objects.filter(object_type="member", object_id=str(father.pk), action="restore")
    assert (row.from_state, row.to_state, row.actor) == ("DECEASED", "ACTIVE", world.users["county"])
    assert "健在" in row.reason
    # the accepted change stays as history; restoring twice answers 409
    assert HouseholdChange.objects.filter(member=father, state="ACCEPTED").exists()
    assert county.post(url, {"reason": "再次"}).status_code == 409


def test_a_departed_head_comes_back_only_while_the_household_has_no_other_head(tmp_path: Path, world: World) -> None:
    hh = HouseholdFactory(village=region(VILLAGE), household_no="H520101001088")
    head = MemberFactory(household=hh, relation=Relation.HEAD, name="钱大")
    MemberFactory(household=hh, relation=Relation.SON, name="钱小")
    depart(tmp_path, world, head)
    newcomer = MemberFactory(household=hh, relation=Relation.HEAD, name="钱新")  # named by a later import
    with pytest.raises(ValidationError, match="已有在册户主"):
        member_restore(actor=world.users["county"], member_id=head.pk, reason="误报")
    newcomer.delete()
    member_restore(actor=world.users["county"], member_id=head.pk, reason="误报")
    assert Member.objects.current().get(household=hh, relation=Relation.HEAD) == head


def test_printed_lists_name_a_household_without_a_current_head(tmp_path: Path, world: World) -> None:
    from monitoring.models import LeadState
    from monitoring.models.households import NO_HEAD
    from monitoring.selectors.leads import publicity_list
    from tests.factories import LeadFactory

    hh = HouseholdFactory(village=region(VILLAGE), household_no="H520101001077")
    head = MemberFactory(household=hh, relation=Relation.HEAD, name="孙大")
    MemberFactory(household=hh, relation=Relation.SON, name="孙二")
    depart(tmp_path, world, head)
    today = timezone.localdate()
    LeadFactory(household=hh, state=LeadState.VERIFIED, publicity_start=today, publicity_end=today + dt.timedelta(4))
    rows = publicity_list(user=world.users["village"], village_code=VILLAGE)
    assert NO_HEAD in [r.name for r in rows] and "孙大" not in [r.name for r in rows]
