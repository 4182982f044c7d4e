"""公告 of a township and period: the three groups, the period's edges in Beijing time, the province's
不予纳入 setting, no personal data on the page or in the sheet, scoping, fixed query count."""

from __future__ import annotations

import datetime as dt
import io
import re
import zoneinfo
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from assistance.models import EliminationProposal, MeasureStatus, ProposalMethod, ProposalState
from assistance.selectors.announcements import (
    announcement_build,
    announcement_period_default,
    announcement_period_last_month,
    announcement_township,
)
from fanpin.core.models import AccessLog, AuditEntry, User
from fanpin.core.scoping import ObjectOutOfScope
from monitoring.models import (
    Household,
    Lead,
    LeadState,
    Member,
    MonitoringTarget,
    ProcedureSetting,
    RejectionCategory,
    TargetCategory,
    TargetStatus,
)
from tests.assistance.factories import ProposalFactory, TargetMeasureFactory, measure
from tests.conftest import World
from tests.factories import HouseholdFactory, LeadFactory, MemberFactory, TargetFactory, make_id_number, region

pytestmark = pytest.mark.django_db

BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")
TOWNSHIP = "520101001000"
START, END = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
IN_PERIOD = dt.datetime(2026, 11, 15, 10, 0, tzinfo=BEIJING)


def _url(name: str, code: str = TOWNSHIP, start: dt.date = START, end: dt.date = END) -> str:
    return reverse(f"assistance:{name}", args=[code]) + f"?start={start.isoformat()}&end={end.isoformat()}"


def confirmed(household: Household, at: dt.datetime, category: str = TargetCategory.SUDDEN_HARDSHIP) -> Lead:
    lead = LeadFactory(household=household, state=LeadState.CONFIRMED, decided_at=at)
    TargetFactory(household=household, lead=lead, category=category, identified_on=at.date())
    return lead


def rejected(household: Household, at: dt.datetime) -> Lead:
    return LeadFactory(
        household=household,
        state=LeadState.REJECTED,
        decided_at=at,
        rejection_reason="家庭收入已恢复，经核实年收入 52000 元",
        rejection_category=RejectionCategory.INCOME_ABOVE_LINE,
    )


def eliminated(household: Household, at: dt.datetime, method: str = ProposalMethod.NATURAL) -> MonitoringTarget:
    target = TargetFactory(
        household=household,
        status=TargetStatus.ELIMINATED,
        elimination_method=method,
        eliminated_on=at.date(),
        risk_types=["ILLNESS", "DISABILITY"],
    )
    ProposalFactory(target=target, state=ProposalState.CONFIRMED, method=method, decided_at=at, proposed_by=_proposer())
    return target


def _proposer() -> User:
    return User.objects.get(username="village")


def announce_rejections(on: bool = True, province: str = "520000000000") -> None:
    ProcedureSetting.objects.update_or_create(province_code=province, defaults={"announce_rejections": on})


def build(world: World, role: str = "county", start: dt.date = START, end: dt.date = END) -> object:
    user = world.users[role]
    return announcement_build(user=user, township=announcement_township(user=user, code=TOWNSHIP), start=start, end=end)


# -- the groups ----------------------------------------------------------------------------------


def test_three_groups_with_village_head_family_size_and_category(world: World) -> None:
    a = world.households["520101001001"]
    b = world.households["520101001002"]
    MemberFactory(household=a, name="配偶甲")
    confirmed(a, IN_PERIOD, TargetCategory.EDGE_AT_RISK)
    eliminated(b, IN_PERIOD, ProposalMethod.ASSISTED)
    c = HouseholdFactory(village=a.village)
    MemberFactory(household=c, name="王不纳", relation=Member.Relation.HEAD)
    rejected(c, IN_PERIOD)
    announce_rejections()

    ann = build(world)

    assert [(r.village, r.head_name, r.family_size, r.label) for r in ann.identified] == [  # type: ignore[attr-defined]
        (a.village.name, "户主001001", 2, "边缘易致贫户")
    ]
    assert [(r.village, r.head_name, r.family_size, r.label) for r in ann.eliminated] == [  # type: ignore[attr-defined]
        (b.village.name, "户主001002", 1, "帮扶消除")
    ]
    assert [(r.head_name, r.label) for r in ann.rejected] == [("王不纳", "不予纳入")]  # type: ignore[attr-defined]
    assert ann.issuer == "区划520101001000人民政府"  # type: ignore[attr-defined]


