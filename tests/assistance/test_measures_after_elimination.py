"""Measures that outlive the risk: after 风险消除, 小额信贷, 公益岗位, 雨露计划 and measures ending after
the elimination keep being recorded (progress, completion, edits; audited) until they are closed;
every other measure is refused with a message; no new measure is added."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from assistance.models import MeasureStatus, ProposalState, TargetMeasure
from assistance.services.elimination import elimination_act
from assistance.services.measures import MEASURE_OBJECT_TYPE, measure_add, measure_status_set, measure_update
from fanpin.core.models import AuditEntry, User
from fanpin.core.scoping import ObjectOutOfScope
from fanpin.core.workflow import TransitionNotAllowed
from monitoring.models import MonitoringTarget, TargetStatus
from tests.assistance.factories import ProposalFactory, TargetMeasureFactory, measure
from tests.assistance.helpers import eligible_target
from tests.conftest import World
from tests.factories import TargetFactory

pytestmark = pytest.mark.django_db

ELIMINATED_ON = dt.date(2026, 6, 30)
TODAY = dt.date(2026, 12, 4)


@pytest.fixture
def target(world: World) -> MonitoringTarget:
    return TargetFactory(
        household=world.households["520101001001"],
        status=TargetStatus.ELIMINATED,
        elimination_method="ASSISTED",
        eliminated_on=ELIMINATED_ON,
    )


def applied(target: MonitoringTarget, code: str, **extra: object) -> TargetMeasure:
    extra.setdefault("status", MeasureStatus.IN_PROGRESS)
    return TargetMeasureFactory(target=target, measure=measure(code), start_on=dt.date(2026, 1, 10), **extra)


def audit_rows(item: TargetMeasure) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(object_type=MEASURE_OBJECT_TYPE, object_id=str(item.pk)).order_by("id"))


# -- what goes on ----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["MICROCREDIT", "PUBLIC_WELFARE_POST", "YULU_PLAN"])
def test_the_three_measures_keep_being_recorded_and_completed(
    world: World, target: MonitoringTarget, code: str
) -> None:
    item = applied(target, code)
    village = world.users["village"]

    measure_status_set(actor=village, pk=item.pk, status=MeasureStatus.IN_PROGRESS, note="按期还款", today=TODAY)
    measure_status_set(actor=village, pk=item.pk, status=MeasureStatus.COMPLETED, note="已结清", today=TODAY)

    item.refresh_from_db()
    assert item.status == MeasureStatus.COMPLETED
    assert "2026-12-04" in item.progress_notes and "按期还款" in item.progress_notes and "已结清" in item.progress_notes
    note, complete = audit_rows(item)
    assert (note.action, note.from_state, note.to_state, note.reason) == (
        "note",
        "IN_PROGRESS",
        "IN_PROGRESS",
        "按期还款",
    )
    assert (complete.action, complete.from_state, complete.to_state) == ("complete", "IN_PROGRESS", "COMPLETED")
    assert note.data == {"after_elimination": True} and complete.data == {"after_elimination": True}
    assert note.actor == village and complete.region_code == "520101001001"

    # completed: it has ended, nothing more is recorded
    with pytest.raises(TransitionNotAllowed, match=r"“[^”]+”已完成，不能再记录或修改。"):
        measure_status_set(actor=village, pk=item.pk, status=MeasureStatus.COMPLETED, note="补记", today=TODAY)


def test_a_measure_ending_after_the_elimination_goes_on_until_closed(world: World, target: MonitoringTarget) -> None:
    item = applied(target, "LABOR_TRANSFER", status=MeasureStatus.PLANNED, end_on=ELIMINATED_ON + dt.timedelta(days=1))
    county = world.users["county"]
    measure_status_set(actor=county, pk=item.pk, status=MeasureStatus.IN_PROGRESS, note="已到岗")
    measure_status_set(actor=county, pk=item.pk, status=MeasureStatus.TERMINATED, note="企业停工")
    item.refresh_from_db()
    assert item.status == MeasureStatus.TERMINATED
    assert [r.action for r in audit_rows(item)] == ["start", "terminate"]


def test_the_county_edits_a_measure_that_goes_on(world: World, target: MonitoringTarget) -> None:
    item = applied(target, "YULU_PLAN", end_on=dt.date(2027, 6, 30))
    measure_update(
        actor=world.users["county"],
        pk=item.pk,
        responsible_name="李老师",
        responsible_unit=item.responsible_unit,
        responsible_phone=item.responsible_phone,
        start_on=item.start_on,
        end_on=dt.date(2028, 6, 30),
    )
    item.refresh_from_db()
    assert item.end_on == dt.date(2028, 6, 30) and item.responsible_name == "李老师"
    (row,) = audit_rows(item)
    assert row.action == "update" and row.data["after_elimination"] is True
    assert row.data["changes"]["end_on"] == ["2027-06-30", "2028-06-30"]


# -- what is refused -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "end_on"),
    [
        ("TEMPORARY_RELIEF", None),  # no end date, not one of the three
        ("LABOR_TRANSFER", ELIMINATED_ON),  # ended on the day of the elimination
        ("MEDICAL_ASSISTANCE", dt.date(2026, 3, 1)),  # ended before it
    ],
)
def test_other_measures_are_refused_and_nothing_is_written(
    world: World, target: MonitoringTarget, code: str, end_on: dt.date | None
) -> None:
    item = applied(target, code, end_on=end_on, progress_notes="原有进展")
    for role, status in (("village", MeasureStatus.IN_PROGRESS), ("county", MeasureStatus.IN_PROGRESS)):
        with pytest.raises(ValidationError) as refused:  # a progress note
            measure_status_set(actor=world.users[role], pk=item.pk, status=status, note="补记", today=TODAY)
        assert "不属于风险消除后继续实施的措施" in str(refused.value)
        assert "只能标为已完成或已终止" in str(refused.value)
        assert item.measure.name in str(refused.value)
    with pytest.raises(TransitionNotAllowed, match="不属于风险消除后继续实施的措施"):
        measure_update(
            actor=world.users["county"],
            pk=item.pk,
            responsible_name="新责任人",
            responsible_unit=item.responsible_unit,
            responsible_phone=item.responsible_phone,
            start_on=item.start_on,
            end_on=dt.date(2027, 1, 1),  # moving the end date does not revive it
        )
    item.refresh_from_db()
    assert item.status == MeasureStatus.IN_PROGRESS and item.progress_notes == "原有进展"
    assert item.responsible_name == "王帮扶" and item.end_on == end_on
    assert audit_rows(item) == []


@pytest.mark.parametrize("status", [MeasureStatus.COMPLETED, MeasureStatus.TERMINATED])
def test_a_measure_left_open_at_the_elimination_may_still_be_closed(
    world: World, target: MonitoringTarget, status: str
) -> None:
    """Else it would stay 实施中 for ever (in the measure lists and reminders); closing is audited,
    and after it nothing more is recorded."""
    item = applied(target, "TEMPORARY_RELIEF", end_on=None, progress_notes="原有进展")
    measure_status_set(actor=world.users["county"], pk=item.pk, status=status, note="随风险消除办结", today=TODAY)
    item.refresh_from_db()
    assert item.status == status and "随风险消除办结" in item.progress_notes
    rows = audit_rows(item)
    assert [(r.from_state, r.to_state) for r in rows] == [(MeasureStatus.IN_PROGRESS, status)]
    with pytest.raises(TransitionNotAllowed, match="不能再记录或修改"):
        measure_status_set(actor=world.users["county"], pk=item.pk, status=status, note="再记", today=TODAY)


def test_no_new_measure_on_an_eliminated_target(world: World, target: MonitoringTarget) -> None:
    with pytest.raises(ValidationError, match="已风险消除，不能再添加帮扶措施"):
        measure_add(
            actor=world.users["county"],
            target_id=target.pk,
            measure_id=measure("MICROCREDIT").pk,
            responsible_name="王帮扶",
            responsible_unit="县农业农村局",
            responsible_phone="13900001111",
            start_on=TODAY,
        )
    assert not TargetMeasure.objects.filter(target=target).exists()


def test_an_active_target_is_unchanged(world: World) -> None:
    active = TargetFactory(household=world.households["520101001002"])
    item = applied(active, "TEMPORARY_RELIEF")
    measure_status_set(actor=world.users["county"], pk=item.pk, status=MeasureStatus.COMPLETED, note="发放完毕")
    (row,) = audit_rows(item)
    assert row.action == "complete" and not row.data


def test_another_county_gets_404(world: World, target: MonitoringTarget) -> None:
    item = applied(target, "MICROCREDIT")
    other = User.objects.create(username="county2", role="COUNTY", region_id="520102000000")
    with pytest.raises(ObjectOutOfScope):
        measure_status_set(actor=other, pk=item.pk, status=MeasureStatus.COMPLETED, note="x")
    client = world.client_for("county")
    client.force_login(other)
    response = client.post(reverse("assistance:measure_progress", args=[item.pk]), {"status": "COMPLETED"})
    assert response.status_code == 404


# -- the elimination itself, then the pages --------------------------------------------------------


def test_after_a_confirmed_elimination_the_pages_record_only_what_goes_on(world: World) -> None:
    today = timezone.localdate()
    target = eligible_target(world.households["520101001002"], today=today)  # with a 小额信贷 under way
    loan = TargetMeasure.objects.get(target=target, measure__code="MICROCREDIT")
    relief = applied(target, "TEMPORARY_RELIEF")
    proposal = ProposalFactory(target=target, state=ProposalState.REVIEWED, proposed_by=world.users["village"])
    elimination_act(actor=world.users["county"], pk=proposal.pk, name="confirm", opinion="同意", today=today)
    target.refresh_from_db()
    assert target.status == TargetStatus.ELIMINATED

    client = world.client_for("county")
    page = client.get(reverse("assistance:target_plan", args=[target.pk])).content.decode()
    assert "风险消除后继续实施的措施" in page
    section = page[page.index('id="continuing"') :]
    assert "小额信贷" in section and "临时救助" not in section
    assert reverse("assistance:measure_progress", args=[loan.pk]) in page
    # the other measure left open: only its closing (已完成 / 已终止), no edit
    assert reverse("assistance:measure_progress", args=[relief.pk]) in page
    relief_row = page[page.index('data-testid="measure-row-TEMPORARY_RELIEF"') :]
    relief_row = relief_row[: relief_row.index("</tr>")]
    assert "办结措施" in relief_row and "（不变）" not in relief_row and "实施中" in relief_row
    assert reverse("assistance:measure_edit", args=[loan.pk]) in page
    assert reverse("assistance:measure_edit", args=[relief.pk]) not in page
    assert 'data-testid="measure-add-form"' not in page
    detail = client.get(reverse("monitoring:target_detail", args=[target.pk])).content.decode()
    assert reverse("assistance:target_plan", args=[target.pk]) + "#continuing" in detail

    response = client.post(
        reverse("assistance:measure_progress", args=[loan.pk]),
        {"status": "IN_PROGRESS", "note": "第一期还款"},
        follow=True,
    )
    assert "已更新“小额信贷”" in response.content.decode()
    loan.refresh_from_db()
    assert "第一期还款" in loan.progress_notes

    response = client.post(
        reverse("assistance:measure_progress", args=[relief.pk]), {"status": "IN_PROGRESS", "note": "补记"}, follow=True
    )
    text = response.content.decode()
    assert "不属于风险消除后继续实施的措施" in text and "只能标为已完成或已终止" in text
    relief.refresh_from_db()
    assert relief.status == MeasureStatus.IN_PROGRESS
    response = client.post(
        reverse("assistance:measure_progress", args=[relief.pk]),
        {"status": "COMPLETED", "note": "随风险消除办结"},
        follow=True,
    )
    relief.refresh_from_db()
    assert relief.status == MeasureStatus.COMPLETED

    response = client.post(
        reverse("assistance:measure_edit", args=[relief.pk]),
        {
            "responsible_name": "新",
            "responsible_unit": "单位",
            "responsible_phone": "13900001111",
            "start_on": "2026-01-10",
        },
    )
    assert response.status_code == 200 and "已完成，不能再记录或修改" in response.content.decode()


def test_the_page_says_when_nothing_goes_on(world: World, target: MonitoringTarget) -> None:
    applied(target, "TEMPORARY_RELIEF")
    page = world.client_for("village").get(reverse("assistance:target_plan", args=[target.pk])).content.decode()
    assert "没有继续实施的措施" in page
