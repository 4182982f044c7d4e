"""绿色通道补办 (SPEC §5.6): a 县级直接确定 owes the steps its lead lacked, by the province's limit on the
working-day calendar; the village records them; overdue follow-ups on the target page, the list, the
待办, the cadre's home and the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from assistance.selectors.todo import home_todo
from fanpin.core.models import AuditEntry
from fanpin.core.scoping import ObjectOutOfScope
from fanpin.core.workflow import TransitionNotAllowed
from monitoring.models import (
    CHECKLIST_FIELDS,
    CalendarDay,
    DayUnit,
    FollowUp,
    FollowUpState,
    Lead,
    LeadState,
    MonitoringTarget,
    ProcedureLimit,
    ProcedureStep,
)
from monitoring.selectors.calendar import WorkingCalendar
from monitoring.selectors.followups import (
    follow_up_limits,
    follow_up_rows,
    follow_up_status,
    follow_ups_in_scope,
    follow_ups_overdue_count,
)
from monitoring.services import review
from monitoring.services.followups import (
    AppraisalRecord,
    HomeCheckRecord,
    PublicityRecord,
    follow_up_owed,
    follow_up_step_record,
)
from tests.conftest import World
from tests.monitoring.review_helpers import OUTSIDE, VILLAGE, decision, lead_in

pytestmark = pytest.mark.django_db

OTHER_COUNTY = "520102001001"
# National Day as the tests store it: Thu 1 – Wed 7 Oct 2026 off (weekdays stored as holidays),
# Sun 27 Sep and Sat 10 Oct 调休 working days.
HOLIDAYS = [dt.date(2026, 10, d) for d in (1, 2, 5, 6, 7)]
WORKDAYS = [dt.date(2026, 9, 27), dt.date(2026, 10, 10)]


@pytest.fixture
def calendar_days(db: None) -> None:
    CalendarDay.objects.bulk_create(
        [CalendarDay(day=d, kind=CalendarDay.Kind.HOLIDAY, name="国庆节") for d in HOLIDAYS]
        + [CalendarDay(day=d, kind=CalendarDay.Kind.WORKDAY, name="调休上班") for d in WORKDAYS]
    )


def _today() -> dt.date:
    return timezone.localdate()


def direct(world: World, village: str = VILLAGE, state: str = LeadState.NEW, **lead: object) -> MonitoringTarget:
    """A lead raised 30 days ago, confirmed directly by the county of its village."""
    hh = world.households[village]
    item = lead_in(hh, state, raised_at=timezone.now() - dt.timedelta(days=30), **lead)
    county = world.users["county"] if village.startswith("520101") else world.users["admin"]
    review.lead_confirm_direct(lead_id=item.pk, actor=county, decision=decision(), reason="突发火灾，先帮扶后补程序")
    return MonitoringTarget.objects.get(lead=item)


def home_check(days_ago: int = 10, **kw: object) -> HomeCheckRecord:
    args: dict[str, object] = {
        "checked_on": _today() - dt.timedelta(days=days_ago),
        "checked_by": "王支书、李队员",
        "checklist": {name: True for name, _label in CHECKLIST_FIELDS},
        "consent_signed": True,
    }
    return HomeCheckRecord(**{**args, **kw})  # type: ignore[arg-type]


def appraisal(days_ago: int = 9, outcome: str = "AGREED") -> AppraisalRecord:
    return AppraisalRecord(appraisal_on=_today() - dt.timedelta(days=days_ago), outcome=outcome)


def publicity(start_ago: int = 8, days: int = 5) -> PublicityRecord:
    start = _today() - dt.timedelta(days=start_ago)
    return PublicityRecord(start=start, end=start + dt.timedelta(days=days - 1))


# -- opening -------------------------------------------------------------------------------------
def test_direct_confirmation_of_a_new_lead_owes_all_three_steps_audited(world: World) -> None:
    target = direct(world)
    f = FollowUp.objects.get(target=target)
    assert f.owed_steps == ["HOME_CHECK", "APPRAISAL", "PUBLICITY"]
    assert (f.state, f.opened_on, f.lead_id, f.opened_by) == ("OPEN", _today(), target.lead_id, world.users["county"])
    row = AuditEntry.objects.get(object_type="follow_up", action="follow_up_open")
    assert (row.object_id, row.to_state, row.actor, row.region_code) == (
        str(f.pk),
        "OPEN",
        world.users["county"],
        VILLAGE,
    )
    assert row.data["owed"] == ["HOME_CHECK", "APPRAISAL", "PUBLICITY"]
    assert "入户核实、民主评议、公示" in row.reason


def test_only_the_direct_confirmation_opens_one_and_only_for_what_the_lead_lacked(world: World) -> None:
    reviewed = lead_in(world.households[VILLAGE], LeadState.REVIEWED)
    review.lead_confirm(lead_id=reviewed.pk, actor=world.users["county"], decision=decision())
    assert not FollowUp.objects.exists()
    # a verified lead confirmed directly lacks nothing: no follow-up
    MonitoringTarget.objects.all().delete()
    target = direct(world, "520101001002", LeadState.VERIFIED)
    assert target.direct and not FollowUp.objects.exists()
    assert not AuditEntry.objects.filter(action="follow_up_open").exists()


def test_owed_steps_match_the_lead(world: World) -> None:
    lead = lead_in(world.households[VILLAGE])
    assert follow_up_owed(lead) == {"owes_home_check": True, "owes_appraisal": True, "owes_publicity": True}
    lead.home_checked_on, lead.consent_signed = _today(), True
    assert follow_up_owed(lead) == {"owes_home_check": False, "owes_appraisal": True, "owes_publicity": True}
    lead.consent_signed = None  # a home check without the household's 承诺授权 is owed again
    assert follow_up_owed(lead)["owes_home_check"] is True
    lead.consent_signed, lead.appraisal_on, lead.appraisal_outcome = True, _today(), "AGREED"
    assert follow_up_owed(lead) == {"owes_home_check": False, "owes_appraisal": False, "owes_publicity": True}


def test_a_refused_confirmation_opens_nothing(world: World) -> None:
    lead = lead_in(world.households[VILLAGE])
    with pytest.raises(ValidationError):
        review.lead_confirm_direct(lead_id=lead.pk, actor=world.users["county"], decision=decision(), reason="")
    assert not FollowUp.objects.exists()


# -- due dates -----------------------------------------------------------------------------------
def _opened(target: MonitoringTarget, on: dt.date) -> FollowUp:
    FollowUp.objects.filter(target=target).update(opened_on=on)
    return FollowUp.objects.select_related("target__household").get(target=target)


@pytest.mark.usefixtures("calendar_days")
def test_due_day_counts_working_days_across_the_holiday_and_the_tiaoxiu_weekend(world: World) -> None:
    f = _opened(direct(world), dt.date(2026, 9, 25))  # a Friday
    cal = WorkingCalendar.load(around=dt.date(2026, 10, 1))
    limits = follow_up_limits()
    # 15 working days: Sun 27 Sep (调休) … Wed 30 Sep = 4, Thu 8 – Sat 10 Oct (调休) = 7, … Wed 21 Oct = 15
    # (weekdays only, without the stored days, it would be Fri 16 Oct)
    on_due = follow_up_status(f, today=dt.date(2026, 10, 21), calendar=cal, limits=limits)
    assert (on_due.due_on, on_due.overdue, on_due.late_days) == (dt.date(2026, 10, 21), False, 0)
    late = follow_up_status(f, today=dt.date(2026, 10, 22), calendar=cal, limits=limits)
    assert (late.overdue, late.late_days, late.late_label) == (True, 1, "1 个工作日")
    assert follow_up_status(f, today=dt.date(2026, 10, 26), calendar=cal, limits=limits).late_days == 3
    # the set-based filter agrees at the boundary
    county = world.users["county"]
    assert not follow_ups_in_scope(user=county, state="OVERDUE", today=dt.date(2026, 10, 21)).exists()
    assert list(follow_ups_in_scope(user=county, state="OVERDUE", today=dt.date(2026, 10, 22))) == [f]
    assert follow_ups_overdue_count(user=county, today=dt.date(2026, 10, 22)) == 1


@pytest.mark.usefixtures("calendar_days")
def test_a_province_limit_of_its_own_and_calendar_days(world: World) -> None:
    ProcedureLimit.objects.create(
        province_code="520000000000", step=ProcedureStep.FOLLOW_UP, days=5, unit=DayUnit.CALENDAR
    )
    mine = _opened(direct(world), dt.date(2026, 9, 30))  # province 52: 5 calendar days → 5 Oct
    other = _opened(direct(world, OUTSIDE), dt.date(2026, 9, 30))  # province 53: 15 working days
    admin = world.users["admin"]
    rows = {r.follow_up.pk: r.status for r in follow_up_rows([mine, other], today=dt.date(2026, 10, 6))}
    assert (rows[mine.pk].due_on, rows[mine.pk].overdue, rows[mine.pk].late_label) == (
        dt.date(2026, 10, 5),
        True,
        "1 天",
    )
    assert rows[other.pk].overdue is False
    for day, expected in ((dt.date(2026, 10, 5), set()), (dt.date(2026, 10, 6), {mine.pk})):
        assert set(follow_ups_in_scope(user=admin, state="OVERDUE", today=day).values_list("pk", flat=True)) == expected
    due_other = rows[other.pk].due_on
    late = {r.follow_up.pk for r in follow_up_rows([other], today=due_other + dt.timedelta(days=1)) if r.status.overdue}
    in_filter = set(
        follow_ups_in_scope(user=admin, state="OVERDUE", today=due_other + dt.timedelta(days=1)).values_list(
            "pk", flat=True
        )
    )
    assert late == {other.pk} and other.pk in in_filter


# -- recording -----------------------------------------------------------------------------------
def test_the_village_records_each_step_in_order_and_the_last_closes_it(world: World) -> None:
    f = FollowUp.objects.get(target=direct(world))
    village = world.users["village"]
    with pytest.raises(TransitionNotAllowed, match="请先登记入户核实"):
        follow_up_step_record(follow_up_id=f.pk, actor=village, record=appraisal())
    follow_up_step_record(follow_up_id=f.pk, actor=village, record=home_check())
    with pytest.raises(TransitionNotAllowed, match="已登记"):  # a second click
        follow_up_step_record(follow_up_id=f.pk, actor=village, record=home_check())
    follow_up_step_record(follow_up_id=f.pk, actor=village, record=appraisal())
    f = follow_up_step_record(follow_up_id=f.pk, actor=village, record=publicity())
    f.refresh_from_db()
    assert (f.state, f.county_review, f.steps_outstanding) == (FollowUpState.DONE, False, [])
    assert f.completed_at is not None and f.home_checked_by == "王支书、李队员"
    assert f.home_checklist == {name: True for name, _label in CHECKLIST_FIELDS}
    trail = AuditEntry.objects.filter(object_type="follow_up", object_id=str(f.pk)).order_by("id")
    assert [(a.action, a.from_state, a.to_state) for a in trail] == [
        ("follow_up_open", "", "OPEN"),
        ("follow_up_home_check", "OPEN", "OPEN"),
        ("follow_up_appraisal", "OPEN", "OPEN"),
        ("follow_up_publicity", "OPEN", "OPEN"),
        ("follow_up_complete", "OPEN", "DONE"),
    ]
    assert all(a.actor == village for a in trail[1:])
    with pytest.raises(TransitionNotAllowed, match="已完成"):
        follow_up_step_record(follow_up_id=f.pk, actor=village, record=publicity())


def test_the_appraisal_may_not_precede_the_home_check(world: World) -> None:
    f = FollowUp.objects.get(target=direct(world))
    village = world.users["village"]
    follow_up_step_record(follow_up_id=f.pk, actor=village, record=home_check(days_ago=10))
    with pytest.raises(ValidationError) as exc:
        follow_up_step_record(follow_up_id=f.pk, actor=village, record=appraisal(days_ago=12))
    assert exc.value.message_dict["appraisal_on"] == [
        f"民主评议日期不能早于入户核实日期（{_today() - dt.timedelta(days=10):%Y-%m-%d}）。"
    ]
    follow_up_step_record(follow_up_id=f.pk, actor=village, record=appraisal(days_ago=10))  # the same day: fine


def test_steps_done_in_time_but_entered_later_are_not_late(world: World) -> None:
    """Lateness counts the steps' own dates (the 公示 by its end), not the day they were typed in."""
    target = direct(world)
    f = _opened(target, _today() - dt.timedelta(days=40))
    Lead.objects.filter(pk=target.lead_id).update(raised_at=timezone.now() - dt.timedelta(days=45))
    village = world.users["village"]
    follow_up_step_record(follow_up_id=f.pk, actor=village, record=home_check(days_ago=38))
    follow_up_step_record(follow_up_id=f.pk, actor=village, record=appraisal(days_ago=36))
    f = follow_up_step_record(follow_up_id=f.pk, actor=village, record=publicity(start_ago=35, days=5))
    f = FollowUp.objects.select_related("target__household").get(pk=f.pk)
    assert f.steps_done_on == _today() - dt.timedelta(days=31)
    status = follow_up_status(
        f, today=_today(), calendar=WorkingCalendar.load(around=_today()), limits=follow_up_limits()
    )
    assert (status.overdue, status.late_days) == (False, 0)