def test_the_county_direct_confirmation_is_announced_with_the_category_the_county_chose(world: World) -> None:
    from monitoring.services.review import Decision, lead_confirm_direct

    household = world.households["520101001001"]
    lead = LeadFactory(household=household, suggested_category=TargetCategory.EDGE_AT_RISK)
    lead_confirm_direct(
        lead_id=lead.pk,
        actor=world.users["county"],
        decision=Decision(category=TargetCategory.SUDDEN_HARDSHIP, risk_types=["ILLNESS"]),
        reason="情况紧急",
    )
    today = timezone.localdate()
    # its 补办 of 核实、评议、公示 is still owed: the 公告 (which says the household went through
    # them) does not list it yet, and the page says so
    ann = build(world, start=today, end=today)
    assert ann.identified == [] and ann.awaiting_follow_up == 1  # type: ignore[attr-defined]
    page = world.client_for("county").get(_url("announcement", start=today, end=today)).content.decode()
    assert 'data-testid="announcement-awaiting"' in page and "先帮扶后认定" in page
    # the village completes it: listed in the 公告 of the period it was completed in
    from monitoring.models import FollowUp

    done_at = dt.datetime.combine(today + dt.timedelta(days=40), dt.time(10), tzinfo=BEIJING)
    FollowUp.objects.filter(target__lead=lead).update(state="DONE", completed_at=done_at)
    assert build(world, start=today, end=today).identified == []  # type: ignore[attr-defined]
    later = build(world, start=done_at.date(), end=done_at.date())
    assert [(r.head_name, r.label) for r in later.identified] == [("户主001001", "突发严重困难户")]  # type: ignore[attr-defined]
    assert later.awaiting_follow_up == 0  # type: ignore[attr-defined]
    # a 不同意 appraisal sent back to the county: not announced
    FollowUp.objects.filter(target__lead=lead).update(county_review=True)
    assert build(world, start=done_at.date(), end=done_at.date()).identified == []  # type: ignore[attr-defined]
    # the county keeps the identification (县级复核): listed in the 公告 of the day it answered
    reviewed_at = done_at + dt.timedelta(days=3)
    FollowUp.objects.filter(target__lead=lead).update(county_reviewed_at=reviewed_at, county_review_note="维持")
    assert build(world, start=done_at.date(), end=done_at.date()).identified == []  # type: ignore[attr-defined]
    answered = build(world, start=reviewed_at.date(), end=reviewed_at.date())
    assert [r.head_name for r in answered.identified] == ["户主001001"]  # type: ignore[attr-defined]


def test_rejections_are_listed_only_where_the_province_asks(world: World, client) -> None:  # type: ignore[no-untyped-def]
    rejected(world.households["520101001001"], IN_PERIOD)
    client.force_login(world.users["county"])

    ann = build(world)
    assert ann.rejected == [] and not ann.rejections_announced  # type: ignore[attr-defined]
    page = client.get(_url("announcement")).content.decode()
    assert "不予纳入" not in page and "户主001001" not in page

    announce_rejections(province="530000000000")  # another province's setting changes nothing here
    assert build(world).rejected == []  # type: ignore[attr-defined]

    announce_rejections()
    ann = build(world)
    assert [r.head_name for r in ann.rejected] == ["户主001001"]  # type: ignore[attr-defined]
    page = client.get(_url("announcement")).content.decode()
    assert "不予纳入" in page and "户主001001" in page
    assert "52000" not in page and "家庭收入高于监测标准" not in page  # never the reason


def test_open_and_refused_decisions_are_not_announced(world: World) -> None:
    h = world.households["520101001001"]
    LeadFactory(household=h, state=LeadState.REVIEWED)
    target = TargetFactory(household=h)
    ProposalFactory(
        target=target,
        state=ProposalState.REJECTED,
        decided_at=IN_PERIOD,
        rejection_reason="收入不稳",
        proposed_by=_proposer(),
    )
    ProposalFactory(
        target=TargetFactory(household=world.households["520101001002"]),
        state=ProposalState.PROPOSED,
        proposed_by=_proposer(),
    )
    ann = build(world)
    assert ann.is_empty  # type: ignore[attr-defined]


