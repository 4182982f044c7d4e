"""SPEC 4.3: running again creates no duplicate; open leads refreshed; targets skipped; rejected
leads re-raised only for a new rule or new rigid expenditure; one transaction per county."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.db import IntegrityError, transaction

from fanpin.core.models import User
from fanpin.core.roles import Role
from monitoring.models import Lead, LeadState, RunStatus
from monitoring.services.leads import lead_reject
from tests.factories import ExpenditureFactory, LeadFactory, TargetFactory, income, user
from tests.monitoring.screening_helpers import COUNTY, YEAR, household, screen, setup_lines

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def lines() -> None:
    setup_lines()


def poor(**kwargs):  # type: ignore[no-untyped-def]
    hh = household(**kwargs)
    income(hh, YEAR, "5000.00", size=2)
    return hh


def test_second_run_creates_nothing_and_refreshes_open_leads() -> None:
    households = [poor() for _ in range(3)]
    first = screen()
    assert first.leads_raised == 3
    before = {lead.pk: lead.raised_at for lead in Lead.objects.all()}
    second = screen()
    assert Lead.objects.count() == 3
    assert second.leads_raised == 0
    assert second.leads_refreshed == 3
    assert second.summary["rules"]["LOW_INCOME"] == {
        "fired": 3,
        "raised": 0,
        "refreshed": 3,
        "skipped_target": 0,
        "skipped_rejected": 0,
        "missing": 0,
    }
    for lead in Lead.objects.all():
        assert lead.raised_at == before[lead.pk]
        # nothing changed: the lead still says what the first run found, and is not written again
        assert lead.refreshed_at is None
        assert lead.last_run_id == first.pk
        assert lead.evidence["SCREENING"]["run"] == first.pk
    assert {lead.household_id for lead in Lead.objects.all()} == {h.pk for h in households}


def test_open_lead_from_another_source_gets_screening_added_and_evidence_kept() -> None:
    hh = poor()
    lead = LeadFactory(
        household=hh,
        sources=["VISIT"],
        rules_fired=[],
        evidence={"VISIT": {"note": "走访发现"}},
        state=LeadState.VERIFIED,
    )
    screen()
    lead.refresh_from_db()
    assert Lead.objects.count() == 1
    assert lead.state == LeadState.VERIFIED
    assert lead.sources == ["SCREENING", "VISIT"]
    assert lead.evidence["VISIT"] == {"note": "走访发现"}
    assert lead.evidence["SCREENING"]["rules"]["LOW_INCOME"]["per_capita_income"] == "5000.00"
    assert lead.rules_fired == ["LOW_INCOME"]


def test_refresh_updates_evidence_when_figures_change() -> None:
    hh = poor()
    screen()
    hh.incomes.filter(year=YEAR).update(wage_income=Decimal("9000.00"))
    second = screen()
    lead = Lead.objects.get(household=hh)
    assert lead.evidence["SCREENING"]["rules"]["LOW_INCOME"]["per_capita_income"] == "4500.00"
    assert second.leads_refreshed == 1
    assert lead.refreshed_at is not None
    assert lead.last_run_id == second.pk
    assert lead.evidence["SCREENING"]["run"] == second.pk


def test_active_target_gets_no_new_lead() -> None:
    hh = poor()
    TargetFactory(household=hh)
    run = screen()
    assert Lead.objects.count() == 0
    assert run.summary["leads"]["skipped_target"] == 1
    assert run.summary["rules"]["LOW_INCOME"]["skipped_target"] == 1


def test_eliminated_target_may_get_a_lead_again() -> None:
    hh = poor()
    TargetFactory(household=hh, status="ELIMINATED", elimination_method="ASSISTED", eliminated_on=dt.date(2024, 1, 5))
    screen()
    assert Lead.objects.filter(household=hh, state=LeadState.NEW).count() == 1


def _rejected(hh) -> Lead:  # type: ignore[no-untyped-def]
    screen()
    lead = Lead.objects.get(household=hh)
    county = User.objects.filter(username="county-screening").first() or user("county-screening", Role.COUNTY, COUNTY)
    return lead_reject(lead_id=lead.pk, reason="经核实收入已恢复", actor=county)


def test_rejected_lead_not_raised_again_for_the_same_rules() -> None:
    hh = poor()
    _rejected(hh)
    run = screen()
    assert Lead.objects.filter(household=hh).count() == 1
    assert run.summary["leads"]["skipped_rejected"] == 1
    assert run.summary["rules"]["LOW_INCOME"]["skipped_rejected"] == 1


def test_rejected_lead_raised_again_when_a_new_rule_fires() -> None:
    hh = poor()
    _rejected(hh)
    income(hh, YEAR - 1, "9000.00", size=2)  # now also an income drop of more than 30 %
    run = screen()
    assert run.leads_raised == 1
    new = Lead.objects.get(household=hh, state=LeadState.NEW)
    assert new.rules_fired == ["LOW_INCOME", "INCOME_DROP"]


def test_rejected_lead_raised_again_when_rigid_expenditure_arrives_after_rejection() -> None:
    hh = poor()
    _rejected(hh)
    ExpenditureFactory(household=hh, occurred_on=dt.date(YEAR, 8, 1), amount=Decimal("100.00"))
    run = screen()
    assert run.leads_raised == 1
    assert Lead.objects.filter(household=hh).count() == 2


def test_expenditure_recorded_before_the_rejection_does_not_re_raise() -> None:
    hh = poor()
    ExpenditureFactory(household=hh, occurred_on=dt.date(YEAR, 8, 1), amount=Decimal("100.00"))
    _rejected(hh)
    screen()
    assert Lead.objects.filter(household=hh).count() == 1


def test_rejection_of_last_year_does_not_block() -> None:
    hh = poor()
    LeadFactory(
        household=hh,
        year=YEAR - 1,
        state=LeadState.REJECTED,
        rejection_reason="不符合",
        decided_at=dt.datetime(2023, 6, 1, tzinfo=dt.UTC),
    )
    screen()
    assert Lead.objects.filter(household=hh, state=LeadState.NEW).count() == 1


def test_database_allows_one_open_lead_per_household() -> None:
    hh = household()
    LeadFactory(household=hh)
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadFactory(household=hh, state=LeadState.VERIFIED)
    LeadFactory(household=hh, state=LeadState.REJECTED, rejection_reason="重复", decided_at=dt.datetime.now(dt.UTC))


def test_failed_county_is_left_as_it_was() -> None:
    poor()
    poor()
    # dies after the leads were written, at the very end of the county's transaction
    with mock.patch("monitoring.services.screening_counties.audit_record", side_effect=RuntimeError("磁盘已满")):
        run = screen()
    assert run.status == RunStatus.FAILED
    assert "磁盘已满" in run.error
    assert Lead.objects.count() == 0
    assert run.finished_at is not None
    # and a later run does the work
    assert screen().leads_raised == 2


def test_finished_run_is_not_done_twice() -> None:
    from monitoring.services.screening import screening_county_execute

    poor()
    run = screen()
    again = screening_county_execute(run_id=run.pk)
    assert again.summary == run.summary
    assert Lead.objects.count() == 1


@pytest.mark.parametrize("households", [5, 50])
def test_fixed_number_of_queries_per_county(households: int, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    for i in range(households):
        hh = poor() if i % 2 else household()
        income(hh, YEAR - 1, "20000.00", size=2)
        ExpenditureFactory(household=hh, occurred_on=dt.date(YEAR, 3, 1), amount=Decimal("50000"))
    screen()  # first run: creates
    with django_assert_max_num_queries(25):
        run = screen()  # second run: refreshes every lead
    assert run.leads_refreshed == households
    Lead.objects.all().delete()
    with django_assert_max_num_queries(25):
        assert screen().leads_raised == households


def test_every_raised_lead_gets_one_audit_row_and_a_refresh_adds_none() -> None:
    from fanpin.core.models import AuditEntry

    county_user = user("county1", Role.COUNTY, COUNTY)
    households = [poor() for _ in range(3)]
    first = screen(actor=county_user)
    rows = list(AuditEntry.objects.filter(object_type="lead", action="raise").order_by("object_id"))
    leads = {str(lead.pk): lead for lead in Lead.objects.all()}
    assert sorted(r.object_id for r in rows) == sorted(leads)
    for row in rows:
        lead = leads[row.object_id]
        assert (row.from_state, row.to_state) == ("", LeadState.NEW)
        assert row.actor == county_user
        assert row.region_code == lead.household.village_id
        assert row.data == {"source": "SCREENING", "run": first.pk, "rules": ["LOW_INCOME"]}
    screen(actor=county_user)
    assert AuditEntry.objects.filter(object_type="lead", action="raise").count() == len(households)
