"""办理时限 of the identification steps: boundaries across a holiday and a 调休 weekend, the lead
page's statuses and the queue's set-based 「超期」 filter agreeing at every boundary."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from monitoring.models import Lead, LeadState
from monitoring.models.calendar import CalendarDay, DayUnit, ProcedureLimit, ProcedureStep
from monitoring.selectors.calendar import StepLimit, WorkingCalendar
from monitoring.selectors.deadlines import (
    DONE,
    DONE_LATE,
    IN_PROGRESS,
    NOT_STARTED,
    OVERDUE,
    SKIPPED,
    lead_deadlines,
    leads_overdue_condition,
)
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

VILLAGE = "520101001001"
OTHER_PROVINCE_VILLAGE = "530101001001"

# A National Day as the tests store it: Thu 1 Oct – Wed 7 Oct 2026 off (the weekdays stored as
# holidays), Sat 10 Oct a 调休 working day; and Sun 27 Sep a 调休 working Sunday.
HOLIDAYS = [dt.date(2026, 10, d) for d in (1, 2, 5, 6, 7)]
WORKDAYS = [dt.date(2026, 9, 27), dt.date(2026, 10, 10)]


@pytest.fixture
def calendar_days(db: None) -> None:
    CalendarDay.objects.bulk_create(
        [CalendarDay(day=d, kind=CalendarDay.Kind.HOLIDAY, name="国庆节") for d in HOLIDAYS]
        + [CalendarDay(day=d, kind=CalendarDay.Kind.WORKDAY, name="调休上班") for d in WORKDAYS]
    )


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))


def _lead(world, step: str, start: dt.date, *, village: str = VILLAGE) -> Lead:  # type: ignore[no-untyped-def]
    """A lead of ``village`` whose ``step`` is open and started on ``start``."""
    hh = world.households[village]
    Lead.objects.filter(household=hh).delete()
    f: dict[str, object] = {"household": hh, "raised_at": _at(start)}
    early = start - dt.timedelta(days=20)
    if step == ProcedureStep.HOME_CHECK:
        f.update(accepted_on=start, raised_at=_at(start))
    elif step in (ProcedureStep.APPRAISAL_PUBLICITY, ProcedureStep.COMPARISON):
        f.update(raised_at=_at(early), accepted_on=early, home_checked_on=start, state=LeadState.VERIFIED)
    elif step == ProcedureStep.TOWNSHIP_REVIEW:
        f.update(
            raised_at=_at(early),
            accepted_on=early,
            home_checked_on=early,
            publicity_start=start - dt.timedelta(days=4),
            publicity_end=start,
            state=LeadState.VERIFIED,
        )
    elif step == ProcedureStep.COUNTY_DECISION:
        f.update(
            raised_at=_at(early),
            accepted_on=early,
            home_checked_on=early,
            publicity_start=early,
            publicity_end=early + dt.timedelta(days=4),
            reviewed_at=_at(start),
            state=LeadState.REVIEWED,
        )
    elif step == ProcedureStep.WHOLE:
        f.update(accepted_on=start, home_checked_on=start)
    return LeadFactory(**f)


def _status(lead: Lead, step: str, today: dt.date) -> str:
    lead = Lead.objects.select_related("household").get(pk=lead.pk)
    return next(s for s in lead_deadlines(lead=lead, today=today).steps if s.step == step).status


def _filtered(lead: Lead, today: dt.date) -> bool:
    return Lead.objects.filter(leads_overdue_condition(today=today), pk=lead.pk).exists()


def _page_overdue(lead: Lead, today: dt.date) -> bool:
    lead = Lead.objects.select_related("household").get(pk=lead.pk)
    return lead_deadlines(lead=lead, today=today).overdue


def _isolate(step: str, limit: tuple[int, str] | None = None) -> None:
    """Province 52: every other step 365 days, so only ``step`` can be overdue."""
    for other in ProcedureStep.values:
        days, unit = (365, DayUnit.CALENDAR) if other != step else (limit or (0, ""))
        if other != step or limit is not None:
            ProcedureLimit.objects.create(province_code="520000000000", step=other, days=days, unit=unit)


STEPS = [
    ProcedureStep.ACCEPT,
    ProcedureStep.HOME_CHECK,
    ProcedureStep.COMPARISON,
    ProcedureStep.APPRAISAL_PUBLICITY,
    ProcedureStep.TOWNSHIP_REVIEW,
    ProcedureStep.COUNTY_DECISION,
    ProcedureStep.WHOLE,
]


@pytest.mark.parametrize("step", STEPS)
def test_every_step_across_the_holiday(world, calendar_days, step: str) -> None:  # type: ignore[no-untyped-def]
    """Started Wed 30 Sep: the holiday (1–7 Oct) does not count, the 调休 Saturday (10 Oct) does.
    The day before due and the due day are on time; the day after is overdue — on the lead page
    and in the queue's filter alike."""
    _isolate(step, (2, DayUnit.WORKING))
    start = dt.date(2026, 9, 30)
    lead = _lead(world, step, start)
    due = dt.date(2026, 10, 9)  # Thu 8 (1), Fri 9 (2)
    assert WorkingCalendar.load(around=start).due(start, StepLimit(step, 2, DayUnit.WORKING)) == due
    for today, overdue in ((due - dt.timedelta(days=1), False), (due, False), (due + dt.timedelta(days=1), True)):
        assert _status(lead, step, today) == (OVERDUE if overdue else IN_PROGRESS), (step, today)
        assert _filtered(lead, today) is overdue, (step, today)
        assert _page_overdue(lead, today) is overdue, (step, today)


