"""风险消除 with identification's steps (issue 18): 入户核实 → 民主评议 → 公示 ≥ 5 days → 乡镇审核 after the
公示 → 县级审定 with every criterion checked again; each at its boundary, audited, locked, scoped; the
criteria added (12-month income, spending spike, no new risk); proposals made before the steps; the
elimination 公示名单 without personal data; step deadlines across a holiday and a 调休 weekend; the API."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from assistance.models import EliminationProposal
from assistance.selectors.elimination import elimination_criteria
from assistance.selectors.elimination_steps import Step, elimination_deadlines, elimination_step
from assistance.services.elimination import (
    elimination_act,
    elimination_appraisal_record,
    elimination_home_check_record,
    elimination_publicity_record,
)
from fanpin.core.models import AuditEntry
from fanpin.core.workflow import ObjectOutOfScope, TransitionNotAllowed
from monitoring.models import CalendarDay, DepartmentAlert, Lead, Member, MonitoringTarget, TargetStatus
from monitoring.models.calendar import ProcedureStep
from tests.assistance.factories import ProposalFactory
from tests.assistance.helpers import LINE, TODAY, eligible_target
from tests.assistance.test_elimination_workflow import (
    CHECKED,
    eligible_now,
    home_check,
    propose,
    steps_done,
    through_publicity,
)
from tests.conftest import World
from tests.factories import ExpenditureFactory, LeadFactory, MemberFactory, VisitFactory, make_id_number

pytestmark = pytest.mark.django_db

VILLAGE = "520101001001"
DAY = dt.timedelta(days=1)


@pytest.fixture
def target(world: World) -> MonitoringTarget:
    return eligible_target(world.households[VILLAGE])


def _codes(target: MonitoringTarget, today: dt.date = TODAY) -> dict[str, bool]:
    return {c.code: c.met for c in elimination_criteria(target=target, today=today).criteria}


# -- the 入户核实 with the proposal --------------------------------------------------------------------


@pytest.mark.parametrize("field", list(CHECKED))
def test_a_home_check_with_an_item_not_secured_is_refused(world: World, target: MonitoringTarget, field: str) -> None:
    checklist = {**CHECKED, field: False}
    from assistance.services.elimination import HomeCheck, elimination_propose

    with pytest.raises(ValidationError) as exc:
        elimination_propose(
            actor=world.users["village"],
            target_id=target.pk,
            method="ASSISTED",
            home_check=HomeCheck(checked_on=TODAY, visitors="王五", checklist=checklist),
            today=TODAY,
        )
    assert "入户核实未保障" in str(exc.value.message_dict["checklist"])
    assert not EliminationProposal.objects.exists()


def test_a_green_channel_target_with_steps_still_owed_cannot_be_proposed(
    world: World, target: MonitoringTarget
) -> None:
    """The identification's 核实、评议、公示 owed by a 县级直接确定 come first (else the follow-up
    would stay open and overdue for a household no longer monitored)."""
    from assistance.services.elimination import HomeCheck, elimination_propose
    from monitoring.models import FollowUp

    follow_up = FollowUp.objects.create(
        target=target,
        opened_on=TODAY - 200 * DAY,
        opened_at=timezone.now(),
        opened_by=world.users["county"],
        owes_publicity=True,
    )

    def propose_now() -> EliminationProposal:
        return elimination_propose(
            actor=world.users["village"],
            target_id=target.pk,
            method="ASSISTED",
            home_check=HomeCheck(checked_on=TODAY, visitors="王五", checklist=dict(CHECKED)),
            today=TODAY,
        )

    assessment = elimination_criteria(target=target, today=TODAY)
    follow = [c for c in assessment.criteria if c.code == "FOLLOW_UP"]
    assert [(c.met, c.value) for c in follow] == [(False, "县级直接确定，补办尚未完成")]
    with pytest.raises(ValidationError, match="未满足风险消除条件：绿色通道补办的入户核实、民主评议和公示已办结"):
        propose_now()
    assert not EliminationProposal.objects.exists()
    FollowUp.objects.filter(pk=follow_up.pk).update(state="DONE", completed_at=timezone.now())
    assert propose_now().state == "PROPOSED"


def test_home_check_date_and_visitors_are_required_and_bounded(world: World, target: MonitoringTarget) -> None:
    from assistance.services.elimination import HomeCheck, elimination_propose

    def attempt(day: dt.date, visitors: str = "王五") -> dict[str, list[str]]:
        with pytest.raises(ValidationError) as exc:
            elimination_propose(
                actor=world.users["village"],
                target_id=target.pk,
                method="ASSISTED",
                home_check=HomeCheck(checked_on=day, visitors=visitors, checklist=CHECKED),
                today=TODAY,
            )
        return exc.value.message_dict

    assert attempt(TODAY + DAY)["checked_on"] == ["入户核实日期不能晚于今天。"]
    assert "不能早于识别日期" in attempt(target.identified_on - DAY)["checked_on"][0]
    assert attempt(TODAY, visitors=" ")["visitors"] == ["请填写核实人员。"]


def test_the_home_check_counts_as_the_latest_visit(world: World, target: MonitoringTarget) -> None:
    """A visit 100 days old fails the visit criterion; the proposal's 入户核实 today meets it."""
    target.household.visits.update(visited_on=TODAY - dt.timedelta(days=100))
    assert not _codes(target)["VISIT"]
    proposal = propose(world, target)
    visit = {c["code"]: c for c in proposal.criteria}["VISIT"]
    assert visit["met"] and visit["value"].startswith("入户核实 2025-09-01（0 天前）")


