"""Issue 15 defect 4 and issue 16 hole 7: verification dates inside [lead raised, today]; no
verification, review or confirmation without signed consent or with a disagreeing appraisal (the
county's direct confirmation stays open); 识别日期 between the lead's raising and today.

Every rule is checked on a lead raised by screening (its ``raise`` audit row has no actor) as well
as on a factory-made one, through the service, the page and the API.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from fanpin.core.models import AuditEntry
from monitoring.models import Lead, LeadState, MonitoringTarget
from monitoring.services import review
from tests.conftest import World
from tests.factories import income
from tests.monitoring.review_helpers import VILLAGE, decision, lead_in, today
from tests.monitoring.screening_helpers import COUNTY, YEAR, screen, setup_lines

pytestmark = pytest.mark.django_db


def screened_lead(world: World) -> Lead:
    """A lead raised today by a screening run (system: no actor on its audit row)."""
    setup_lines()
    hh = world.households[VILLAGE]
    income(hh, YEAR, "1000.00")
    screen(COUNTY)
    lead = Lead.objects.get(household=hh)
    raised = AuditEntry.objects.get(object_type="lead", object_id=str(lead.pk), action="raise")
    assert raised.actor is None and timezone.localdate(lead.raised_at) == today()
    return lead


@pytest.fixture(params=["screening", "factory"])
def new_lead(request: pytest.FixtureRequest, world: World) -> Lead:
    if request.param == "screening":
        return screened_lead(world)
    return lead_in(world.households[VILLAGE], raised_at=timezone.now() - dt.timedelta(days=3))


def raised_on(lead: Lead) -> dt.date:
    return timezone.localdate(lead.raised_at)


def verification_on(day: dt.date, **kwargs: Any) -> review.Verification:
    base: dict[str, Any] = {
        "home_checked_on": day,
        "consent_signed": True,
        "appraisal_on": day,
        "appraisal_outcome": "AGREED",
        "publicity_start": day,
        "publicity_end": day + dt.timedelta(days=4),
    }
    return review.Verification(**{**base, **kwargs})


def verify(world: World, lead: Lead, v: review.Verification) -> Lead:
    return review.lead_verify(lead_id=lead.pk, actor=world.users["village"], opinion="", verification=v)


def page_data(v: review.Verification) -> dict[str, str]:
    return {
        "verify-home_checked_on": v.home_checked_on.isoformat(),
        "verify-consent_signed": "yes" if v.consent_signed else "no",
        "verify-appraisal_on": v.appraisal_on.isoformat(),
        "verify-appraisal_outcome": v.appraisal_outcome,
        "verify-publicity_start": v.publicity_start.isoformat(),
        "verify-publicity_end": v.publicity_end.isoformat(),
    }


def api_data(v: review.Verification) -> dict[str, Any]:
    return {k.removeprefix("verify-"): val for k, val in page_data(v).items()} | {"consent_signed": v.consent_signed}


def client(world: World, role: str) -> Client:
    c = Client()
    c.force_login(world.users[role])
    return c


def api(world: World, role: str) -> APIClient:
    c = APIClient()
    c.force_login(world.users[role])
    return c


def assert_still_new(lead: Lead) -> None:
    lead.refresh_from_db()
    assert lead.state == LeadState.NEW and lead.publicity_start is None and lead.verified_at is None
    assert not AuditEntry.objects.filter(object_type="lead", object_id=str(lead.pk), action="verify").exists()


# -- issue 15 defect 4: verification dates ---------------------------------------------------------
def test_posting_back_dated_before_the_lead_is_refused_naming_the_field(world: World, new_lead: Lead) -> None:
    before = raised_on(new_lead) - dt.timedelta(days=1)
    with pytest.raises(ValidationError) as exc:  # the 5 days "over" before the lead existed
        verify(world, new_lead, verification_on(raised_on(new_lead), appraisal_on=before, publicity_start=before))
    errors = exc.value.message_dict
    day = raised_on(new_lead)
    assert errors["publicity_start"] == [f"公示开始日期不能早于线索发现日期（{day.year}年{day.month}月{day.day}日）。"]
    assert errors["appraisal_on"] == [f"民主评议日期不能早于线索发现日期（{day.year}年{day.month}月{day.day}日）。"]
    assert "home_checked_on" not in errors
    with pytest.raises(ValidationError) as exc:
        verify(world, new_lead, verification_on(raised_on(new_lead), home_checked_on=dt.date(1900, 1, 1)))
    assert list(exc.value.message_dict) == ["home_checked_on"]
    assert_still_new(new_lead)
    verify(world, new_lead, verification_on(raised_on(new_lead)))  # the raising day itself is fine
    new_lead.refresh_from_db()
    assert new_lead.state == LeadState.VERIFIED


def test_verification_dates_in_the_future_are_refused(world: World, new_lead: Lead) -> None:
    tomorrow = today() + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        verify(world, new_lead, verification_on(tomorrow))
    assert exc.value.message_dict["home_checked_on"] == ["入户核实日期不能晚于今天。"]
    assert exc.value.message_dict["appraisal_on"] == ["民主评议日期不能晚于今天。"]
    assert exc.value.message_dict["publicity_start"] == ["公示开始日期不能晚于今天。"]
    assert_still_new(new_lead)


def test_page_and_api_refuse_a_back_dated_posting_next_to_the_field(world: World, new_lead: Lead) -> None:
    before = raised_on(new_lead) - dt.timedelta(days=10)
    v = verification_on(before)
    response = client(world, "village").post(reverse("monitoring:lead_act", args=[new_lead.pk, "verify"]), page_data(v))
    assert response.status_code == 400
    page = response.content.decode()
    assert "公示开始日期不能早于线索发现日期" in page and "invalid-feedback" in page
    response = api(world, "village").post(f"/api/v1/leads/{new_lead.pk}/verify/", api_data(v), format="json")
    assert response.status_code == 400
    assert response.json()["publicity_start"][0].startswith("公示开始日期不能早于线索发现日期")
    assert_still_new(new_lead)


# -- issue 16 hole 7: consent and appraisal --------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"consent_signed": False}, "consent_signed", "农户未签署承诺授权书"),
        ({"appraisal_outcome": "DISAGREED"}, "appraisal_outcome", "民主评议未通过"),
    ],
)
def test_no_verification_without_consent_or_with_a_disagreeing_appraisal(
    world: World, new_lead: Lead, change: dict[str, Any], field: str, text: str
) -> None:
    v = verification_on(raised_on(new_lead), **change)
    with pytest.raises(ValidationError) as exc:
        verify(world, new_lead, v)
    assert text in exc.value.message_dict[field][0]
    response = client(world, "village").post(reverse("monitoring:lead_act", args=[new_lead.pk, "verify"]), page_data(v))
    assert response.status_code == 400 and text in response.content.decode()
    response = api(world, "village").post(f"/api/v1/leads/{new_lead.pk}/verify/", api_data(v), format="json")
    assert response.status_code == 400 and text in response.json()[field][0]
    assert_still_new(new_lead)
    review.lead_reject(lead_id=new_lead.pk, actor=world.users["village"], reason="农户不同意授权")  # the way out
    new_lead.refresh_from_db()
    assert new_lead.state == LeadState.REJECTED


@pytest.mark.parametrize(
    ("flaw", "text"),
    [({"consent_signed": False}, "农户承诺授权未签署"), ({"appraisal_outcome": "DISAGREED"}, "民主评议未通过")],
)
def test_flawed_verification_is_not_reviewed_or_confirmed_but_the_green_channel_stays(
    world: World, flaw: dict[str, Any], text: str
) -> None:
    """Leads recorded before the rule (or written around it) stop at the township and the county."""
    hh = world.households[VILLAGE]
    verified = lead_in(hh, LeadState.VERIFIED, **flaw)
    with pytest.raises(ValidationError) as exc:
        review.lead_review(lead_id=verified.pk, actor=world.users["township"], opinion="")
    assert text in exc.value.messages[0]
    response = client(world, "township").post(reverse("monitoring:lead_act", args=[verified.pk, "review"]), {})
    assert response.status_code == 400 and text in response.content.decode()
    response = api(world, "township").post(f"/api/v1/leads/{verified.pk}/review/", {}, format="json")
    assert response.status_code == 400 and text in response.json()["detail"]
    verified.refresh_from_db()
    assert verified.state == LeadState.VERIFIED

    Lead.objects.filter(pk=verified.pk).update(state=LeadState.REVIEWED)
    with pytest.raises(ValidationError) as exc:
        review.lead_confirm(lead_id=verified.pk, actor=world.users["county"], decision=decision())
    assert text in exc.value.messages[0]
    body = {"category": "EDGE_AT_RISK", "risk_types": ["ILLNESS"]}
    response = api(world, "county").post(f"/api/v1/leads/{verified.pk}/confirm/", body, format="json")
    assert response.status_code == 400 and text in response.json()["detail"]
    outcome = review.leads_bulk_decide(lead_ids=[verified.pk], actor=world.users["county"], decision="confirm")
    assert not outcome.done and text in outcome.failed[verified.pk]
    assert not MonitoringTarget.objects.exists()

    # SPEC §5: the county may confirm directly, with a written reason (help first, paperwork after)
    Lead.objects.filter(pk=verified.pk).update(state=LeadState.VERIFIED)
    review.lead_confirm_direct(
        lead_id=verified.pk, actor=world.users["county"], decision=decision(), reason="因灾住房倒塌，先帮扶后补程序"
    )
    assert MonitoringTarget.objects.get(lead=verified).direct


# -- issue 16 hole 7: 识别日期 ----------------------------------------------------------------------
@pytest.mark.parametrize("direct", [False, True])
def test_identified_on_lies_between_the_raising_and_today(world: World, direct: bool) -> None:
    lead = screened_lead(world)
    if not direct:
        Lead.objects.filter(pk=lead.pk).update(
            state=LeadState.REVIEWED,
            verified_at=timezone.now(),
            consent_signed=True,
            appraisal_outcome="AGREED",
        )

    def confirm(day: dt.date) -> None:
        if direct:
            review.lead_confirm_direct(
                lead_id=lead.pk, actor=world.users["county"], decision=decision(identified_on=day), reason="紧急"
            )
        else:
            review.lead_confirm(lead_id=lead.pk, actor=world.users["county"], decision=decision(identified_on=day))

    for day, message in (
        (dt.date(1900, 1, 1), "识别日期不能早于线索发现日期"),
        (today() - dt.timedelta(days=1), "识别日期不能早于线索发现日期"),
        (today() + dt.timedelta(days=1), "识别日期不能晚于今天"),
    ):
        with pytest.raises(ValidationError) as exc:
            confirm(day)
        assert message in exc.value.message_dict["identified_on"][0]
    body = {"category": "EDGE_AT_RISK", "risk_types": ["ILLNESS"], "identified_on": "1900-01-01"}
    if direct:
        body |= {"direct": True, "opinion": "紧急"}
    response = api(world, "county").post(f"/api/v1/leads/{lead.pk}/confirm/", body, format="json")
    assert response.status_code == 400 and "识别日期不能早于线索发现日期" in response.json()["identified_on"][0]
    assert not MonitoringTarget.objects.exists()
    confirm(today())
    assert MonitoringTarget.objects.get(lead=lead).identified_on == today()


def test_page_refuses_identified_on_1900_next_to_the_field(world: World) -> None:
    lead = lead_in(world.households[VILLAGE], LeadState.REVIEWED)
    data = {
        "confirm-category": "EDGE_AT_RISK",
        "confirm-risk_types": ["ILLNESS"],
        "confirm-identified_on": "1900-01-01",
        "confirm-checked": "on",
    }
    response = client(world, "county").post(reverse("monitoring:lead_act", args=[lead.pk, "confirm"]), data)
    assert response.status_code == 400
    assert "识别日期不能早于线索发现日期" in response.content.decode()
    assert not MonitoringTarget.objects.exists()