@pytest.mark.parametrize("step", STEPS)
def test_a_tiaoxiu_sunday_counts(world, calendar_days, step: str) -> None:  # type: ignore[no-untyped-def]
    """Started Fri 25 Sep, 2 working days: Sun 27 Sep (调休) and Mon 28 Sep → due Mon 28 Sep."""
    _isolate(step, (2, DayUnit.WORKING))
    lead = _lead(world, step, dt.date(2026, 9, 25))
    assert _status(lead, step, dt.date(2026, 9, 28)) == IN_PROGRESS
    assert not _filtered(lead, dt.date(2026, 9, 28))
    assert _status(lead, step, dt.date(2026, 9, 29)) == OVERDUE
    assert _filtered(lead, dt.date(2026, 9, 29))


def test_calendar_day_unit_counts_the_holiday(world, calendar_days) -> None:  # type: ignore[no-untyped-def]
    _isolate(ProcedureStep.ACCEPT, (3, DayUnit.CALENDAR))
    lead = _lead(world, ProcedureStep.ACCEPT, dt.date(2026, 9, 30))
    assert _status(lead, ProcedureStep.ACCEPT, dt.date(2026, 10, 3)) == IN_PROGRESS
    assert not _filtered(lead, dt.date(2026, 10, 3))
    assert _status(lead, ProcedureStep.ACCEPT, dt.date(2026, 10, 4)) == OVERDUE
    assert _filtered(lead, dt.date(2026, 10, 4))


def test_province_override_against_the_national_default(world, calendar_days) -> None:  # type: ignore[no-untyped-def]
    """Province 52 gives 受理 5 working days; province 53 keeps the national 2."""
    ProcedureLimit.objects.create(province_code="520000000000", step=ProcedureStep.ACCEPT, days=5)
    start = dt.date(2026, 9, 30)
    mine = _lead(world, ProcedureStep.ACCEPT, start)
    other = _lead(world, ProcedureStep.ACCEPT, start, village=OTHER_PROVINCE_VILLAGE)
    today = dt.date(2026, 10, 12)  # national due 9 Oct passed; 5 working days: 8, 9, 10, 12, 13 → 13 Oct
    assert _status(other, ProcedureStep.ACCEPT, today) == OVERDUE
    assert _status(mine, ProcedureStep.ACCEPT, today) == IN_PROGRESS
    assert _filtered(other, today)
    assert not _filtered(mine, today)  # (受理 only; the whole procedure still 15 days)
    assert _status(mine, ProcedureStep.ACCEPT, dt.date(2026, 10, 14)) == OVERDUE
    assert _filtered(mine, dt.date(2026, 10, 14))