# -- the period ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decided_at", "listed"),
    [
        (dt.datetime(2026, 11, 1, 0, 0, tzinfo=BEIJING), True),  # first minute (UTC: 31 October 16:00)
        (dt.datetime(2026, 10, 31, 23, 59, 59, tzinfo=BEIJING), False),  # the day before
        (dt.datetime(2026, 11, 30, 23, 59, tzinfo=BEIJING), True),  # 23:59 Beijing on the last day
        (dt.datetime(2026, 12, 1, 0, 0, tzinfo=BEIJING), False),  # UTC still 30 November 16:00
        (dt.datetime(2026, 11, 30, 16, 30, tzinfo=dt.UTC), False),  # 1 December 00:30 in Beijing
        (dt.datetime(2026, 10, 31, 16, 30, tzinfo=dt.UTC), True),  # 1 November 00:30 in Beijing
    ],
)
def test_period_edges_are_beijing_dates(world: World, decided_at: dt.datetime, listed: bool) -> None:
    confirmed(world.households["520101001001"], decided_at)
    eliminated(world.households["520101001002"], decided_at)
    extra = HouseholdFactory(village=world.households["520101001001"].village)
    MemberFactory(household=extra, relation=Member.Relation.HEAD, name="不纳户")
    rejected(extra, decided_at)
    announce_rejections()
    ann = build(world)
    counts = (len(ann.identified), len(ann.eliminated), len(ann.rejected))  # type: ignore[attr-defined]
    assert counts == ((1, 1, 1) if listed else (0, 0, 0))


def test_a_row_says_the_beijing_date_it_was_decided(world: World) -> None:
    confirmed(world.households["520101001001"], dt.datetime(2026, 11, 30, 23, 59, tzinfo=BEIJING))
    assert build(world).identified[0].decided_on == dt.date(2026, 11, 30)  # type: ignore[attr-defined]


def test_default_period_is_this_month_to_date() -> None:
    assert announcement_period_default(today=dt.date(2026, 12, 4)) == (dt.date(2026, 12, 1), dt.date(2026, 12, 4))
    assert announcement_period_default(today=dt.date(2027, 1, 1)) == (dt.date(2027, 1, 1), dt.date(2027, 1, 1))
    assert announcement_period_default(today=dt.date(2024, 2, 29)) == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))


def test_last_month_is_the_last_full_month() -> None:
    assert announcement_period_last_month(today=dt.date(2026, 12, 4)) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert announcement_period_last_month(today=dt.date(2026, 1, 1)) == (dt.date(2025, 12, 1), dt.date(2025, 12, 31))
    assert announcement_period_last_month(today=dt.date(2024, 3, 31)) == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))


def test_a_wrong_period_is_refused_with_a_message(world: World, client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.users["county"])
    response = client.get(_url("announcement", start=END, end=START))
    assert response.status_code == 400
    assert "结束日期不能早于开始日期" in response.content.decode()
    response = client.get(reverse("assistance:announcements") + "?start=2026-11-30&end=2026-11-01")
    assert response.status_code == 200
    assert "结束日期不能早于开始日期" in response.content.decode()
    response = client.get(_url("announcement", start=dt.date(2024, 1, 1), end=dt.date(2026, 1, 1)))
    assert response.status_code == 400
    for start, end in ((dt.date(1, 1, 1), dt.date(1, 1, 2)), (dt.date(9999, 12, 30), dt.date(9999, 12, 31))):
        assert client.get(_url("announcement", start=start, end=end)).status_code == 400
        assert client.get(_url("announcement_xlsx", start=start, end=end)).status_code == 400
        chooser = client.get(reverse("assistance:announcements") + f"?start={start.isoformat()}&end={end.isoformat()}")
        assert chooser.status_code == 200 and "日期须在 2000-01-01 至 2099-12-31 之间" in chooser.content.decode()


# -- no personal data ------------------------------------------------------------------------------