# -- 民主评议 and 公示 -----------------------------------------------------------------------------------


def test_appraisal_disagreed_ends_the_proposal_with_the_reason(world: World, target: MonitoringTarget) -> None:
    proposal = propose(world, target)
    village = world.users["village"]
    with pytest.raises(ValidationError, match="请填写原因"):
        elimination_appraisal_record(actor=village, pk=proposal.pk, appraisal_on=TODAY, outcome="DISAGREED")
    elimination_appraisal_record(
        actor=village, pk=proposal.pk, appraisal_on=TODAY, outcome="DISAGREED", reason="群众反映收入不稳定", today=TODAY
    )
    proposal.refresh_from_db()
    assert (proposal.state, proposal.rejection_reason, proposal.appraisal_outcome) == (
        "REJECTED",
        "群众反映收入不稳定",
        "DISAGREED",
    )
    entry = AuditEntry.objects.get(object_type="elimination", action="appraisal_reject")
    assert (entry.from_state, entry.to_state, entry.reason) == ("PROPOSED", "REJECTED", "群众反映收入不稳定")
    target.refresh_from_db()
    assert target.status == TargetStatus.ACTIVE
    propose(world, target)  # a new proposal may follow


def test_appraisal_and_publicity_are_audited_with_the_steps(world: World, target: MonitoringTarget) -> None:
    proposal = through_publicity(world, propose(world, target))
    rows = list(
        AuditEntry.objects.filter(object_type="elimination")
        .order_by("id")
        .values_list("action", "from_state", "to_state", "region_code")
    )
    assert rows == [
        ("propose", "", "PROPOSED", VILLAGE),
        ("appraisal", Step.APPRAISAL, Step.PUBLICITY, VILLAGE),
        ("publicity", Step.PUBLICITY, Step.IN_PUBLICITY, VILLAGE),
    ]
    assert (proposal.publicity_start, proposal.publicity_end) == (TODAY, TODAY + dt.timedelta(days=4))


def test_publicity_of_four_days_is_refused_five_inclusive_pass(world: World, target: MonitoringTarget) -> None:
    proposal = propose(world, target)
    village = world.users["village"]
    elimination_appraisal_record(actor=village, pk=proposal.pk, appraisal_on=TODAY, outcome="AGREED", today=TODAY)
    with pytest.raises(ValidationError) as exc:
        elimination_publicity_record(actor=village, pk=proposal.pk, start=TODAY, end=TODAY + 3 * DAY, today=TODAY)
    assert exc.value.message_dict["end"] == ["公示期不少于 5 天（含首尾两天）。"]
    with pytest.raises(ValidationError, match="民主评议"):
        elimination_publicity_record(actor=village, pk=proposal.pk, start=TODAY - DAY, end=TODAY + 4 * DAY, today=TODAY)
    elimination_publicity_record(actor=village, pk=proposal.pk, start=TODAY, end=TODAY + 4 * DAY, today=TODAY)


def test_steps_go_in_order_and_a_double_submit_is_refused(world: World, target: MonitoringTarget) -> None:
    proposal = propose(world, target)
    village = world.users["village"]
    with pytest.raises(TransitionNotAllowed, match="待民主评议"):
        elimination_publicity_record(actor=village, pk=proposal.pk, start=TODAY, end=TODAY + 4 * DAY, today=TODAY)
    through_publicity(world, proposal)
    with pytest.raises(TransitionNotAllowed):
        elimination_appraisal_record(actor=village, pk=proposal.pk, appraisal_on=TODAY, outcome="AGREED", today=TODAY)
    with pytest.raises(TransitionNotAllowed, match="公示中"):
        elimination_publicity_record(actor=village, pk=proposal.pk, start=TODAY, end=TODAY + 9 * DAY, today=TODAY)
    assert AuditEntry.objects.filter(object_type="elimination", action="publicity").count() == 1
    proposal.refresh_from_db()
    assert proposal.publicity_end == TODAY + 4 * DAY


