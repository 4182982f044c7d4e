"""``make demo``'s last step: demo leads walked through the real workflow (pages have content)."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from assistance.models import MeasureStatus, TargetMeasure
from assistance.selectors.elimination import add_months, elimination_candidates
from assistance.services.demo import HISTORY_IN_COUNTY, VILLAGE_DIRECT, WAITING
from assistance.services.measures import MEASURE_OBJECT_TYPE
from fanpin.core.models import AuditEntry, User
from monitoring.models import Lead, LeadState, MonitoringTarget, TargetStatus, Visit
from monitoring.services.demo import demo_generate
from monitoring.services.demo_campaigns import DEMO_VISITS

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_demo_workflow_fills_every_stage_through_the_real_services() -> None:
    demo_generate(households=600, seed=2020, with_users=True)
    call_command("screen", "--year", "2025", verbosity=0)
    new_before = Lead.objects.filter(state=LeadState.NEW).count()

    call_command("demo_workflow", "--direct", "4", "--rejected", "2", verbosity=0)

    confirmed = Lead.objects.filter(state=LeadState.CONFIRMED)
    assert confirmed.count() >= 4
    assert Lead.objects.filter(state=LeadState.REJECTED).count() == 2
    # work left waiting for the township's 审核 and the county's 确定
    assert Lead.objects.filter(state=LeadState.VERIFIED).count() == WAITING
    assert Lead.objects.filter(state=LeadState.REVIEWED).count() == WAITING
    assert Lead.objects.filter(state=LeadState.NEW).count() == new_before - confirmed.count() - 2 - 2 * WAITING
    targets = MonitoringTarget.objects.all()  # active, and the demo's 风险消除 confirmed (demo_elimination)
    assert targets.count() == confirmed.count()
    assert targets.filter(status=TargetStatus.ELIMINATED).count() <= 1
    for target in targets:
        assert target.measures.count() == 2
    assert TargetMeasure.objects.filter(status=MeasureStatus.IN_PROGRESS).count() == targets.count()
    with_a_past = targets.filter(identified_on__lte=timezone.localdate() - dt.timedelta(days=200))
    assert with_a_past.count() >= 6
    # one visit per target with a past, five more in the village, and the demo 回头看's visits
    assert Visit.objects.count() == with_a_past.count() + 5 + DEMO_VISITS
    # the same audit trail as a person clicking through the pages
    direct = 4 + HISTORY_IN_COUNTY + VILLAGE_DIRECT
    assert AuditEntry.objects.filter(object_type="lead", action="confirm_direct").count() == direct
    assert AuditEntry.objects.filter(object_type="lead", action="reject").count() == 2
    assert AuditEntry.objects.filter(object_type=MEASURE_OBJECT_TYPE, action="add").count() == 2 * targets.count()


def test_demo_has_targets_ready_for_elimination_and_runs_once() -> None:
    """风险消除 can be tried in the demo: targets identified 7–12 months ago, planned and visited,
    some meeting every criterion, one of them in the village user's own village."""
    demo_generate(households=2000, seed=2020, with_users=True)
    call_command("screen", "--year", "2025", verbosity=0)
    call_command("demo_workflow", verbosity=0)
    today = timezone.localdate()
    village = User.objects.get(username="village")
    eligible = elimination_candidates(user=village, today=today)
    assert eligible, "the village user has no target to propose for 风险消除"
    target = eligible[0].target
    assert target.identified_on <= add_months(today, -6)
    assert target.lead is not None and timezone.localtime(target.lead.raised_at).date() <= target.identified_on
    assert len(elimination_candidates(user=User.objects.get(username="county"), today=today)) > len(eligible)
    # make demo again: the data stays as it is
    counts = (Lead.objects.exclude(state=LeadState.NEW).count(), Visit.objects.count(), TargetMeasure.objects.count())
    out = StringIO()
    call_command("demo_workflow", stdout=out)
    assert "已运行过" in out.getvalue()
    assert counts == (
        Lead.objects.exclude(state=LeadState.NEW).count(),
        Visit.objects.count(),
        TargetMeasure.objects.count(),
    )


def test_demo_workflow_refuses_a_database_without_the_demo_province(world) -> None:  # type: ignore[no-untyped-def]
    """Users named county/village/township exist on real servers too: no demo data, no action."""
    from monitoring.models import Lead
    from tests.factories import LeadFactory

    LeadFactory(household=world.households["520101001001"])
    call_command("demo_workflow", verbosity=0)
    assert Lead.objects.get().state == LeadState.NEW
    assert not AuditEntry.objects.exists()


def test_demo_leaves_eliminations_at_every_step() -> None:
    """风险消除 (issue 18): the demo village has a proposal with the 入户核实 only, one in 公示, one
    reviewed and one confirmed (on the 公告), all made through the services, audited."""
    from assistance.models import EliminationProposal
    from assistance.selectors.elimination_steps import Step, elimination_step

    demo_generate(households=2000, seed=2020, with_users=True)
    call_command("screen", "--year", "2025", verbosity=0)
    call_command("demo_workflow", verbosity=0)
    today = timezone.localdate()
    steps = sorted(elimination_step(p, today=today) for p in EliminationProposal.objects.all())
    assert set(steps) >= {Step.APPRAISAL, Step.IN_PUBLICITY, Step.COUNTY, Step.CONFIRMED}, steps
    confirmed = EliminationProposal.objects.get(state="CONFIRMED")
    assert confirmed.target.status == TargetStatus.ELIMINATED and confirmed.has_accounting
    assert AuditEntry.objects.filter(object_type="elimination", action="publicity").count() == 3


def test_demo_has_green_channel_work_for_the_village_and_completed_follow_ups_for_the_county() -> None:
    """The demo village's cadre has a direct confirmation whose 补办 is owed and overdue; the county
    sees overdue ones and ones since completed (by the system, audited) that may go on."""
    from monitoring.models import FollowUp
    from monitoring.selectors.followups import follow_ups_in_scope

    demo_generate(households=600, seed=2020, with_users=True)
    call_command("screen", "--year", "2025", verbosity=0)
    call_command("demo_workflow", verbosity=0)
    village, county = User.objects.get(username="village"), User.objects.get(username="county")
    assert follow_ups_in_scope(user=village, state="OVERDUE").count() == VILLAGE_DIRECT
    assert follow_ups_in_scope(user=county, state="OVERDUE").exists()
    done = follow_ups_in_scope(user=county, state="DONE")
    assert done.exists()
    for row in done:
        assert row.steps_done_on is not None and row.steps_done_on < timezone.localdate()
    trail = AuditEntry.objects.filter(object_type="follow_up", action="follow_up_complete", actor__isnull=True)
    assert trail.count() == done.count() == FollowUp.objects.filter(state="DONE").count()
    # two 不同意 appraisals went back to the county: one answered (县级复核维持认定), one waiting
    assert follow_ups_in_scope(user=county, state="REVIEW").count() == 1
    answered = FollowUp.objects.get(county_reviewed_at__isnull=False)
    assert answered.county_review and answered.county_reviewed_by == county
    assert AuditEntry.objects.filter(action="follow_up_county_review", actor=county).count() == 1