def test_the_identification_date_rules_apply(world: World) -> None:
    f = FollowUp.objects.get(target=direct(world))
    village = world.users["village"]
    with pytest.raises(ValidationError) as exc:
        follow_up_step_record(follow_up_id=f.pk, actor=village, record=home_check(days_ago=-1, consent_signed=False))
    assert exc.value.message_dict["checked_on"] == ["入户核实日期不能晚于今天。"]
    assert "承诺授权" in exc.value.message_dict["consent_signed"][0]
    with pytest.raises(ValidationError) as exc:
        follow_up_step_record(follow_up_id=f.pk, actor=village, record=home_check(days_ago=40))
    assert "不能早于线索发现日期" in exc.value.message_dict["checked_on"][0]
    follow_up_step_record(follow_up_id=f.pk, actor=village, record=home_check())
    follow_up_step_record(follow_up_id=f.pk, actor=village, record=appraisal(days_ago=8))
    with pytest.raises(ValidationError) as exc:  # four days, and starting before the appraisal
        follow_up_step_record(follow_up_id=f.pk, actor=village, record=publicity(start_ago=9, days=4))
    assert exc.value.message_dict["end"] == ["公示期不少于 5 天（含首尾两天）。"]
    assert exc.value.message_dict["start"] == ["民主评议应在公示开始之前或当天进行。"]
    with pytest.raises(ValidationError, match="公示期满后再登记"):
        follow_up_step_record(follow_up_id=f.pk, actor=village, record=publicity(start_ago=4, days=5))
    # exactly five days counted inclusively, starting on the appraisal day, ended yesterday
    follow_up_step_record(follow_up_id=f.pk, actor=village, record=publicity(start_ago=8, days=5))
    assert FollowUp.objects.get(pk=f.pk).state == FollowUpState.DONE
    assert not AuditEntry.objects.filter(action="follow_up_publicity").count() > 1