def test_only_the_village_records_its_steps_in_its_own_village(world: World, target: MonitoringTarget) -> None:
    from django.core.exceptions import PermissionDenied

    proposal = propose(world, target)
    with pytest.raises(PermissionDenied):
        elimination_appraisal_record(
            actor=world.users["township"], pk=proposal.pk, appraisal_on=TODAY, outcome="AGREED", today=TODAY
        )
    other = eligible_target(world.households["520101001002"], with_line=False)
    foreign = ProposalFactory(target=other, proposed_by=world.users["admin"], **steps_done())
    with pytest.raises(ObjectOutOfScope):
        elimination_home_check_record(actor=world.users["village"], pk=foreign.pk, home_check=home_check())


# -- 乡镇审核 after the 公示 ---------------------------------------------------------------------------


def test_township_review_refused_on_the_end_day_allowed_the_day_after(world: World, target: MonitoringTarget) -> None:
    proposal = through_publicity(world, propose(world, target))
    end = TODAY + 4 * DAY
    township = world.users["township"]
    for day in (TODAY, end):
        with pytest.raises(TransitionNotAllowed, match="公示期至2025年9月5日结束，请于2025年9月6日及以后审核"):
            elimination_act(actor=township, pk=proposal.pk, name="review", opinion="", today=day)
    proposal.refresh_from_db()
    assert proposal.state == "PROPOSED" and proposal.reviewed_at is None
    elimination_act(actor=township, pk=proposal.pk, name="review", opinion="属实", today=end + DAY)
    proposal.refresh_from_db()
    assert (proposal.state, proposal.reviewed_by) == ("REVIEWED", township)
    assert elimination_step(proposal, today=end + DAY) == Step.COUNTY


def test_a_proposal_made_before_the_steps_records_them_before_the_review(
    world: World, target: MonitoringTarget
) -> None:
    """As the demo or an older migration left it: no 入户核实, no 评议, no 公示."""
    old = ProposalFactory(target=target, proposed_by=world.users["village"], criteria=[])
    assert elimination_step(old, today=TODAY) == Step.HOME_CHECK
    township, village = world.users["township"], world.users["village"]
    with pytest.raises(TransitionNotAllowed, match="尚未录入入户核实"):
        elimination_act(actor=township, pk=old.pk, name="review", opinion="", today=TODAY)
    with pytest.raises(TransitionNotAllowed, match="当前为“待补录入户核实”，不能登记民主评议"):
        elimination_appraisal_record(actor=village, pk=old.pk, appraisal_on=TODAY, outcome="AGREED", today=TODAY)
    elimination_home_check_record(actor=village, pk=old.pk, home_check=home_check(), today=TODAY)
    with pytest.raises(TransitionNotAllowed, match="尚未登记同意的民主评议"):
        elimination_act(actor=township, pk=old.pk, name="review", opinion="", today=TODAY)
    with pytest.raises(TransitionNotAllowed):  # recorded once
        elimination_home_check_record(actor=village, pk=old.pk, home_check=home_check(), today=TODAY)
    through_publicity(world, old)
    elimination_act(actor=township, pk=old.pk, name="review", opinion="", today=TODAY + 5 * DAY)
    elimination_act(actor=world.users["county"], pk=old.pk, name="confirm", opinion="", today=TODAY + 5 * DAY)
    target.refresh_from_db()
    assert target.status == TargetStatus.ELIMINATED
    actions = list(AuditEntry.objects.filter(object_type="elimination").order_by("id").values_list("action", flat=True))
    assert actions == ["home_check", "appraisal", "publicity", "review", "confirm"]


# -- 县级审定: every criterion again -------------------------------------------------------------------


@pytest.mark.parametrize("spoil", ["visit_too_old", "open_lead", "measure_stopped", "spike", "alert", "risk_flag"])
def test_county_refuses_when_a_criterion_fails_at_decision_time(
    world: World, target: MonitoringTarget, spoil: str
) -> None:
    proposal = ProposalFactory(target=target, state="REVIEWED", proposed_by=world.users["village"], **steps_done())
    household = target.household
    decided_on = TODAY
    if spoil == "visit_too_old":
        decided_on = TODAY + 90 * DAY  # the visit of 7 days before and the 入户核实 of 5 days before
    elif spoil == "open_lead":
        LeadFactory(household=household, state="NEW")
    elif spoil == "measure_stopped":
        target.measures.update(status="TERMINATED")
    elif spoil == "spike":
        ExpenditureFactory(
            household=household, occurred_on=TODAY - 30 * DAY, amount=LINE + 1, reimbursed=Decimal("0.00")
        )
    elif spoil == "alert":
        member = household.members.first() or MemberFactory(household=household)
        DepartmentAlert.objects.create(
            id_number=member.id_number,
            name=member.name,
            alert_type="MEDICAL",
            alert_date=TODAY - 10 * DAY,
            department="医保局",
            member=member,
            status="MATCHED",
            region_code=VILLAGE,
        )
    elif spoil == "risk_flag":
        VisitFactory(household=household, visited_on=TODAY - DAY, risk_flag=True)
    with pytest.raises(ValidationError, match="审定时未满足风险消除条件"):
        elimination_act(actor=world.users["county"], pk=proposal.pk, name="confirm", opinion="", today=decided_on)
    proposal.refresh_from_db()
    target.refresh_from_db()
    assert (proposal.state, target.status) == ("REVIEWED", TargetStatus.ACTIVE)
    assert not AuditEntry.objects.filter(action__in=["confirm", "eliminate"]).exists()