def test_done_late_and_done_in_time(world, calendar_days) -> None:  # type: ignore[no-untyped-def]
    lead = _lead(world, ProcedureStep.HOME_CHECK, dt.date(2026, 9, 30))
    lead.home_checked_on = dt.date(2026, 10, 13)  # due 3 working days: 8, 9, 10 → 10 Oct; 2 working days late
    lead.save()
    steps = {s.step: s for s in lead_deadlines(lead=Lead.objects.get(pk=lead.pk), today=dt.date(2026, 10, 14)).steps}
    home = steps[ProcedureStep.HOME_CHECK]
    assert home.status == DONE_LATE and home.late_text == "超期 2 个工作日"
    assert steps[ProcedureStep.ACCEPT].status == DONE
    assert steps[ProcedureStep.TOWNSHIP_REVIEW].status == NOT_STARTED


def test_overdue_text_names_the_working_days(world, calendar_days) -> None:  # type: ignore[no-untyped-def]
    lead = _lead(world, ProcedureStep.ACCEPT, dt.date(2026, 9, 30))
    accept = lead_deadlines(lead=Lead.objects.get(pk=lead.pk), today=dt.date(2026, 10, 14)).steps[0]
    assert accept.status == OVERDUE
    assert accept.due == dt.date(2026, 10, 9)
    assert accept.late_text == "超期 4 个工作日"  # 10 (调休), 12, 13, 14
    assert accept.status_label == "已超期"


def test_decided_lead_has_no_open_step(world) -> None:  # type: ignore[no-untyped-def]
    lead = _lead(world, ProcedureStep.ACCEPT, dt.date(2026, 9, 30))
    lead.state = LeadState.REJECTED
    lead.rejection_reason = "x"
    lead.decided_at = _at(dt.date(2026, 10, 1))
    lead.save()
    d = lead_deadlines(lead=Lead.objects.get(pk=lead.pk), today=dt.date(2026, 12, 1))
    assert not d.overdue and d.current is None
    statuses = {s.step: s.status for s in d.steps}
    assert statuses[ProcedureStep.WHOLE] == DONE
    assert statuses[ProcedureStep.HOME_CHECK] == SKIPPED
    assert not _filtered(lead, dt.date(2026, 12, 1))


def test_calendar_notice_sample_and_missing(world) -> None:  # type: ignore[no-untyped-def]
    CalendarDay.objects.create(day=dt.date(2026, 10, 1), kind=CalendarDay.Kind.HOLIDAY, name="国庆节", sample=True)
    lead = _lead(world, ProcedureStep.ACCEPT, dt.date(2026, 12, 28))
    notice = lead_deadlines(lead=Lead.objects.get(pk=lead.pk), today=dt.date(2026, 12, 29)).notice
    assert "节假日安排为示例数据，请系统管理员导入正式公布的安排" in notice
    assert "2027年节假日安排尚未导入" in notice  # the whole procedure is due in 2027


def test_comparisons_complete_end_the_step_on_the_page_and_in_the_filter(world, calendar_days) -> None:  # type: ignore[no-untyped-def]
    from monitoring.models.comparisons import ComparisonSource, DataComparison

    _isolate(ProcedureStep.COMPARISON, (2, DayUnit.WORKING))
    lead = _lead(world, ProcedureStep.COMPARISON, dt.date(2026, 9, 30))
    today = dt.date(2026, 10, 12)
    assert _status(lead, ProcedureStep.COMPARISON, today) == OVERDUE and _filtered(lead, today)
    sources = list(ComparisonSource.objects.filter(active=True))
    assert sources  # seeded by migration 0032
    for source in sources:
        DataComparison.objects.create(
            lead=lead, source=source, compared_on=dt.date(2026, 10, 9), result="NO_ISSUE", recorded_at=_at(today)
        )
    assert _status(lead, ProcedureStep.COMPARISON, today) == DONE
    assert not _filtered(lead, today) and not _page_overdue(lead, today)
    # a 有异常 without the county's judgement: not complete again
    DataComparison.objects.filter(lead=lead, source=sources[0]).update(result="ISSUE", note="有车辆")
    assert _status(lead, ProcedureStep.COMPARISON, today) == OVERDUE and _filtered(lead, today)
