"""绿色通道补办 on data made the other ways: the demo's direct confirmations, and the direct targets
confirmed before follow-ups existed (migration 0033's backfill)."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from assistance.selectors.todo import home_todo
from fanpin.core.models import AuditEntry, User
from monitoring.models import FollowUp, FollowUpState, MonitoringTarget
from monitoring.selectors.followups import follow_up_rows, follow_ups_in_scope
from monitoring.services.demo import demo_generate
from tests.conftest import World
from tests.factories import TargetFactory
from tests.monitoring.review_helpers import VILLAGE, lead_in

pytestmark = pytest.mark.django_db

backfill = importlib.import_module("monitoring.migrations.0033_green_channel_followup").follow_ups_backfill


@pytest.mark.slow
def test_the_demo_leaves_direct_targets_owing_some_of_them_overdue() -> None:
    demo_generate(households=600, seed=2020, with_users=True)
    call_command("screen", "--year", "2025", verbosity=0)
    call_command("demo_workflow", "--direct", "4", "--rejected", "2", verbosity=0)
    direct = MonitoringTarget.objects.filter(direct=True)
    assert direct.exists()
    assert FollowUp.objects.count() == direct.count()  # every demo direct confirmation skipped the steps
    county = User.objects.get(username="county")
    today = timezone.localdate()
    rows = follow_up_rows(follow_ups_in_scope(user=county, state="OPEN"), today=today)
    overdue = {r.follow_up.pk for r in rows if r.status.overdue}
    on_time = {r.follow_up.pk for r in rows if not r.status.overdue}
    assert overdue and on_time  # the past ones overdue, today's on time
    assert set(follow_ups_in_scope(user=county, state="OVERDUE").values_list("pk", flat=True)) == overdue
    assert {i.key: i.count for i in home_todo(user=county)}["followups_overdue"] == len(overdue)
    for row in rows:
        f = row.follow_up
        assert f.owed_steps == ["HOME_CHECK", "APPRAISAL", "PUBLICITY"]
        assert (f.opened_on == today) == (f.target.identified_on == today)
    assert AuditEntry.objects.filter(action="follow_up_open").count() == direct.count()


def test_backfill_opens_follow_ups_for_earlier_direct_targets(world: World) -> None:
    confirmed_at = timezone.now() - dt.timedelta(days=40)
    lead = lead_in(world.households[VILLAGE], "CONFIRMED")
    old = TargetFactory(
        household=world.households[VILLAGE],
        lead=lead,
        direct=True,
        confirmed_at=confirmed_at,
        identified_on=dt.date(2024, 3, 1),
    )
    verified = lead_in(world.households["520101001002"], "VERIFIED")
    TargetFactory(household=world.households["520101001002"], lead=verified, direct=True)  # lacked nothing
    TargetFactory(household=world.households["520101002001"])  # not direct
    backfill(apps, None)
    f = FollowUp.objects.get()
    assert (f.target, f.state, f.opened_on) == (old, FollowUpState.OPEN, timezone.localdate(confirmed_at))
    assert f.owed_steps == ["HOME_CHECK", "APPRAISAL", "PUBLICITY"]
    row = AuditEntry.objects.get(action="follow_up_open")
    assert row.actor is None and row.data["backfill"] is True and row.region_code == VILLAGE