def test_spike_rule_is_judged_on_the_latest_twelve_months(world: World, target: MonitoringTarget) -> None:
    household = target.household
    ExpenditureFactory(household=household, occurred_on=TODAY - 366 * DAY, amount=LINE * 3, reimbursed=0)
    assert _codes(target)["SPIKE"]  # older than the 12 months
    ExpenditureFactory(household=household, occurred_on=TODAY - 364 * DAY, amount=LINE, reimbursed=0)
    assert _codes(target)["SPIKE"]  # equal to the income: does not exceed it (ratio 1.0)
    ExpenditureFactory(household=household, occurred_on=TODAY, amount=Decimal("0.01"), reimbursed=0)
    assessment = elimination_criteria(target=target, today=TODAY)
    spike = {c.code: c for c in assessment.criteria}["SPIKE"]
    assert not spike.met and "自付刚性支出 7,000.01 元，超过家庭纯收入 7,000.00 元" in spike.value


def test_a_twelve_month_accounting_at_the_home_check_is_the_income_basis(
    world: World, target: MonitoringTarget
) -> None:
    """The annual record is below the line; the 核算 recorded with the 入户核实 is above it."""
    target.household.incomes.update(wage_income=LINE - 1)
    assert not _codes(target)["INCOME"]
    with pytest.raises(ValidationError, match="近 12 个月收入不低于监测标准"):
        propose(world, target)
    proposal = _propose_with_accounting(world, target, wage=LINE * 2)
    income = {c["code"]: c for c in proposal.criteria}["INCOME"]
    assert income["met"]
    assert "依据2025-09-01 入户核实的 12 个月收支核算（2024-09-02 至 2025-09-01）" in income["value"]


def _propose_with_accounting(world: World, target: MonitoringTarget, *, wage: Decimal) -> EliminationProposal:
    from assistance.services.elimination import elimination_propose

    return elimination_propose(
        actor=world.users["village"],
        target_id=target.pk,
        method="ASSISTED",
        home_check=home_check(
            TODAY,
            family_size=2,
            wage_income=wage,
            business_income=Decimal("0"),
            property_income=Decimal("0"),
            transfer_income=Decimal("0"),
        ),
        today=TODAY,
    )


def test_no_new_risk_names_what_it_found(world: World, target: MonitoringTarget) -> None:
    assert _codes(target)["NO_NEW_RISK"]
    LeadFactory(household=target.household, state="VERIFIED")
    value = {c.code: c.value for c in elimination_criteria(target=target, today=TODAY).criteria}["NO_NEW_RISK"]
    assert value == "有未办结的预警线索 1 条"
    Lead.objects.all().delete()
    VisitFactory(household=target.household, visited_on=target.identified_on - DAY, risk_flag=True)
    assert _codes(target)["NO_NEW_RISK"]  # before identification, and not the latest visit


# -- the elimination 公示名单: no personal data -----------------------------------------------------------


def _in_publicity(world: World) -> tuple[MonitoringTarget, list[str]]:
    """A household in 公示 today whose records hold every kind of personal data the list must not show."""
    target = eligible_target(world.households[VILLAGE], today=timezone.localdate())
    household = target.household
    household.phone = "13987654321"
    household.save(update_fields=["phone"])
    head_id = make_id_number()
    spouse_id = make_id_number()
    Member.objects.filter(household=household).delete()
    MemberFactory(household=household, relation="HEAD", name="张大山", id_number=head_id, health="SERIOUS")
    MemberFactory(household=household, name="李小花", id_number=spouse_id, health="DISABLED", disability_grade="G2")
    MonitoringTarget.objects.filter(pk=target.pk).update(risk_types=["ILLNESS", "DISABILITY"])
    today = timezone.localdate()
    ProposalFactory(
        target=target,
        proposed_by=world.users["village"],
        opinion="患有大病，已治愈；身份证 " + head_id,
        **{**steps_done(today), "publicity_start": today - DAY, "publicity_end": today + 3 * DAY},
    )
    forbidden = [head_id, head_id[-4:] + "x", spouse_id, "13987654321", "因病", "因残", "大病", "慢性病", "残疾", "患"]
    return target, forbidden


