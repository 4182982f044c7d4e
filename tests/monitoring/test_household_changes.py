"""Household changes reviewed, not silent (issue 19, Acceptance 2): a member import that moves a
person, changes a 户类型 or marks a death creates a pending change and writes nothing of it until
the county accepts; accept applies once (audited), reject needs a reason (audited); other regions
neither see nor decide; likely duplicate persons are listed for review."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fanpin.core.idcard import id_check_digit
from fanpin.core.models import AuditEntry
from fanpin.core.roles import Role
from monitoring.models import (
    ChangeKind,
    ChangeState,
    HouseholdChange,
    ImportJob,
    Member,
    MemberStatus,
    Relation,
)
from monitoring.services.imports.pipeline import ImportResult, import_run
from tests.conftest import World
from tests.factories import ExpenditureFactory, HouseholdFactory, MemberFactory, make_id_number, region, user
from tests.monitoring.xlsx import kind_sheet

pytestmark = pytest.mark.django_db

H1, H2 = "H520101001001", "H520101001002"  # two villages of township 520101001, county 520101
LIST = reverse("monitoring:household_changes")


def member_row(member: Member, **over: Any) -> dict[str, Any]:
    row = {
        "户编号": member.household.household_no,
        "姓名": member.name,
        "身份证号": member.id_number,
        "与户主关系": member.get_relation_display(),
        "健康状况": "健康",
        "残疾等级": None,
        "劳动能力": "普通劳动力",
        "在校情况": None,
        "务工情况": None,
        "是否参加医保": "是",
    }
    row.update(over)
    return row


def run(tmp_path: Path, world: World, kind: str, rows: list[dict[str, Any]], **kw: Any) -> ImportResult:
    path = kind_sheet(tmp_path / f"{kind}.xlsx", kind, rows)
    return import_run(kind=kind, source=str(path), user=world.users["county"], **kw)


def decide(client: Client, change: HouseholdChange, action: str, **data: str) -> int:
    url = reverse("monitoring:household_change_decide", args=[change.pk, action])
    return client.post(url, data).status_code


def audit(change: HouseholdChange, action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(object_type="household_change", object_id=str(change.pk), action=action))


def test_import_move_is_pending_and_moves_nobody_until_accepted(tmp_path: Path, world: World) -> None:
    son = MemberFactory(household=world.households["520101001001"], relation=Relation.SON, name="张三")
    rows = [member_row(son, 户编号=H2, 与户主关系="之子", 姓名="张三丰")]
    result = run(tmp_path, world, "members", rows)
    assert result.ok, result.errors
    assert result.extra["changes_pending"] == 1
    assert "1 条已提交县级审核" in result.summary()
    assert result.updated == 1  # the name is written; the household is not
    son.refresh_from_db()
    assert (son.household.household_no, son.relation, son.name) == (H1, Relation.SON, "张三丰")
    change = HouseholdChange.objects.get()
    assert (change.kind, change.state, change.member_id) == (ChangeKind.MOVE, ChangeState.PENDING, son.pk)
    assert (change.household.household_no, change.target_household.household_no) == (H1, H2)  # type: ignore[union-attr]
    assert len(audit(change, "propose")) == 1
    # the same file again (checked, then imported): the same pending change, nothing new, and the
    # result says so instead of "submitted" once more
    for dry_run, verb in ((True, "将提交"), (False, "已提交")):
        again = run(tmp_path, world, "members", rows, dry_run=dry_run)
        assert (again.updated, again.unchanged, again.extra["rows_pending"]) == (0, 0, 1)
        assert "未变化 0 行，待县级审核 1 行" in again.summary()
        assert ("changes_pending" not in again.extra, again.extra["changes_again"]) == (True, 1)
        assert f"{verb}县级审核" not in again.summary()
        assert "1 条变更与正在县级审核的变更相同，未重复提交" in again.summary()
    assert HouseholdChange.objects.count() == 1 and len(audit(change, "propose")) == 1
    # the import page links to the pending changes all the same
    job = ImportJob.objects.create(
        kind="members",
        file_name="members.xlsx",
        created_by=world.users["county"],
        region_code=str(world.users["county"].region_id),
        status="SUCCEEDED",
        progress=100,
        message=again.summary(),
        extra=again.extra,
    )
    page = world.client_for("county").get(reverse("monitoring:import_detail", args=[job.pk])).content.decode()
    assert 'data-testid="import-changes-link"' in page
    job.status, job.unchanged_count = "VALIDATED", again.unchanged  # the check's page counts the row apart
    job.save(update_fields=["status", "unchanged_count"])
    page = world.client_for("county").get(reverse("monitoring:import_detail", args=[job.pk])).content.decode()
    assert 'data-testid="preview-pending">1（所提变更经县级审核同意后生效）' in page
    # the page shows before and after side by side
    page = world.client_for("county").get(LIST).content.decode()
    assert f'id="change-{change.pk}"' in page
    assert '<td data-testid="before">H520101001001</td><td data-testid="after">H520101001002</td>' in page
    # a different destination replaces the pending proposal: submitted (again), not "the same"
    third = HouseholdFactory(village_id="520101001001")
    MemberFactory(household=third, relation=Relation.HEAD)
    H3 = third.household_no
    moved = run(tmp_path, world, "members", [member_row(son, 户编号=H3, 与户主关系="之子", 姓名="张三丰")])
    assert (moved.extra["changes_pending"], "changes_again" in moved.extra) == (1, False)
    assert "1 条已提交县级审核" in moved.summary()
    change.refresh_from_db()
    assert (HouseholdChange.objects.count(), change.target_household.household_no) == (1, H3)  # type: ignore[union-attr]
    assert len(audit(change, "propose")) == 2
    back = run(tmp_path, world, "members", rows)  # and the first file once more: H2 again
    assert (back.extra["changes_pending"], "changes_again" in back.extra) == (1, False)
    change.refresh_from_db()
    assert (change.target_household.household_no, len(audit(change, "propose"))) == (H2, 3)  # type: ignore[union-attr]

    county = world.client_for("county")
    assert decide(county, change, "accept") == 302
    son.refresh_from_db()
    assert (son.household.household_no, son.relation) == (H2, Relation.SON)
    change.refresh_from_db()
    assert (change.state, change.decided_by) == (ChangeState.ACCEPTED, world.users["county"])
    assert [a.to_state for a in audit(change, "accept")] == [ChangeState.ACCEPTED]
    # a second submit of the same button: refused, applied once
    assert decide(county, change, "accept") == 409
    assert decide(county, change, "reject", reason="重复") == 409
    assert len(audit(change, "accept")) == 1 and not audit(change, "reject")


def test_reject_needs_a_reason_and_leaves_the_member(tmp_path: Path, world: World) -> None:
    son = MemberFactory(household=world.households["520101001001"], relation=Relation.SON)
    assert run(tmp_path, world, "members", [member_row(son, 户编号=H2)]).ok
    change = HouseholdChange.objects.get()
    county = world.client_for("county")
    assert decide(county, change, "reject", reason="  ") == 400
    change.refresh_from_db()
    assert change.state == ChangeState.PENDING and not audit(change, "reject")
    assert decide(county, change, "reject", reason="户籍未迁，不予分户") == 302
    change.refresh_from_db()
    son.refresh_from_db()
    assert (change.state, change.decision_reason) == (ChangeState.REJECTED, "户籍未迁，不予分户")
    assert son.household.household_no == H1
    assert [a.reason for a in audit(change, "reject")] == ["户籍未迁，不予分户"]
    assert decide(county, change, "accept") == 409
    # a rejection without reason cannot be stored at all
    with pytest.raises(IntegrityError), transaction.atomic():
        HouseholdChange.objects.filter(pk=change.pk).update(decision_reason="")


def test_other_regions_neither_see_nor_decide(tmp_path: Path, world: World) -> None:
    home = world.households["520101002001"]  # township 002 of county 520101
    moved = MemberFactory(household=home, relation=Relation.SON)
    target = HouseholdFactory(village=home.village)
    MemberFactory(household=target, relation=Relation.HEAD)
    assert run(tmp_path, world, "members", [member_row(moved, 户编号=target.household_no)]).ok
    change = HouseholdChange.objects.get()
    region("520102000000")
    other_county = Client()
    other_county.force_login(user("county2", Role.COUNTY, "520102000000"))
    assert f'id="change-{change.pk}"' not in other_county.get(LIST).content.decode()
    assert decide(other_county, change, "accept") == 404
    township = world.client_for("township")  # township 001: not this one
    assert f'id="change-{change.pk}"' not in township.get(LIST).content.decode()
    assert decide(township, change, "accept") == 403
    # the village of the change sees it, read-only
    region("520101002001")
    village = Client()
    village.force_login(user("village2", Role.VILLAGE, "520101002001"))
    page = village.get(LIST).content.decode()
    assert f'id="change-{change.pk}"' in page and 'data-testid="accept"' not in page
    assert decide(village, change, "accept") == 403
    change.refresh_from_db()
    assert change.state == ChangeState.PENDING
    assert world.client_for("county").get(LIST).content.decode().count('data-testid="accept"') == 1


def test_household_type_change_via_import_is_pending(tmp_path: Path, world: World) -> None:
    hh = world.households["520101001001"]
    row = {"户编号": H1, "村级区划代码": "520101001001", "户类型": "脱贫户", "脱贫年度": 2019, "住址": "一组 3 号"}
    result = run(tmp_path, world, "households", [row])
    assert result.ok, result.errors
    assert (result.updated, result.extra["changes_pending"]) == (1, 1)  # the address is written
    hh.refresh_from_db()
    assert (hh.household_type, hh.exit_year, hh.address) == ("GENERAL", None, "一组 3 号")
    change = HouseholdChange.objects.get()
    assert (change.kind, change.member_id) == (ChangeKind.TYPE, None)
    page = world.client_for("county").get(LIST).content.decode()
    assert "一般农户</td>" in page and "脱贫户（2019 年脱贫）</td>" in page
    assert decide(world.client_for("county"), change, "accept") == 302
    hh.refresh_from_db()
    assert (hh.household_type, hh.exit_year) == ("EXITED", 2019)
    assert len(audit(change, "accept")) == 1


def test_death_via_import_is_pending_then_marks_the_member(tmp_path: Path, world: World) -> None:
    hh = world.households["520101001001"]
    father = MemberFactory(household=hh, relation=Relation.FATHER)
    spent = ExpenditureFactory(household=hh, member=father)
    result = run(tmp_path, world, "members", [member_row(father, 成员状态="死亡", 姓名="不写入")])
    assert result.ok, result.errors
    # the row writes nothing (its death waits for the county): counted 待县级审核, not 未变化
    assert (result.updated, result.unchanged, result.extra["rows_pending"], result.extra["changes_pending"]) == (
        0,
        0,
        1,
        1,
    )
    assert "共 1 行，新增 0 行，更新 0 行，未变化 0 行，待县级审核 1 行" in result.summary()
    father.refresh_from_db()
    assert father.name != "不写入"
    change = HouseholdChange.objects.get()
    assert change.kind == ChangeKind.REMOVAL
    assert decide(world.client_for("county"), change, "accept") == 302
    # since 2026-12-04 the member is kept as 死亡 (decision record 2026-12-04-member-departure.md)
    father.refresh_from_db()
    assert (father.status, father.departed_on, father.departure_change_id) == (
        MemberStatus.DECEASED,
        timezone.localdate(),
        change.pk,
    )
    spent.refresh_from_db()
    assert (spent.household_id, spent.member_id) == (hh.pk, father.pk)  # the expense keeps its person
    change.refresh_from_db()
    assert (change.state, change.member_id, change.before["name"]) == (ChangeState.ACCEPTED, father.pk, father.name)
    # a death of nobody the registry knows is an error naming the row
    stranger = MemberFactory.build(household=hh, id_number=make_id_number())
    bad = run(tmp_path, world, "members", [member_row(stranger, 成员状态="注销")])
    assert [(e.row, e.column, e.message) for e in bad.errors] == [
        (2, "成员状态", "系统中没有该身份证号的家庭成员，不能登记为死亡或注销。")
    ]


def test_a_move_into_an_empty_household_is_a_split_and_dry_run_writes_none(tmp_path: Path, world: World) -> None:
    son = MemberFactory(household=world.households["520101001001"], relation=Relation.SON)
    new_home = HouseholdFactory(village_id="520101001001")
    rows = [member_row(son, 户编号=new_home.household_no, 与户主关系="户主")]
    dry = run(tmp_path, world, "members", rows, dry_run=True)
    assert dry.extra["changes_pending"] == 1 and "将提交县级审核" in dry.summary()
    assert not HouseholdChange.objects.exists()
    assert run(tmp_path, world, "members", rows).ok
    change = HouseholdChange.objects.get()
    assert change.kind == ChangeKind.SPLIT
    assert decide(world.client_for("county"), change, "accept") == 302
    son.refresh_from_db()
    assert (son.household_id, son.relation) == (new_home.pk, Relation.HEAD)


def test_a_head_moving_out_keeps_the_household_head_until_accepted(tmp_path: Path, world: World) -> None:
    head = world.households["520101001001"].members.get()
    wife = MemberFactory(household=world.households["520101001001"], relation=Relation.SPOUSE)
    new_home = HouseholdFactory(village_id="520101001001")
    rows = [member_row(head, 户编号=new_home.household_no, 与户主关系="户主"), member_row(wife, 与户主关系="户主")]
    result = run(tmp_path, world, "members", rows)
    assert [(e.row, e.message) for e in result.errors] == [
        (
            3,
            f"户编号 {H1} 的现户主（身份证号 {head.id_number[:6]}********{head.id_number[-4:]}）"
            "迁出、死亡或注销须经县级审核，审核同意前不能为该户指定新户主。",
        )
    ]
    assert not HouseholdChange.objects.exists()


def test_a_registry_changed_since_the_proposal_is_refused(tmp_path: Path, world: World) -> None:
    son = MemberFactory(household=world.households["520101001001"], relation=Relation.SON)
    assert run(tmp_path, world, "members", [member_row(son, 户编号=H2)]).ok
    change = HouseholdChange.objects.get()
    Member.objects.filter(pk=son.pk).update(household=world.households["520101002001"])
    assert decide(world.client_for("county"), change, "accept") == 400
    change.refresh_from_db()
    assert change.state == ChangeState.PENDING and not audit(change, "accept")


def test_pending_changes_are_on_the_county_todo(tmp_path: Path, world: World) -> None:
    son = MemberFactory(household=world.households["520101001001"], relation=Relation.SON)
    assert run(tmp_path, world, "members", [member_row(son, 户编号=H2)]).ok
    page = world.client_for("county").get("/", follow=True).content.decode()
    assert 'data-testid="todo-household_changes"' in page
    assert f'href="{LIST}?state=PENDING"' in page


def born(county: str, birth: dt.date, seq: int) -> str:
    first17 = f"{county}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_digit(first17)


def test_likely_duplicates_are_listed_masked(world: World) -> None:
    birth = dt.date(1975, 3, 9)
    a = MemberFactory(household=world.households["520101001001"], name="李四", id_number=born("520101", birth, 901))
    b = MemberFactory(household=world.households["520101002001"], name="李四", id_number=born("522101", birth, 902))
    # same name and birth in another county, and a namesake born another day: not listed
    MemberFactory(household=world.households["520102001001"], name="李四", id_number=born("520102", birth, 903))
    MemberFactory(household=world.households["520101001002"], name="李四", id_number=make_id_number())
    page = world.client_for("county").get(reverse("monitoring:duplicate_persons")).content.decode()
    assert page.count('data-testid="duplicate-row"') == 2
    assert "1975-03-09" in page
    for m in (a, b):
        assert m.id_number not in page
        assert f"{m.id_number[:6]}********{m.id_number[-4:]}" in page
    # roles that see numbers masked get no page: see the next test
    assert world.client_for("township").get(reverse("monitoring:duplicate_persons")).status_code == 403


def test_constraints_keep_one_pending_move_per_member(world: World) -> None:
    son = MemberFactory(household=world.households["520101001001"], relation=Relation.SON)
    fields = {
        "kind": ChangeKind.MOVE,
        "household": world.households["520101001001"],
        "target_household": world.households["520101001002"],
        "member": son,
        "region_code": "520101001001",
        "source": "IMPORT",
    }
    HouseholdChange.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        HouseholdChange.objects.create(**{**fields, "kind": ChangeKind.SPLIT})
    with pytest.raises(IntegrityError), transaction.atomic():
        HouseholdChange.objects.create(**{**fields, "kind": "WHATEVER"})
    with pytest.raises(IntegrityError), transaction.atomic():
        HouseholdChange.objects.create(**{**fields, "target_household": world.households["520101001001"]})


@pytest.mark.django_db
def test_demo_has_pending_changes_and_a_likely_duplicate() -> None:
    from assistance.services.demo import demo_deaths_accept
    from fanpin.core.models import User
    from monitoring.selectors.household_changes import duplicate_persons
    from monitoring.services.demo import demo_generate

    demo_generate(households=60, seed=7)
    county = User.objects.get(username="county")
    assert sorted(HouseholdChange.objects.for_user(county).pending().values_list("kind", flat=True)) == [
        ChangeKind.MOVE,
        ChangeKind.REMOVAL,
        ChangeKind.REMOVAL,
        ChangeKind.TYPE,
    ]
    assert len(duplicate_persons(user=county)) >= 1
    page = Client()
    page.force_login(User.objects.get(username="village"))
    assert page.get(LIST).content.decode().count('data-testid="change-card"') == 4
    # demo_workflow has the county accept the two deaths: an adult and a 户主 become departed members
    assert demo_deaths_accept(county=county) == 2
    departed = Member.objects.departed()
    assert sorted(departed.values_list("relation", flat=True)) != [] and departed.count() == 2
    assert departed.filter(relation=Relation.HEAD).count() == 1
    assert page.get(LIST).content.decode().count('data-testid="change-card"') == 2


def test_death_of_a_member_with_a_matched_roster_line_and_alert(tmp_path: Path, world: World) -> None:
    """The matched 民政 line of a member who dies becomes 未匹配 (scoped back to its submitting
    unit), audited, in the accept's transaction; since 2026-12-04 the member is kept (死亡) and a
    department alert stays matched to them (the spending was the household's)."""
    from monitoring.models import AlertStatus, AssistanceEntry, DepartmentAlert

    hh = world.households["520101001001"]
    father = MemberFactory(household=hh, relation=Relation.FATHER)
    line = AssistanceEntry.objects.create(
        id_number=father.id_number,
        name=father.name,
        category="SUBSISTENCE",
        start_date=dt.date(2026, 1, 1),
        member=father,
        status=AlertStatus.MATCHED,
        region_code=hh.village_id,
        scope_code="520101000000",
    )
    alert = DepartmentAlert.objects.create(
        id_number=father.id_number,
        name=father.name,
        alert_type="MEDICAL",
        alert_date=dt.date(2026, 5, 1),
        department="医保局",
        member=father,
        status=AlertStatus.MATCHED,
        region_code=hh.village_id,
        scope_code="520101000000",
    )
    assert run(tmp_path, world, "members", [member_row(father, 成员状态="死亡")]).ok
    change = HouseholdChange.objects.get()
    assert decide(world.client_for("county"), change, "accept") == 302
    assert Member.objects.get(pk=father.pk).status == MemberStatus.DECEASED
    alert.refresh_from_db()
    assert (alert.member_id, alert.status, alert.region_code) == (father.pk, AlertStatus.MATCHED, hh.village_id)
    assert not AuditEntry.objects.filter(object_type="department_alert", action="member_removed").exists()
    for obj, object_type in ((line, "assistance_entry"),):
        obj.refresh_from_db()
        assert (obj.member_id, obj.status, obj.region_code) == (None, AlertStatus.UNMATCHED, "520101000000")
        rows = AuditEntry.objects.filter(object_type=object_type, object_id=str(obj.pk), action="member_removed")
        assert [(r.from_state, r.to_state, r.region_code) for r in rows] == [("MATCHED", "UNMATCHED", hh.village_id)]
        assert "死亡" in rows[0].reason
    assert len(audit(change, "accept")) == 1


def test_a_decided_change_is_refused_with_its_state_said_once(tmp_path: Path, world: World) -> None:
    son = MemberFactory(household=world.households["520101001001"], relation=Relation.SON)
    assert run(tmp_path, world, "members", [member_row(son, 户编号=H2)]).ok
    change = HouseholdChange.objects.get()
    county = world.client_for("county")
    assert decide(county, change, "accept") == 302
    response = county.post(reverse("monitoring:household_change_decide", args=[change.pk, "accept"]))
    assert response.status_code == 409
    assert "该变更已同意，不能重复审核。" in response.content.decode()
    assert "已已" not in response.content.decode()


@pytest.mark.parametrize(
    ("role", "sees_birth"),
    [("province", False), ("city", False), ("county", True), ("township", False), ("village", False), ("admin", True)],
)
def test_duplicates_only_for_roles_seeing_full_numbers(world: World, role: str, sees_birth: bool) -> None:
    """A group says that two masked numbers share their birth date — digits 7–14 of the 身份证号, the
    ones the mask hides — so a cadre who knows one person's birthday would learn the other's full
    number (SPEC §1: no answer may let a user learn a hidden character).  The page and its link are
    for the roles that may see full numbers; the others get 403 and no link."""
    village = world.households["520101001001"]
    late, early = dt.date(1980, 11, 23), dt.date(1975, 3, 9)
    # the later-born pair is registered first: the page orders by birth
    pairs = {}
    for birth, name, seq in ((late, "王五", 911), (early, "王五", 921)):
        pairs[birth] = [
            MemberFactory(household=village, name=name, id_number=born("520101", birth, seq + i)) for i in range(2)
        ]
    client = world.client_for(role)
    response = client.get(reverse("monitoring:duplicate_persons"))
    changes = client.get(reverse("monitoring:household_changes")).content.decode()
    assert ('data-testid="duplicates-link"' in changes) is sees_birth, role
    if not sees_birth:
        assert response.status_code == 403
        page = response.content.decode()
        for people in pairs.values():
            for m in people:
                assert m.id_number[-4:] not in page and m.name not in page
        return
    page = response.content.decode()
    assert page.count('data-testid="duplicate-row"') == 4
    for birth, people in pairs.items():
        assert birth.isoformat() in page
        for m in people:
            assert m.id_number not in page
            assert f"{m.id_number[:6]}********{m.id_number[-4:]}" in page
    first = {
        b: page.index(f"{people[0].id_number[:6]}********{people[0].id_number[-4:]}") for b, people in pairs.items()
    }
    assert first[early] < first[late]


def test_the_household_page_says_a_change_is_pending(tmp_path: Path, world: World) -> None:
    origin, target = world.households["520101001001"], world.households["520101001002"]
    son = MemberFactory(household=origin, relation=Relation.SON)
    assert run(tmp_path, world, "members", [member_row(son, 户编号=target.household_no)]).ok
    change = HouseholdChange.objects.get()

    def notice(role: str, household: Any) -> str:
        page = world.client_for(role).get(reverse("monitoring:household_detail", args=[household.pk])).content.decode()
        start = page.find('data-testid="pending-household-changes"')
        return "" if start < 0 else page[start : page.index("</p>", start)]

    for role, household in (("county", origin), ("county", target), ("township", origin), ("village", origin)):
        text = notice(role, household)
        assert "有待县级审核的农户变更" in text, (role, household)
        assert f'href="{LIST}"' in text
    assert notice("county", world.households["520101002001"]) == ""  # a household the change does not name
    assert decide(world.client_for("county"), change, "accept") == 302
    assert notice("county", origin) == notice("county", target) == ""


def test_an_accepted_death_stays_out_of_the_registry_on_later_imports(tmp_path: Path, world: World) -> None:
    """The county's monthly file keeps listing a dead member (成员状态 死亡): unchanged, nothing
    written; the same person with the status empty is refused naming the row, nothing written."""
    hh = world.households["520101001001"]
    father = MemberFactory(household=hh, relation=Relation.FATHER)
    other = MemberFactory(household=hh, relation=Relation.SON)
    dead = member_row(father, 成员状态="死亡")
    assert run(tmp_path, world, "members", [dead]).ok
    change = HouseholdChange.objects.get()
    assert change.before["id_number"] == father.id_number
    assert decide(world.client_for("county"), change, "accept") == 302
    change.refresh_from_db()
    audits, members = AuditEntry.objects.count(), Member.objects.count()

    again = run(tmp_path, world, "members", [dead, member_row(other)])
    assert again.ok, again.errors
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert again.extra.get("changes_pending", 0) == 0
    assert Member.objects.get(id_number=father.id_number).status == MemberStatus.DECEASED  # kept, unchanged
    assert HouseholdChange.objects.count() == 1

    back = run(tmp_path, world, "members", [member_row(other, 姓名="改名"), member_row(father, 成员状态=None)])
    day = timezone.localdate(change.decided_at)
    assert [(e.row, e.column, e.message) for e in back.errors] == [
        (
            3,
            "成员状态",
            f"该成员已于 {day:%Y-%m-%d} 经县级审核登记为死亡（变更 {change.pk}），"
            "不能再作为在册成员导入；如属误报，请联系县级核实。",
        )
    ]
    assert Member.objects.get(id_number=father.id_number).status == MemberStatus.DECEASED  # no resurrection
    other.refresh_from_db()
    assert other.name != "改名"  # the import wrote nothing
    assert (AuditEntry.objects.count(), Member.objects.count()) == (audits, members)


def test_an_exit_year_change_alone_is_pending(tmp_path: Path, world: World) -> None:
    hh = world.households["520101001001"]
    hh.household_type, hh.exit_year = "EXITED", 2019
    hh.save(update_fields=["household_type", "exit_year"])
    row = {"户编号": H1, "村级区划代码": "520101001001", "户类型": "脱贫户", "脱贫年度": 2020}
    result = run(tmp_path, world, "households", [row])
    assert result.ok, result.errors
    assert result.extra["changes_pending"] == 1
    hh.refresh_from_db()
    assert hh.exit_year == 2019
    change = HouseholdChange.objects.get()
    assert (change.kind, change.state, change.after["exit_year"]) == (ChangeKind.TYPE, ChangeState.PENDING, 2020)
    assert run(tmp_path, world, "households", [{**row, "脱贫年度": 2019}]).extra.get("changes_pending", 0) == 0


def test_accepted_removals_are_looked_up_once_per_batch(tmp_path: Path, world: World) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    hh = world.households["520101001001"]
    gone = [MemberFactory(household=hh, relation=Relation.SON) for _ in range(3)]
    assert run(tmp_path, world, "members", [member_row(m, 成员状态="注销") for m in gone]).ok
    for change in HouseholdChange.objects.all():
        assert decide(world.client_for("county"), change, "accept") == 302
    # people an accepted removal deleted before 2026-12-04 are known by the change alone
    Member.objects.filter(pk__in=[m.pk for m in gone]).delete()
    with CaptureQueriesContext(connection) as queries:
        again = run(tmp_path, world, "members", [member_row(m, 成员状态="注销") for m in gone])
    assert again.ok and again.unchanged == 3, again.errors
    lookups = [q["sql"] for q in queries.captured_queries if "householdchange" in q["sql"] and "id_number" in q["sql"]]
    assert len(lookups) == 1


def test_a_dead_head_listed_beside_the_new_head(tmp_path: Path, world: World) -> None:
    """The head's death accepted, the next monthly file lists them (户主, 死亡) and the new 户主:
    the new head is written, the dead one stays out.  While the death is pending, the same file is
    refused saying the head's death waits for the county."""
    hh = HouseholdFactory(village=region("520101001001"), household_no="H520101001077")
    head = MemberFactory(household=hh, relation=Relation.HEAD)
    son = MemberFactory(household=hh, relation=Relation.SON)
    monthly = [member_row(head, 成员状态="死亡"), member_row(son, 与户主关系="户主")]
    pending = run(tmp_path, world, "members", monthly)
    assert [(e.row, e.column) for e in pending.errors] == [(3, "与户主关系")]
    assert "须经县级审核" in pending.errors[0].message
    assert run(tmp_path, world, "members", [member_row(head, 成员状态="死亡")]).ok
    assert decide(world.client_for("county"), HouseholdChange.objects.get(), "accept") == 302
    after = run(tmp_path, world, "members", monthly)
    assert after.ok, after.errors
    son.refresh_from_db()
    assert son.relation == Relation.HEAD
    head.refresh_from_db()  # kept as recorded: 户主, 死亡 (no current head besides the son)
    assert (head.relation, head.status) == (Relation.HEAD, MemberStatus.DECEASED)


def test_audit_rows_keep_the_number_masked(tmp_path: Path, world: World) -> None:
    """The change keeps the 身份证号 of a 死亡/注销 (later imports recognise the person by it); its
    audit rows (propose, accept) keep it masked, as every stored copy outside the registry."""
    son = MemberFactory(household=world.households["520101001001"], relation=Relation.SON)
    assert run(tmp_path, world, "members", [member_row(son, 成员状态="死亡")]).ok
    change = HouseholdChange.objects.get()
    assert change.before["id_number"] == son.id_number
    assert decide(world.client_for("county"), change, "accept") == 302
    rows = AuditEntry.objects.filter(object_type="household_change", object_id=str(change.pk))
    assert rows.count() == 2
    for row in rows:
        assert son.id_number not in json.dumps(row.data, ensure_ascii=False)
        assert row.data["before"]["id_number"] == f"{son.id_number[:6]}********{son.id_number[-4:]}"
