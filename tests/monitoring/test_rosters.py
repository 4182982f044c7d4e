"""Issue 19 item 2: 民政 rosters by Excel upload — match, unmatched kept, idempotent re-send,
scoping, a 民政 user sees only its own lines, audit rows, and the status beside the household type."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from fanpin.core.models import AuditEntry
from fanpin.core.roles import Department, Role
from monitoring.models import AlertStatus, AssistanceCategory, AssistanceEntry, ImportKind, Member
from monitoring.selectors.imports import import_kinds_for
from monitoring.selectors.rosters import household_assistance_labels, rosters_visible
from monitoring.services.imports.pipeline import ImportResult, import_run
from tests.conftest import World
from tests.factories import make_id_number, user
from tests.monitoring.xlsx import kind_sheet

pytestmark = pytest.mark.django_db
KIND = "assistance_roster"
VILLAGE = "520101001001"
OTHER_COUNTY_VILLAGE = "520102001001"


def head(world: World, village: str = VILLAGE) -> str:
    return world.households[village].members.get().id_number


def registered_name(id_number: str) -> str:
    """The name a member of that number is registered under (a roster line names the person)."""
    return Member.objects.filter(id_number=id_number).values_list("name", flat=True).first() or "张三"


def row(id_number: str, **over: Any) -> dict[str, Any]:
    return {
        "身份证号": id_number,
        "姓名": registered_name(id_number),
        "救助类别": "低保",
        "开始日期": "2026-01-01",
        "结束日期": None,
        "月救助金额": 450,
        **over,
    }


def minzheng(world: World, name: str = "minzheng", region: str = "520101000000") -> Any:
    if name not in world.users:
        world.users[name] = user(name, Role.DEPT, region, department=Department.CIVIL_AFFAIRS)
    return world.users[name]


def run(tmp_path: Path, actor: Any, rows: list[dict[str, Any]], name: str = "roster") -> ImportResult:
    path = kind_sheet(tmp_path / f"{name}.xlsx", KIND, rows)
    return import_run(kind=KIND, source=str(path), user=actor)


def test_matched_and_unmatched_lines(tmp_path: Path, world: World) -> None:
    stranger = make_id_number()
    result = run(tmp_path, minzheng(world), [row(head(world)), row(stranger, 救助类别="特困")])
    assert result.ok, result.errors
    assert (result.created, result.extra["roster_matched"], result.extra["roster_unmatched"]) == (2, 1, 1)
    matched = AssistanceEntry.objects.get(id_number=head(world))
    assert matched.status == AlertStatus.MATCHED and matched.member is not None
    assert matched.member.household == world.households[VILLAGE]
    assert matched.monthly_amount == Decimal("450.00") and matched.region_code == VILLAGE
    # an unmatched line is kept for the county (its region), never dropped
    kept = AssistanceEntry.objects.get(id_number=stranger)
    assert (kept.status, kept.member, kept.region_code) == (AlertStatus.UNMATCHED, None, "520101000000")
    county = rosters_visible(user=world.users["county"])
    assert set(county.values_list("id_number", flat=True)) == {head(world), stranger}
    assert "未匹配 1 条" in result.summary(for_department=True)


def test_idempotent_resend_changes_nothing(tmp_path: Path, world: World) -> None:
    actor = minzheng(world)
    rows = [row(head(world)), row(make_id_number(), 救助类别="低保边缘", 月救助金额=None)]
    first = run(tmp_path, actor, rows, "first")
    before = list(AssistanceEntry.objects.order_by("pk").values())
    audits = AuditEntry.objects.filter(object_type="assistance_entry").count()
    again = run(tmp_path, actor, rows, "again")
    assert (first.created, again.created, again.updated, again.unchanged) == (2, 0, 0, 2)
    assert list(AssistanceEntry.objects.order_by("pk").values()) == before
    assert AuditEntry.objects.filter(object_type="assistance_entry").count() == audits == 2


def test_status_change_is_an_update_with_an_audit_row(tmp_path: Path, world: World) -> None:
    actor = minzheng(world)
    run(tmp_path, actor, [row(head(world))], "first")
    changed = run(tmp_path, actor, [row(head(world), 结束日期="2026-06-30")], "ended")
    assert (changed.created, changed.updated) == (0, 1)
    entry = AssistanceEntry.objects.get()
    assert entry.end_date == dt.date(2026, 6, 30)
    audit = AuditEntry.objects.filter(object_type="assistance_entry", action="roster_update").get()
    assert audit.object_id == str(entry.pk) and audit.region_code == VILLAGE
    assert audit.from_state == "低保（已匹配）" and audit.to_state == "低保（已匹配，至 2026-06-30）"
    assert audit.actor == actor


def test_other_region_is_not_matched_and_not_revealed(tmp_path: Path, world: World) -> None:
    """A county's 民政 sends the 身份证号 of a person registered in the neighbouring county: the line
    is 未匹配 exactly as for a person nobody registered — the answer tells nothing."""
    outside, nobody = head(world, OTHER_COUNTY_VILLAGE), make_id_number()
    result = run(tmp_path, minzheng(world), [row(outside), row(nobody)])
    assert result.ok and result.extra == {"roster_matched": 0, "roster_unmatched": 2}
    lines = {e.id_number: e for e in AssistanceEntry.objects.all()}
    assert lines[outside].status == lines[nobody].status == AlertStatus.UNMATCHED
    assert lines[outside].member is None and lines[outside].region_code == "520101000000"
    # the neighbouring county neither sees the line nor gets a status for its household
    assert not rosters_visible(user=user("c2", Role.COUNTY, "520102000000")).exists()
    assert household_assistance_labels(household_ids=[world.households[OTHER_COUNTY_VILLAGE].pk]) == {}


def test_department_sees_only_its_own_lines(tmp_path: Path, world: World) -> None:
    own, other_unit = minzheng(world), minzheng(world, "minzheng2", "520102000000")
    run(tmp_path, own, [row(head(world))], "own")
    run(tmp_path, other_unit, [row(head(world, OTHER_COUNTY_VILLAGE), 救助类别="特困")], "other")
    assert list(rosters_visible(user=own).values_list("category", flat=True)) == [AssistanceCategory.SUBSISTENCE]
    assert list(rosters_visible(user=other_unit).values_list("category", flat=True)) == [AssistanceCategory.DESTITUTE]
    # another department (医保) sees none; the county sees its region's
    assert not rosters_visible(user=world.users["dept"]).exists()
    assert rosters_visible(user=world.users["county"]).count() == 1
    # the page: its own submitted name, masked 身份证号 and source row; never the household's data
    # nor another unit's lines
    run(tmp_path, own, [row(make_id_number(), 姓名="查无此人")], "own2")
    run(tmp_path, other_unit, [row(make_id_number(), 姓名="外县报送人")], "other2")
    client = Client()
    client.force_login(own)
    html = client.get("/monitoring/rosters/").content.decode()
    assert "已匹配" in html and "H520101001001" not in html
    own_line = AssistanceEntry.objects.get(name="查无此人")
    assert "查无此人" in html and own_line.id_number not in html
    assert f"{own_line.id_number[:6]}********{own_line.id_number[-4:]}" in html
    assert own_line.source_row == 2 and "文件第 2 行" in html  # a command's file: no upload job
    assert "外县报送人" not in html and "特困" not in html.split('data-testid="roster-table"')[1]
    county_html = world.client_for("county").get("/monitoring/rosters/").content.decode()
    assert "H520101001001" in county_html


def test_who_may_upload_rosters(tmp_path: Path, world: World) -> None:
    assert ImportKind.ASSISTANCE_ROSTER in dict(import_kinds_for(user=minzheng(world)))
    assert ImportKind.ASSISTANCE_ROSTER not in dict(import_kinds_for(user=world.users["dept"]))
    refused = run(tmp_path, world.users["dept"], [row(head(world))])
    assert not refused.ok and "民政" in refused.errors[0].message
    assert not AssistanceEntry.objects.exists()


def test_bad_dates_name_the_row_and_write_nothing(tmp_path: Path, world: World) -> None:
    result = run(
        tmp_path,
        minzheng(world),
        [row(head(world)), row(make_id_number(), 开始日期="2026-05-01", 结束日期="2026-04-01")],
    )
    assert not result.ok
    assert [(e.row, e.column) for e in result.errors] == [(3, "结束日期")]
    assert not AssistanceEntry.objects.exists()


def test_status_beside_the_household_type(tmp_path: Path, world: World) -> None:
    today = dt.date.today()
    run(tmp_path, minzheng(world), [row(head(world), 开始日期=(today - dt.timedelta(days=30)).isoformat())])
    hh = world.households[VILLAGE]
    html = world.client_for("county").get(f"/monitoring/households/{hh.pk}/").content.decode()
    assert "社会救助：低保" in html and 'data-testid="assistance-table"' in html
    # an ended line is no current status
    AssistanceEntry.objects.update(end_date=today - dt.timedelta(days=1))
    assert household_assistance_labels(household_ids=[hh.pk]) == {}


def test_queue_filter_lead_page_and_exports_show_the_status(tmp_path: Path, world: World) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    from monitoring.services.exports_leads import leads_export
    from tests.factories import LeadFactory

    start = (dt.date.today() - dt.timedelta(days=10)).isoformat()
    run(tmp_path, minzheng(world), [row(head(world), 开始日期=start, 救助类别="特困")])
    with_status = LeadFactory(household=world.households[VILLAGE])
    without = LeadFactory(household=world.households["520101001002"])
    client = world.client_for("county")
    listed = client.get("/monitoring/leads/", {"state": "ALL", "assistance": "DESTITUTE"}).content.decode()
    assert f"/monitoring/leads/{with_status.pk}/" in listed and f"/monitoring/leads/{without.pk}/" not in listed
    none = client.get("/monitoring/leads/", {"state": "ALL", "assistance": "NONE"}).content.decode()
    assert f"/monitoring/leads/{with_status.pk}/" not in none and f"/monitoring/leads/{without.pk}/" in none
    assert "社会救助：特困" in client.get(f"/monitoring/leads/{with_status.pk}/").content.decode()
    out = BytesIO()
    leads_export(user=world.users["county"], output=out)
    out.seek(0)
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    column = rows[0].index("社会救助")
    by_no = {r[0]: r[column] for r in rows[1:]}
    assert by_no == {f"H{VILLAGE}": "特困", "H520101001002": None}


def test_minzheng_home_counts_its_lines(tmp_path: Path, world: World) -> None:
    from assistance.selectors.todo import home_todo

    own = minzheng(world)
    run(tmp_path, own, [row(head(world)), row(make_id_number())])
    items = {item.key: item for item in home_todo(user=own)}
    assert (items["rosters_submitted"].count, items["rosters_unmatched"].count) == (2, 1)
    client = Client()
    client.force_login(own)
    unmatched = client.get(items["rosters_unmatched"].url).content.decode()
    assert unmatched.count("✗ 未匹配") == 1 and "✓ 已匹配" not in unmatched
    assert "rosters_submitted" not in {item.key for item in home_todo(user=world.users["dept"])}  # 医保


def test_target_list_filter(tmp_path: Path, world: World) -> None:
    from tests.factories import TargetFactory

    start = (dt.date.today() - dt.timedelta(days=10)).isoformat()
    run(tmp_path, minzheng(world), [row(head(world), 开始日期=start, 救助类别="低保边缘")])
    with_status = TargetFactory(household=world.households[VILLAGE])
    without = TargetFactory(household=world.households["520101001002"])
    client = world.client_for("county")
    near = client.get("/monitoring/targets/", {"assistance": "NEAR_SUBSISTENCE"}).content.decode()
    assert f"/monitoring/targets/{with_status.pk}/" in near and f"/monitoring/targets/{without.pk}/" not in near
    any_ = client.get("/monitoring/targets/", {"assistance": "ANY"}).content.decode()
    assert f"/monitoring/targets/{without.pk}/" not in any_


def test_upload_page_links_to_the_match_results(tmp_path: Path, world: World) -> None:
    from monitoring.services.imports.jobs import import_file

    own = minzheng(world)
    path = kind_sheet(tmp_path / "r.xlsx", KIND, [row(head(world)), row(make_id_number())])
    job, result = import_file(kind=KIND, source=str(path), file_name="r.xlsx", user=own, dry_run=False)
    assert result.ok
    client = Client()
    client.force_login(own)
    html = client.get(f"/monitoring/imports/{job.pk}/").content.decode()
    assert "匹配到家庭成员 1 条、未匹配 1 条" in html and 'data-testid="roster-results"' in html
    assert AssistanceEntry.objects.filter(source_job=job).count() == 2  # each line keeps its roster row
    assert sorted(AssistanceEntry.objects.values_list("source_row", flat=True)) == [2, 3]  # as Excel numbers them


def test_a_name_that_is_not_the_members_is_not_matched(tmp_path: Path, world: World) -> None:
    """A typo in the 身份证号 must not give 低保 to another family: the number is a member's in scope
    but the name differs — kept 未匹配 for the county with the reason, the registered name never shown
    to 民政."""
    id_number = head(world)
    registered = registered_name(id_number)
    actor = minzheng(world)
    result = run(tmp_path, actor, [row(id_number, 姓名="李错名"), row(id_number, 救助类别="特困")])
    assert result.ok, result.errors
    wrong = AssistanceEntry.objects.get(category=AssistanceCategory.SUBSISTENCE)
    right = AssistanceEntry.objects.get(category=AssistanceCategory.DESTITUTE)
    assert (wrong.status, wrong.member, wrong.unmatched_reason) == (AlertStatus.UNMATCHED, None, "NAME_MISMATCH")
    assert right.status == AlertStatus.MATCHED and right.unmatched_reason == ""
    assert household_assistance_labels(household_ids=[world.households[VILLAGE].pk]) == {
        world.households[VILLAGE].pk: "特困"
    }
    county_html = world.client_for("county").get("/monitoring/rosters/?status=UNMATCHED").content.decode()
    assert "李错名" in county_html and "姓名与身份证号不符" in county_html
    client = Client()
    client.force_login(actor)
    html = client.get("/monitoring/rosters/?status=UNMATCHED").content.decode()
    assert "李错名" in html and registered not in html
    assert "姓名与身份证号不符" not in html  # 民政 sees 未匹配 only, as for a number nobody registered
    # full-width spaces or a full-width name are the same name; a corrected resend matches
    run(tmp_path, actor, [row(id_number, 姓名=f" {registered} ")], "fixed")
    wrong.refresh_from_db()
    assert (wrong.status, wrong.unmatched_reason) == (AlertStatus.MATCHED, "")


@pytest.mark.parametrize("amount", ["1e9", 9999999999.99, 100000.01])
def test_an_implausible_monthly_amount_is_refused_naming_the_row(tmp_path: Path, world: World, amount: Any) -> None:
    result = run(tmp_path, minzheng(world), [row(head(world)), row(make_id_number(), 月救助金额=amount)])
    assert not result.ok
    text = " ".join(str(e) for e in result.errors)
    assert "月救助金额" in text and "3" in text
    assert not AssistanceEntry.objects.exists()


@pytest.mark.parametrize("role", ["province", "city", "county"])
def test_work_lists_link_the_roster_page_only_for_who_may_open_it(world: World, role: str) -> None:
    """Leaders reach the two work lists from the dashboard but not the roster page: their breadcrumb
    names it without a link to a 403 (the county's links it)."""
    client = world.client_for(role)
    roster = reverse("monitoring:roster_list")
    may_open = client.get(roster).status_code == 200
    assert may_open is (role == "county")
    for name in ("monitoring:roster_uncovered", "monitoring:roster_unvisited"):
        page = client.get(reverse(name)).content.decode()
        assert "民政救助名单" in page
        assert (f'href="{roster}"' in page) is may_open, (role, name)