def test_a_disagreeing_appraisal_closes_it_flagged_for_the_county(world: World) -> None:
    f = FollowUp.objects.get(target=direct(world))
    village = world.users["village"]
    follow_up_step_record(follow_up_id=f.pk, actor=village, record=home_check())
    follow_up_step_record(follow_up_id=f.pk, actor=village, record=appraisal(outcome="DISAGREED"))
    f.refresh_from_db()
    assert (f.state, f.county_review, f.publicity_recorded_at) == (FollowUpState.DONE, True, None)
    done = AuditEntry.objects.get(action="follow_up_complete")
    assert done.data["county_review"] is True and "复核" in done.reason
    assert list(follow_ups_in_scope(user=world.users["county"], state="REVIEW")) == [f]


def test_who_may_record_and_scope(world: World) -> None:
    f = FollowUp.objects.get(target=direct(world))
    with pytest.raises(PermissionDenied):
        follow_up_step_record(follow_up_id=f.pk, actor=world.users["county"], record=home_check())
    outsider = world.users["village"]
    outsider.region_id = "520101001002"
    with pytest.raises(ObjectOutOfScope):
        follow_up_step_record(follow_up_id=f.pk, actor=outsider, record=home_check())
    assert not AuditEntry.objects.filter(action="follow_up_home_check").exists()