def test_no_personal_data_on_the_page_or_in_the_sheet(world: World, client) -> None:  # type: ignore[no-untyped-def]
    a = world.households["520101001001"]
    b = world.households["520101001002"]
    Household.objects.filter(pk__in=[a.pk, b.pk]).update(phone="13987654321", address="幸福路 8 号")
    ids = [make_id_number(birth=dt.date(1961, 2, 3)), make_id_number(birth=dt.date(1990, 7, 8))]
    MemberFactory(household=a, id_number=ids[0], health=Member.Health.SERIOUS, name="病人甲")
    MemberFactory(household=b, id_number=ids[1], health=Member.Health.DISABLED, disability_grade="G1", name="残者乙")
    heads = list(Member.objects.filter(household__in=[a, b], relation=Member.Relation.HEAD))
    Member.objects.filter(pk=heads[0].pk).update(health=Member.Health.CHRONIC)
    lead = confirmed(a, IN_PERIOD)
    MonitoringTarget.objects.filter(lead=lead).update(risk_types=["ILLNESS", "DISABILITY"])
    target = eliminated(b, IN_PERIOD)
    TargetMeasureFactory(
        target=target,
        measure=measure("MICROCREDIT"),
        responsible_phone="13511112222",
        amount=Decimal("50000.00"),
        amount_kind="LOAN",
        status=MeasureStatus.IN_PROGRESS,
    )
    c = HouseholdFactory(village=a.village, phone="13633334444")
    MemberFactory(household=c, relation=Member.Relation.HEAD, name="张三", health=Member.Health.SERIOUS)
    rejected(c, IN_PERIOD)
    announce_rejections()
    client.force_login(world.users["county"])

    page = client.get(_url("announcement")).content.decode()
    response = client.get(_url("announcement_xlsx"))
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    cells = "\n".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None)

    for text in (page, cells):
        assert "户主001001" in text and "户主001002" in text and "张三" in text
        all_ids = [*ids, *Member.objects.filter(household__in=[a, b, c]).values_list("id_number", flat=True)]
        for number in all_ids:
            # nor its masked form, nor its last 4 as a cell of their own (a village named 村001002
            # ends in the same 4 digits as a random number may: that is no personal data)
            assert number not in text and "*" + number[-4:] not in text
            assert f"\n{number[-4:]}\n" not in f"\n{text}\n"
            assert number[:6] + "********" not in text  # not even masked
        for secret in ("13987654321", "13633334444", "13511112222", "3987", "幸福路", "50000", "50,000"):
            assert secret not in text, secret
        for health in ("因病", "因残", "大病", "慢性病", "残疾", "病人甲", "残者乙", "健康"):
            assert health not in text, health
        assert "银行" not in text and "账号" not in text
    # the sheet is an export of personal data (names of households): audited and access-logged
    entry = AuditEntry.objects.get(object_type="export", object_id="announcement")
    assert entry.data["rows"] == 3 and entry.region_code == TOWNSHIP
    assert entry.data["start"] == "2026-11-01" and entry.data["end"] == "2026-11-30"
    assert AccessLog.objects.filter(action=AccessLog.Action.EXPORT, region_code=TOWNSHIP).exists()


def test_the_sheet_cells_are_safe(world: World, client) -> None:  # type: ignore[no-untyped-def]
    h = world.households["520101001001"]
    Member.objects.filter(household=h, relation=Member.Relation.HEAD).update(name="=HYPERLINK(1)")
    confirmed(h, IN_PERIOD)
    client.force_login(world.users["county"])
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(_url("announcement_xlsx")).content)).active
    names = [row[3] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == ["'=HYPERLINK(1)"]


# -- scoping ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "code", "status"),
    [
        ("county", TOWNSHIP, 200),
        ("township", TOWNSHIP, 200),
        ("village", TOWNSHIP, 200),  # the cadre posts the township's 公告 in the village
        ("city", TOWNSHIP, 200),
        ("province", TOWNSHIP, 200),
        ("admin", TOWNSHIP, 200),
        ("township", "520101002000", 404),  # another township of the county
        ("village", "520101002000", 404),
        ("county", "520102001000", 404),  # another county's township
        ("county", "530101001000", 404),  # another province's
        ("county", "520101001001", 404),  # a village, not a township
        ("county", "520101000000", 404),
        ("dept", TOWNSHIP, 403),
    ],
)
def test_scoping(world: World, client, role: str, code: str, status: int) -> None:  # type: ignore[no-untyped-def]
    confirmed(world.households["520101001001"], IN_PERIOD)
    client.force_login(world.users[role])
    assert client.get(_url("announcement", code=code)).status_code == status
    assert client.get(_url("announcement_xlsx", code=code)).status_code == status


