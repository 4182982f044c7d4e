"""``make demo``'s last step: demo leads walked through the real workflow (pages have content)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from assistance.models import MeasureStatus, TargetMeasure
from assistance.services.measures import MEASURE_OBJECT_TYPE
from fanpin.models import AuditEntry
from monitoring.models import Lead, LeadState, MonitoringTarget, TargetStatus, Visit
from monitoring.services.demo import demo_generate

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_demo_workflow_fills_every_stage_through_the_real_services() -> None:
    demo_generate(households=600, seed=2020, with_users=True)
    call_command("screen", "--year", "2025", verbosity=0)
    new_before = Lead.objects.filter(state=LeadState.NEW).count()

    call_command("demo_workflow", "--direct", "4", "--rejected", "2", verbosity=0)

    confirmed = Lead.objects.filter(state=LeadState.CONFIRMED)
    assert confirmed.count() >= 4
    assert Lead.objects.filter(state=LeadState.REJECTED).count() == 2
    assert Lead.objects.filter(state=LeadState.NEW).count() == new_before - confirmed.count() - 2
    targets = MonitoringTarget.objects.filter(status=TargetStatus.ACTIVE)
    assert targets.count() == confirmed.count()
    for target in targets:
        assert target.measures.count() == 2
    assert TargetMeasure.objects.filter(status=MeasureStatus.IN_PROGRESS).count() == targets.count()
    assert Visit.objects.count() == 5
    # the same audit trail as a person clicking through the pages
    assert AuditEntry.objects.filter(object_type="lead", action="confirm_direct").count() == 4
    assert AuditEntry.objects.filter(object_type="lead", action="reject").count() == 2
    assert AuditEntry.objects.filter(object_type=MEASURE_OBJECT_TYPE, action="add").count() == 2 * targets.count()


def test_demo_workflow_refuses_a_database_without_the_demo_province(world) -> None:  # type: ignore[no-untyped-def]
    """Users named county/village/township exist on real servers too: no demo data, no action."""
    from monitoring.models import Lead
    from tests.factories import LeadFactory

    LeadFactory(household=world.households["520101001001"])
    call_command("demo_workflow", verbosity=0)
    assert Lead.objects.get().state == LeadState.NEW
    assert not AuditEntry.objects.exists()