# -- pages ---------------------------------------------------------------------------------------
def test_target_page_shows_what_is_owed_and_overdue(world: World) -> None:
    target = direct(world)
    county = world.client_for("county")
    page = county.get(reverse("monitoring:target_detail", args=[target.pk])).content.decode()
    assert "绿色通道待补办" in page and "入户核实" in page and "民主评议" in page and "待补办" in page
    FollowUp.objects.filter(target=target).update(opened_on=_today() - dt.timedelta(days=60))
    page = county.get(reverse("monitoring:target_detail", args=[target.pk])).content.decode()
    assert "已超期" in page and "个工作日" in page and "text-bg-danger" in page
    # no holidays stored for the year: the page says weekdays were counted
    assert f"{_today().year}年节假日安排尚未导入" in page


def test_list_filter_agrees_with_the_rows_and_is_set_based(world: World, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    late = direct(world)
    direct(world, "520101001002")
    direct(world, OTHER_COUNTY)  # another county: not in this county's list
    FollowUp.objects.filter(target=late).update(opened_on=_today() - dt.timedelta(days=60))
    county = world.client_for("county")
    county.get(reverse("monitoring:followups"))  # session and caches warm
    with django_assert_max_num_queries(12):
        response = county.get(reverse("monitoring:followups"), {"state": "OPEN"})
    assert [r.follow_up.target_id for r in response.context["rows"]] == [
        late.pk,
        response.context["rows"][1].follow_up.target_id,
    ]
    assert len(response.context["rows"]) == 2
    overdue = county.get(reverse("monitoring:followups"), {"state": "OVERDUE"})
    rows = overdue.context["rows"]
    assert [r.follow_up.target_id for r in rows] == [late.pk] and all(r.status.overdue for r in rows)
    assert "已超期" in overdue.content.decode()
    other = FollowUp.objects.get(target__household__village_id=OTHER_COUNTY)
    assert county.get(reverse("monitoring:followup", args=[other.pk])).status_code == 404
    todo = {i.key: i.count for i in home_todo(user=world.users["county"])}
    assert todo["followups_overdue"] == 1


def test_village_records_on_the_page_and_sees_its_follow_ups_at_home(world: World) -> None:
    f = FollowUp.objects.get(target=direct(world))
    village = world.client_for("village")
    home = village.get(reverse("monitoring:cadre_home"))
    assert [r.follow_up.pk for r in home.context["followups"]] == [f.pk]
    url = reverse("monitoring:followup_record", args=[f.pk, "HOME_CHECK"])
    data = {"home-checked_on": (_today() + dt.timedelta(days=1)).isoformat(), "home-checked_by": "王支书"}
    bad = village.post(url, data)
    assert bad.status_code == 400 and "入户核实日期不能晚于今天" in bad.content.decode()
    data.update({"home-checked_on": (_today() - dt.timedelta(days=3)).isoformat(), "home-consent_signed": "on"})
    data.update({f"home-{name}": "on" for name, _label in CHECKLIST_FIELDS[:5]})
    ok = village.post(url, data)
    assert ok.status_code == 302
    f.refresh_from_db()
    assert f.home_checklist["water_secure"] is False and f.home_checklist["food_secure"] is True
    assert village.post(url, data).status_code == 409  # the same form sent again
    county = world.client_for("county")
    assert county.post(reverse("monitoring:followup_record", args=[f.pk, "APPRAISAL"]), {
        "appraisal-appraisal_on": _today().isoformat(), "appraisal-outcome": "AGREED"}).status_code == 403  # fmt: skip


# -- API -----------------------------------------------------------------------------------------
def test_api_is_scoped_and_reads_in_a_fixed_number_of_queries(world: World, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    late = direct(world)
    direct(world, "520101001002")
    direct(world, OTHER_COUNTY)
    FollowUp.objects.filter(target=late).update(opened_on=_today() - dt.timedelta(days=60))
    county = world.client_for("county")
    county.get("/api/v1/follow-ups/")
    with django_assert_max_num_queries(10):
        body = county.get("/api/v1/follow-ups/").json()
    assert body["count"] == 2
    assert {r["household_no"] for r in body["results"]} == {f"H{VILLAGE}", "H520101001002"}
    overdue = county.get("/api/v1/follow-ups/", {"overdue": "true"}).json()
    assert [r["target"] for r in overdue["results"]] == [late.pk]
    assert overdue["results"][0]["overdue"] is True and overdue["results"][0]["late_days"] > 0
    assert overdue["results"][0]["owed_steps"] == ["HOME_CHECK", "APPRAISAL", "PUBLICITY"]
    other = FollowUp.objects.get(target__household__village_id=OTHER_COUNTY)
    assert county.get(f"/api/v1/follow-ups/{other.pk}/").status_code == 404
    assert world.client_for("dept").get("/api/v1/follow-ups/").json()["count"] == 0