def test_publicity_page_and_xlsx_show_no_personal_data(world: World) -> None:
    _target, forbidden = _in_publicity(world)
    client = world.client_for("village")
    page = client.get(reverse("assistance:elimination_publicity", args=[VILLAGE]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "张大山" in html and "拟风险消除名单公示" in html and "帮扶消除" in html
    for value in forbidden:
        assert value not in html, value
    response = client.get(reverse("assistance:elimination_publicity_xlsx", args=[VILLAGE]))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][1:4] == ("张大山", world.households[VILLAGE].village.name, 2)
    cells = [str(c) for row in rows for c in row if c is not None]
    text = " ".join(cells)
    for value in forbidden:
        assert value not in text, value
    assert AuditEntry.objects.filter(object_type="export", object_id="elimination_publicity").exists()


def test_publicity_list_is_scoped_and_lists_only_households_in_publicity(world: World) -> None:
    _in_publicity(world)
    assert (
        world.client_for("county").get(reverse("assistance:elimination_publicity", args=[VILLAGE])).status_code == 200
    )
    for role in ("dept",):
        assert world.client_for(role).get(reverse("assistance:elimination_publicity", args=[VILLAGE])).status_code in (
            403,
            404,
        )
    other = world.client_for("village").get(reverse("assistance:elimination_publicity", args=["520101001002"]))
    assert other.status_code == 404
    outside = world.client_for("county").get(reverse("assistance:elimination_publicity", args=["530101001001"]))
    assert outside.status_code == 404
    EliminationProposal.objects.update(publicity_end=timezone.localdate() - DAY)
    page = world.client_for("village").get(reverse("assistance:elimination_publicity", args=[VILLAGE]))
    assert "张大山" not in page.content.decode()


# -- deadlines across a holiday and a 调休 weekend -------------------------------------------------------


@pytest.fixture
def national_day() -> None:
    """2025: 10月1日–8日 holidays, 9月28日 (Sunday) and 10月11日 (Saturday) worked (调休)."""
    for n in range(8):
        CalendarDay.objects.create(day=dt.date(2025, 10, 1) + n * DAY, kind="HOLIDAY", name="国庆节、中秋节")
    for day in (dt.date(2025, 9, 28), dt.date(2025, 10, 11)):
        CalendarDay.objects.create(day=day, kind="WORKDAY", name="调休上班")


def _agreed(
    world: World, target: MonitoringTarget, checked: dt.date, start: dt.date, end: dt.date
) -> EliminationProposal:
    """A proposal home-checked and agreed on ``checked``, its 公示 ``start``–``end``."""
    return ProposalFactory(
        target=target,
        proposed_by=world.users["village"],
        home_checked_on=checked,
        home_checklist=dict(CHECKED),
        appraisal_on=checked,
        appraisal_outcome="AGREED",
        publicity_start=start,
        publicity_end=end,
    )


def test_deadlines_across_the_holiday_and_the_working_weekend(
    world: World, target: MonitoringTarget, national_day: None
) -> None:
    checked = dt.date(2025, 9, 26)  # a Friday
    proposal = _agreed(world, target, checked, dt.date(2025, 9, 26), dt.date(2025, 9, 30))
    proposal.publicity_start = proposal.publicity_end = None  # 公示 not yet recorded: the step runs
    # 5 working days after Friday 26 September: 28 (调休 Sunday), 29, 30, then 9 and 10 October
    deadlines = {d.step: d for d in elimination_deadlines(proposal=proposal, today=dt.date(2025, 10, 10))}
    publicity = deadlines[ProcedureStep.ELIMINATION_PUBLICITY]
    assert publicity.due == dt.date(2025, 10, 10) and not publicity.overdue
    late = {d.step: d for d in elimination_deadlines(proposal=proposal, today=dt.date(2025, 10, 11))}
    assert late[ProcedureStep.ELIMINATION_PUBLICITY].overdue
    # the township's 3 working days from the 公示 end (30 September): 9, 10 and 11 (调休 Saturday)
    proposal.publicity_start, proposal.publicity_end = dt.date(2025, 9, 26), dt.date(2025, 9, 30)
    township = {d.step: d for d in elimination_deadlines(proposal=proposal, today=dt.date(2025, 10, 11))}
    assert township[ProcedureStep.ELIMINATION_TOWNSHIP].due == dt.date(2025, 10, 11)
    assert not township[ProcedureStep.ELIMINATION_TOWNSHIP].overdue
    assert {d.step: d for d in elimination_deadlines(proposal=proposal, today=dt.date(2025, 10, 13))}[
        ProcedureStep.ELIMINATION_TOWNSHIP
    ].overdue
    # the county's 3 working days from the review on 8 October (a holiday): 9, 10, 11
    proposal.state = "REVIEWED"
    proposal.reviewed_at = dt.datetime(2025, 10, 8, 10, tzinfo=dt.UTC)
    county = {d.step: d for d in elimination_deadlines(proposal=proposal, today=dt.date(2025, 10, 12))}
    assert county[ProcedureStep.ELIMINATION_COUNTY].due == dt.date(2025, 10, 11)
    assert county[ProcedureStep.ELIMINATION_COUNTY].overdue
    assert county[ProcedureStep.ELIMINATION_TOWNSHIP].done_on == dt.date(2025, 10, 8)


def test_the_publicity_step_ends_with_the_publicity_as_the_lead_s_does(world: World, target: MonitoringTarget) -> None:
    """评议公示 is 办理中 while the 公示 runs and done on its end date; the township's step starts then."""
    proposal = _agreed(world, target, dt.date(2026, 3, 2), dt.date(2026, 3, 3), dt.date(2026, 3, 9))
    during = {d.step: d for d in elimination_deadlines(proposal=proposal, today=dt.date(2026, 3, 9))}
    assert during[ProcedureStep.ELIMINATION_PUBLICITY].done_on is None
    assert during[ProcedureStep.ELIMINATION_PUBLICITY].status == "办理中"
    assert during[ProcedureStep.ELIMINATION_TOWNSHIP].status == "未开始"
    after = {d.step: d for d in elimination_deadlines(proposal=proposal, today=dt.date(2026, 3, 10))}
    assert after[ProcedureStep.ELIMINATION_PUBLICITY].done_on == dt.date(2026, 3, 9)
    assert after[ProcedureStep.ELIMINATION_TOWNSHIP].start == dt.date(2026, 3, 9)
    assert after[ProcedureStep.ELIMINATION_TOWNSHIP].status == "办理中"


def test_the_proposal_page_and_list_show_steps_and_deadlines(world: World, target: MonitoringTarget) -> None:
    eligible_now(target)
    today = timezone.localdate()
    proposal = ProposalFactory(
        target=target,
        proposed_by=world.users["village"],
        home_checked_on=today - 30 * DAY,
        home_visitors="王五",
        home_checklist=dict(CHECKED),
    )
    client = world.client_for("township")
    page = client.get(reverse("assistance:proposal_detail", args=[proposal.pk])).content.decode()
    assert "待民主评议" in page and "风险消除评议公示" in page and "已超期" in page
    listing = client.get(reverse("assistance:elimination_list")).content.decode()
    assert "待民主评议" in listing and "已超期" in listing


# -- pages ---------------------------------------------------------------------------------------------


def test_village_pages_record_the_steps_with_errors_next_to_the_fields(world: World, target: MonitoringTarget) -> None:
    eligible_now(target)
    today = timezone.localdate()
    client = world.client_for("village")
    url = reverse("assistance:elimination_propose", args=[target.pk])
    assert "入户核实并提议风险消除" in client.get(url).content.decode()
    bad = client.post(url, {"checked_on": today.isoformat(), "visitors": "", "method": "ASSISTED"})
    assert bad.status_code == 400 and "请填写核实人员。" in bad.content.decode()
    data = {"checked_on": today.isoformat(), "visitors": "王五", "method": "ASSISTED", **dict.fromkeys(CHECKED, "on")}
    response = client.post(url, data)
    proposal = EliminationProposal.objects.get()
    assert response.status_code == 302 and proposal.home_visitors == "王五"
    detail = reverse("assistance:proposal_detail", args=[proposal.pk])
    assert "登记民主评议" in client.get(detail).content.decode()
    appraisal = reverse("assistance:elimination_appraisal", args=[proposal.pk])
    client.post(appraisal, {"appraisal_on": today.isoformat(), "outcome": "AGREED"})
    publicity = reverse("assistance:elimination_publicity_record", args=[proposal.pk])
    short = client.post(publicity, {"start": today.isoformat(), "end": (today + 3 * DAY).isoformat()})
    assert short.status_code == 400 and "公示期不少于 5 天（含首尾两天）。" in short.content.decode()
    client.post(publicity, {"start": today.isoformat(), "end": (today + 4 * DAY).isoformat()})
    again = client.post(publicity, {"start": today.isoformat(), "end": (today + 4 * DAY).isoformat()})
    assert again.status_code == 400 and "不能登记公示" in again.content.decode()
    proposal.refresh_from_db()
    assert elimination_step(proposal, today=today) == Step.IN_PUBLICITY
    township = world.client_for("township").get(detail).content.decode()
    assert "公示期至" in township and "及以后审核" in township


# -- the API -------------------------------------------------------------------------------------------


def test_api_walks_the_steps_and_refuses_the_early_review(world: World, target: MonitoringTarget) -> None:
    eligible_now(target)
    today = timezone.localdate()
    village = APIClient()
    village.force_authenticate(world.users["village"])
    answer = village.post(
        "/api/v1/eliminations/propose/",
        {
            "target": target.pk,
            "method": "NATURAL",
            "checked_on": today.isoformat(),
            "visitors": "王五",
            "checklist": dict(CHECKED),
        },
        format="json",
    )
    assert answer.status_code == 200, answer.content
    pk = answer.json()["id"]
    assert answer.json()["step"] == "APPRAISAL"
    assert (
        village.post(f"/api/v1/eliminations/{pk}/appraisal/", {"appraisal_on": today, "outcome": "AGREED"}).status_code
        == 200
    )
    done = village.post(f"/api/v1/eliminations/{pk}/publicity/", {"start": today, "end": today + 4 * DAY})
    assert done.json()["step"] == "IN_PUBLICITY"
    township = APIClient()
    township.force_authenticate(world.users["township"])
    early = township.post(f"/api/v1/eliminations/{pk}/review/", {"opinion": ""})
    assert early.status_code == 409 and "公示期至" in early.json()["detail"]
    assert village.post(f"/api/v1/eliminations/{pk}/review/", {}).status_code == 403
    outsider = APIClient()
    outsider.force_authenticate(world.users["village"])
    other = eligible_target(world.households["520101001002"], with_line=False)
    foreign = ProposalFactory(target=other, proposed_by=world.users["admin"])
    assert outsider.get(f"/api/v1/eliminations/{foreign.pk}/").status_code == 404
    listing = township.get("/api/v1/eliminations/").json()
    assert {row["id"] for row in listing["results"]} == {foreign.pk, pk}


def test_the_proposals_list_reads_a_fixed_number_of_queries(world: World, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    """Steps and deadlines of every proposal on the list: one calendar read, limits once per province."""
    client = world.client_for("county")
    url = reverse("assistance:elimination_list")

    def add(code: str) -> None:
        target = eligible_target(world.households[code], with_line=False)
        ProposalFactory(target=target, proposed_by=world.users["village"], **steps_done(timezone.localdate()))

    add(VILLAGE)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    add("520101001002")
    add("520101002001")
    with django_assert_max_num_queries(len(one)):
        page = client.get(url)
    assert page.content.decode().count("待乡镇审核") == 3


def test_the_api_list_reads_a_fixed_number_of_queries(world: World, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    """The API's deadlines: one calendar and one limits read per response, not per proposal."""
    client = APIClient()
    client.force_authenticate(world.users["county"])

    def add(code: str) -> None:
        target = eligible_target(world.households[code], with_line=False)
        ProposalFactory(target=target, proposed_by=world.users["village"], **steps_done(timezone.localdate()))

    add(VILLAGE)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        assert client.get("/api/v1/eliminations/").status_code == 200
    add("520101001002")
    add("520101002001")
    with django_assert_max_num_queries(len(one)):
        listing = client.get("/api/v1/eliminations/").json()
    assert len(listing["results"]) == 3
    assert all(len(row["deadlines"]) == 3 for row in listing["results"])


def test_a_publicity_longer_than_sixty_days_is_refused(world: World, target: MonitoringTarget) -> None:
    proposal = propose(world, target)
    village = world.users["village"]
    elimination_appraisal_record(actor=village, pk=proposal.pk, appraisal_on=TODAY, outcome="AGREED", today=TODAY)
    with pytest.raises(ValidationError, match="公示期不超过 60 天"):
        elimination_publicity_record(actor=village, pk=proposal.pk, start=TODAY, end=dt.date(9999, 12, 31), today=TODAY)
    elimination_publicity_record(actor=village, pk=proposal.pk, start=TODAY, end=TODAY + 59 * DAY, today=TODAY)


def test_the_overdue_condition_agrees_with_the_proposal_page_day_by_day(world: World, national_day: None) -> None:
    """``proposals_overdue_condition`` (the dashboard's SQL) names exactly the open proposals whose
    page shows a running step 已超期, every day across the 国庆 holiday and its 调休 weekends, with a
    province that sets its own limit (云南: 评议公示 1 working day) beside the national defaults."""
    from assistance.selectors.elimination_steps import elimination_deadlines_many, proposals_overdue_condition
    from monitoring.models import ProcedureLimit
    from tests.factories import HouseholdFactory, TargetFactory

    ProcedureLimit.objects.create(
        province_code="530000000000", step=ProcedureStep.ELIMINATION_PUBLICITY, days=1, unit="WORKING"
    )
    checked = dt.date(2025, 9, 26)
    agreed = {"home_checked_on": checked, "home_checklist": dict(CHECKED), "appraisal_on": checked}
    agreed["appraisal_outcome"] = "AGREED"
    reviewed_at = dt.datetime(2025, 10, 8, 2, tzinfo=dt.UTC)
    scenarios = [
        ("520101001001", {"home_checked_on": checked, "home_checklist": dict(CHECKED)}),  # 评议公示 running
        ("530101001001", {"home_checked_on": checked, "home_checklist": dict(CHECKED)}),  # its own limit
        ("520101001001", {"proposed_at": dt.datetime(2025, 9, 20, 2, tzinfo=dt.UTC)}),  # no home check yet
        ("520101001002", {**agreed, "publicity_start": checked, "publicity_end": dt.date(2025, 9, 30)}),
        ("520101001002", {**agreed, "publicity_start": dt.date(2025, 10, 9), "publicity_end": dt.date(2025, 10, 13)}),
        (
            "520101002001",
            {**agreed, "publicity_start": checked, "publicity_end": dt.date(2025, 9, 30)}
            | {"state": "REVIEWED", "reviewed_at": reviewed_at},
        ),
        (
            "520101002001",
            {**agreed, "publicity_start": checked, "publicity_end": dt.date(2025, 9, 30)}
            | {"state": "REJECTED", "decided_at": reviewed_at, "rejection_reason": "收入未稳定"},
        ),
    ]
    proposals = []
    for code, fields in scenarios:
        target = TargetFactory(household=HouseholdFactory(village=world.households[code].village))
        proposals.append(ProposalFactory(target=target, proposed_by=world.users["admin"], **fields))
    rows = list(EliminationProposal.objects.select_related("target__household"))
    today = dt.date(2025, 9, 26)
    seen_late = set()
    while today <= dt.date(2025, 10, 24):
        shown = {
            pk
            for pk, steps in elimination_deadlines_many(proposals=rows, today=today).items()
            if any(d.overdue and d.done_on is None for d in steps)
        }
        condition = proposals_overdue_condition(today=today)
        by_sql = set(EliminationProposal.objects.filter(condition).values_list("pk", flat=True))
        assert by_sql == shown, today
        seen_late |= by_sql
        today += DAY
    rejected = proposals[-1].pk
    assert seen_late == {p.pk for p in proposals} - {rejected}  # each open one goes late some day


def test_the_step_condition_agrees_with_each_proposal_s_step(world: World) -> None:
    """``elimination_step_condition`` (the 待办 figures and the list's ?step= filter) puts each
    proposal at the step its page shows, before, during and after its 公示."""
    from assistance.selectors.elimination_steps import elimination_step_condition
    from tests.factories import HouseholdFactory, TargetFactory

    checked = dt.date(2026, 3, 2)
    agreed = {"home_checked_on": checked, "home_checklist": dict(CHECKED), "appraisal_on": checked}
    agreed["appraisal_outcome"] = "AGREED"
    publicity = {"publicity_start": dt.date(2026, 3, 3), "publicity_end": dt.date(2026, 3, 9)}
    decided = timezone.now()
    variants = [
        {},
        {"home_checked_on": checked, "home_checklist": dict(CHECKED)},
        agreed,
        agreed | publicity,
        agreed | publicity | {"state": "REVIEWED", "reviewed_at": decided},
        agreed
        | publicity
        | {"state": "REVIEWED", "reviewed_at": decided}
        | {"state": "CONFIRMED", "decided_at": decided},
        {"state": "REJECTED", "decided_at": decided, "rejection_reason": "民主评议不同意"},
    ]
    for fields in variants:
        target = TargetFactory(household=HouseholdFactory(village=world.households[VILLAGE].village))
        ProposalFactory(target=target, proposed_by=world.users["village"], **fields)
    rows = list(EliminationProposal.objects.all())
    for today in (dt.date(2026, 3, 8), dt.date(2026, 3, 9), dt.date(2026, 3, 10)):
        for step in Step.LABELS:
            by_sql = set(
                EliminationProposal.objects.filter(elimination_step_condition(steps=(step,), today=today)).values_list(
                    "pk", flat=True
                )
            )
            assert by_sql == {p.pk for p in rows if elimination_step(p, today=today) == step}, (today, step)


def test_the_dashboard_counts_overdue_proposals_and_follow_ups(world: World, target: MonitoringTarget) -> None:
    from assistance.selectors.dashboard import dashboard_figures

    today = timezone.localdate()
    ProposalFactory(
        target=target,
        proposed_by=world.users["village"],
        home_checked_on=today - 30 * DAY,
        home_visitors="王五",
        home_checklist=dict(CHECKED),
    )
    d = dashboard_figures(
        user=world.users["county"], region_code="520101000000", year=today.year, today=today, use_cache=False
    )
    table = d.tables["overdue_procedures"]
    by_code = dict(zip(table.codes, table.rows, strict=False))  # the last row is 合计
    assert by_code["520101001000"][1:3] == [1, 1]
    assert by_code["520101002000"][1:3] == [0, 0]
    assert table.rows[-1][:3] == ["合计", 1, 1]