def test_anonymous_users_are_sent_to_sign_in(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(_url("announcement"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_village_cadre_sees_the_whole_township_list(world: World) -> None:
    confirmed(world.households["520101001001"], IN_PERIOD)
    confirmed(world.households["520101001002"], IN_PERIOD)  # a neighbouring village of the township
    confirmed(world.households["520101002001"], IN_PERIOD)  # another township
    ann = build(world, role="village")
    assert sorted(r.head_name for r in ann.identified) == ["户主001001", "户主001002"]  # type: ignore[attr-defined]
    with pytest.raises(ObjectOutOfScope):
        announcement_township(user=world.users["village"], code="520101002000")


def test_chooser_lists_townships_in_scope_with_counts(world: World, client) -> None:  # type: ignore[no-untyped-def]
    confirmed(world.households["520101001001"], IN_PERIOD)
    eliminated(world.households["520101002001"], IN_PERIOD)
    client.force_login(world.users["county"])
    page = client.get(reverse("assistance:announcements") + "?start=2026-11-01&end=2026-11-30").content.decode()
    assert reverse("assistance:announcement", args=[TOWNSHIP]) + "?start=2026-11-01&amp;end=2026-11-30" in page
    assert reverse("assistance:announcement", args=["520101002000"]) in page
    assert "520102001000" not in page  # the other county's township
    client.force_login(world.users["township"])
    page = client.get(reverse("assistance:announcements")).content.decode()
    assert reverse("assistance:announcement", args=[TOWNSHIP]) in page
    assert "520101002000" not in page
    start, end = announcement_period_default(today=timezone.localdate())
    assert f"?start={start:%Y-%m-%d}&amp;end={end:%Y-%m-%d}" in page  # 本月至今 by default


def _today(monkeypatch: pytest.MonkeyPatch, day: dt.date) -> None:
    """The pages' today (Beijing date) for this test."""
    monkeypatch.setattr("assistance.views.announcements.timezone.localdate", lambda *a, **k: day)


def test_the_page_opens_on_this_month_to_date_with_todays_decisions(  # type: ignore[no-untyped-def]
    world: World, client, monkeypatch: pytest.MonkeyPatch
) -> None:
    _today(monkeypatch, dt.date(2026, 12, 2))
    confirmed(world.households["520101001001"], dt.datetime(2026, 12, 2, 9, 0, tzinfo=BEIJING))  # this morning
    confirmed(world.households["520101001002"], IN_PERIOD)  # last month: not in the default period
    client.force_login(world.users["county"])
    page = client.get(reverse("assistance:announcements")).content.decode()
    assert "2026-12-01 至 2026-12-02" in page and "本月至今" in page
    assert 'value="2026-12-01"' in page and 'value="2026-12-02"' in page  # the chooser's dates
    assert reverse("assistance:announcement", args=[TOWNSHIP]) + "?start=2026-12-01&amp;end=2026-12-02" in page
    row = re.search(r"<td>[^<]*区划520101001000</td>\s*<td[^>]*>(\d+)</td>", page)
    assert row is not None and row.group(1) == "1"  # today's decision, not last month's
    assert 'data-testid="announcement-month-empty"' not in page
    assert "?start=2026-11-01&amp;end=2026-11-30" in page  # 上月 is one click away
    # the 公告 itself opened without a period: this month too
    sheet = client.get(reverse("assistance:announcement", args=[TOWNSHIP])).content.decode()
    assert "户主001001" in sheet and "户主001002" not in sheet


def test_on_a_months_first_day_with_nothing_decided_the_page_links_last_month(  # type: ignore[no-untyped-def]
    world: World, client, monkeypatch: pytest.MonkeyPatch
) -> None:
    _today(monkeypatch, dt.date(2026, 12, 1))
    confirmed(world.households["520101001001"], IN_PERIOD)
    client.force_login(world.users["county"])
    page = client.get(reverse("assistance:announcements")).content.decode()
    assert "2026-12-01 至 2026-12-01" in page
    notice = page[page.index('data-testid="announcement-month-empty"') :]
    notice = notice[: notice.index("</p>")]
    assert "本月至今，下列乡镇还没有县级审定的农户" in notice
    assert '<a href="?start=2026-11-01&amp;end=2026-11-30">上月（2026-11-01 至 2026-11-30）</a>' in notice
    last_month = client.get(reverse("assistance:announcements") + "?start=2026-11-01&end=2026-11-30").content.decode()
    assert 'data-testid="announcement-month-empty"' not in last_month and "本月至今）" not in last_month
    assert reverse("assistance:announcement", args=[TOWNSHIP]) + "?start=2026-11-01&amp;end=2026-11-30" in last_month


def test_the_api_period_stays_the_last_full_month(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from rest_framework.test import APIClient

    monkeypatch.setattr("assistance.api.announcements.timezone.localdate", lambda *a, **k: dt.date(2026, 12, 2))
    confirmed(world.households["520101001001"], IN_PERIOD)
    confirmed(world.households["520101001002"], dt.datetime(2026, 12, 1, 9, 0, tzinfo=BEIJING))
    api = APIClient()
    api.force_authenticate(world.users["county"])
    rows = {r["township"]: r["identified"] for r in api.get(reverse("announcement-list")).json()["results"]}
    assert rows[TOWNSHIP] == 1  # November's decision; December's is not in a whole month yet
    body = api.get(reverse("announcement-detail", args=[TOWNSHIP])).json()
    assert (body["start"], body["end"]) == ("2026-11-01", "2026-11-30")


def test_the_publicity_list_links_to_the_announcements(world: World, client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.users["village"])
    page = client.get(reverse("monitoring:publicity", args=["520101001001"])).content.decode()
    assert reverse("assistance:announcements") in page


# -- query count -----------------------------------------------------------------------------------


def _many(world: World, n: int) -> None:
    village = region("520101001002")
    for i in range(n):
        h = HouseholdFactory(village=village)
        MemberFactory(household=h, relation=Member.Relation.HEAD, name=f"户{i}")
        MemberFactory(household=h)
        if i % 3 == 0:
            confirmed(h, IN_PERIOD)
        elif i % 3 == 1:
            eliminated(h, IN_PERIOD)
        else:
            rejected(h, IN_PERIOD)


def test_query_count_is_fixed_whatever_the_rows(world: World, client, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    announce_rejections()
    client.force_login(world.users["county"])
    _many(world, 3)
    with django_assert_max_num_queries(20) as few:
        assert client.get(_url("announcement")).status_code == 200
    _many(world, 60)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(_url("announcement")).content.decode()
    assert page.count("<tr>") >= 63


# -- the demo: leads raised by screening, moved on by the real services ----------------------------


@pytest.mark.slow
def test_the_demo_announces_what_its_county_decided_this_month() -> None:
    from django.core.management import call_command
    from django.test import Client

    from monitoring.services.demo import demo_generate

    demo_generate(households=600, seed=2020, with_users=True)
    call_command("screen", "--year", "2025", verbosity=0)  # the leads are raised by screening
    call_command("demo_workflow", "--direct", "4", "--rejected", "2", verbosity=0)
    county = User.objects.get(username="county")
    assert AuditEntry.objects.filter(object_type="procedure_setting", reason__startswith="演示").exists()

    client = Client()
    client.force_login(county)
    home = client.get(reverse("home")).content.decode()
    assert reverse("assistance:announcements") in home
    today = timezone.localdate()
    month = today.replace(day=1)
    chooser = client.get(reverse("assistance:announcements")).content.decode()
    assert f"?start={month:%Y-%m-%d}&amp;end={today:%Y-%m-%d}" in chooser  # 本月至今
    decided = Lead.objects.filter(state__in=[LeadState.CONFIRMED, LeadState.REJECTED]).select_related(
        "household__village"
    )
    townships = {lead.household.village_id[:9] + "000" for lead in decided}
    townships |= {
        p.target.household.village_id[:9] + "000"
        for p in EliminationProposal.objects.filter(state=ProposalState.CONFIRMED).select_related("target__household")
    }
    listed = {"纳入": 0, "不予纳入": 0, "风险消除": 0}
    awaiting = 0
    for code in townships:
        page = client.get(_url("announcement", code=code, start=month, end=today))
        assert page.status_code == 200
        text = page.content.decode()
        listed["纳入"] += text.count("突发严重困难户") + text.count("边缘易致贫户") + text.count("脱贫不稳定户")
        listed["不予纳入"] += text.count("<td>不予纳入</td>")
        listed["风险消除"] += text.count("<td>帮扶消除</td>") + text.count("<td>自然消除</td>")
        found = re.search(r"本期另有 (\d+) 户为县级直接确定", text)
        awaiting += int(found[1]) if found else 0
        for number in Member.objects.filter(household__village__code__startswith=code[:9]).values_list(
            "id_number", flat=True
        )[:50]:
            assert number not in text
    # the county's direct confirmations whose 补办 is still owed wait (the page counts them)
    from monitoring.models import FollowUp

    in_month = 0
    for lead in Lead.objects.filter(state=LeadState.CONFIRMED):
        follow_up = FollowUp.objects.filter(target__lead=lead).first()
        if follow_up is None:
            in_month += timezone.localdate(lead.decided_at) >= month
        elif follow_up.state == "DONE" and not follow_up.county_review:
            in_month += timezone.localdate(follow_up.completed_at) >= month
        elif follow_up.county_reviewed_at is not None:  # 县级复核维持认定: announced from that day
            in_month += timezone.localdate(follow_up.county_reviewed_at) >= month
    pending = FollowUp.objects.filter(
        target__lead__state=LeadState.CONFIRMED,
        target__lead__decided_at__gte=timezone.make_aware(dt.datetime.combine(month, dt.time.min)),
    )
    waiting = pending.exclude(state="DONE", county_review=False).exclude(county_reviewed_at__isnull=False)
    assert awaiting == waiting.count() > 0
    assert listed["纳入"] == in_month > 0
    assert listed["不予纳入"] == Lead.objects.filter(state=LeadState.REJECTED).count() == 2
    # the demo's confirmed eliminations (when the demo has them): decided today through the services
    confirmed_eliminations = EliminationProposal.objects.filter(
        state=ProposalState.CONFIRMED, decided_at__date__gte=month
    ).count()
    assert listed["风险消除"] == confirmed_eliminations


# -- the API ---------------------------------------------------------------------------------------


def test_api_one_township_same_rows_same_masking(world: World) -> None:
    from rest_framework.test import APIClient

    a = world.households["520101001001"]
    MemberFactory(household=a, health=Member.Health.SERIOUS, name="病人甲")
    lead = confirmed(a, IN_PERIOD, TargetCategory.EDGE_AT_RISK)
    MonitoringTarget.objects.filter(lead=lead).update(risk_types=["ILLNESS"])
    eliminated(world.households["520101001002"], IN_PERIOD)
    rejected(HouseholdFactory(village=a.village), IN_PERIOD)  # the province does not ask: not listed
    api = APIClient()
    api.force_authenticate(world.users["township"])
    url = reverse("announcement-detail", args=[TOWNSHIP]) + "?start=2026-11-01&end=2026-11-30"
    body = api.get(url).json()
    assert body["issuer"] == "区划520101001000人民政府" and body["rejections_announced"] is False
    assert body["identified"] == [
        {
            "village": "村001001",
            "head_name": "户主001001",
            "family_size": 2,
            "category": "边缘易致贫户",
            "decided_on": "2026-11-15",
        }
    ]
    assert [r["category"] for r in body["eliminated"]] == ["自然消除"] and body["rejected"] == []
    text = str(body)
    assert "病" not in text and "ILLNESS" not in text and a.phone not in text
    for number in Member.objects.values_list("id_number", flat=True):
        assert number not in text
    assert api.get(reverse("announcement-detail", args=["520101002000"])).status_code == 404
    bad = api.get(reverse("announcement-detail", args=[TOWNSHIP]) + "?start=2026-11-30&end=2026-11-01")
    assert bad.status_code == 400


def test_api_list_counts_the_townships_in_scope(world: World) -> None:
    from rest_framework.test import APIClient

    confirmed(world.households["520101001001"], IN_PERIOD)
    eliminated(world.households["520101002001"], IN_PERIOD)
    api = APIClient()
    api.force_authenticate(world.users["county"])
    body = api.get(reverse("announcement-list") + "?start=2026-11-01&end=2026-11-30").json()
    rows = {r["township"]: (r["identified"], r["eliminated"], r["rejected"]) for r in body["results"]}
    assert rows == {TOWNSHIP: (1, 0, 0), "520101002000": (0, 1, 0)}
    api.force_authenticate(world.users["dept"])
    assert api.get(reverse("announcement-list")).json()["results"] == []
