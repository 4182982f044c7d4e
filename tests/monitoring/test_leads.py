"""Leads as later issues will use them: rejection with reason and audit; scoping."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from fanpin.core.models import AuditEntry
from monitoring.models import Lead, LeadState
from monitoring.services.leads import lead_reject
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_reject_records_reason_time_actor_and_audit(world) -> None:  # type: ignore[no-untyped-def]
    lead = LeadFactory(household=world.households["520101001001"])
    lead = lead_reject(lead_id=lead.pk, reason="  收入核实后高于监测标准 ", actor=world.users["county"])
    assert lead.state == LeadState.REJECTED
    assert lead.rejection_reason == "收入核实后高于监测标准"
    assert lead.decided_by == world.users["county"] and lead.decided_at is not None
    entry = AuditEntry.objects.get(object_type="lead", object_id=str(lead.pk))
    assert (entry.from_state, entry.to_state, entry.region_code) == ("NEW", "REJECTED", "520101001001")


def test_reject_needs_a_reason_and_an_open_lead(world) -> None:  # type: ignore[no-untyped-def]
    lead = LeadFactory(household=world.households["520101001001"])
    county = world.users["county"]
    with pytest.raises(ValidationError, match="必须填写理由"):
        lead_reject(lead_id=lead.pk, reason="  ", actor=county)
    lead_reject(lead_id=lead.pk, reason="不符合", actor=county)
    with pytest.raises(ValidationError, match="当前状态为“未纳入”"):
        lead_reject(lead_id=lead.pk, reason="再次", actor=county)


def test_leads_are_scoped_by_the_household_region(world) -> None:  # type: ignore[no-untyped-def]
    for hh in world.households.values():
        LeadFactory(household=hh)
    visible = set(Lead.objects.for_user(world.users["township"]).values_list("household__village_id", flat=True))
    assert visible == {"520101001001", "520101001002"}
    assert not Lead.objects.for_user(world.users["dept"]).exists()


@pytest.mark.parametrize("role", ["city", "province"])
def test_an_unreadable_queue_filter_counts_nothing_without_listing_the_leads(world, role: str) -> None:  # type: ignore[no-untyped-def]
    """A role without a step of its own (city, province) and a filter the page could not read: every
    figure is 0, and no statement lists the leads in scope one row each (``SELECT 0, 0, 0 FROM
    monitoring_lead …``: 140 000 rows at a province of 1 000 000 households, docs/benchmarks.md session 9)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from monitoring.selectors.leads import QueueFilters, lead_queue_counts

    for hh in world.households.values():
        LeadFactory(household=hh)
    user = world.users[role]
    with CaptureQueriesContext(connection) as ctx:
        for filters in (QueueFilters(unreadable=True), QueueFilters(state="ALL", region="5201")):
            assert lead_queue_counts(user=user, filters=filters) == {"total": 0, "waiting": 0, "overdue": 0}
    assert [q["sql"] for q in ctx.captured_queries if "monitoring_lead" in q["sql"]] == []
    readable = lead_queue_counts(user=user, filters=QueueFilters(state="ALL"))
    assert readable["total"] == Lead.objects.for_user(user).count() > 0
    assert (readable["waiting"], readable["overdue"]) == (0, 0)
