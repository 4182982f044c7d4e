"""信息比对 on the pages and the API (issue 18): the lead page's panel for every role (notes only for
county and township), recording by page and htmx, consent before 入户核实, the township's 审核 held
back on the page and in the API, scoping (another county: 404), pinned query counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from fanpin.core.models import AuditEntry
from monitoring.models import DataComparison, Lead, LeadState
from monitoring.services.comparisons import ComparisonInput, data_comparison_record
from tests.monitoring.review_helpers import lead_in

pytestmark = pytest.mark.django_db

VILLAGE = "520101001001"
OTHER_COUNTY = "520102001001"
NOTE = "配偶名下县城商品房 1 套"
JUDGEMENT = "系唯一自住住房，不影响纳入。"


def api(world: Any, role: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.users[role])
    return client


def rec(lead: Lead, actor: Any, code: str = "REAL_ESTATE", result: str = "NO_ISSUE", **kw: str) -> None:
    data_comparison_record(
        lead_id=lead.pk,
        actor=actor,
        data=ComparisonInput(source_code=code, compared_on=timezone.localdate(), result=result, **kw),
    )


def page(world: Any, role: str, lead: Lead) -> str:
    response = world.client_for(role).get(reverse("monitoring:lead_detail", args=[lead.pk]))
    assert response.status_code == 200
    return response.content.decode()


def form_data(prefix: str, **values: str) -> dict[str, str]:
    return {f"cmp-{prefix}-{k}": v for k, v in values.items()}


def test_panel_lists_every_source_and_shows_notes_only_to_county_and_township(world: Any) -> None:
    lead = lead_in(world.households[VILLAGE], LeadState.VERIFIED)
    rec(lead, world.users["county"], result="ISSUE", note=NOTE)
    county = page(world, "county", lead)
    assert 'data-testid="comparisons-panel"' in county
    for name in ("公安车辆", "不动产登记", "市场监管经营主体", "财政供养人员", "社保缴费"):
        assert name in county
    assert NOTE in county and 'data-testid="comparisons-awaiting"' in county
    assert 'data-testid="comparison-link-REAL_ESTATE"' in county  # the county records
    assert "信息比对发现不符合条件" in county  # the rejection category named in the guidance
    assert NOTE in page(world, "township", lead)
    for role in ("village", "city", "province"):
        text = page(world, role, lead)
        assert 'data-testid="comparisons-panel"' in text and "有异常" in text and "待研判" in text
        assert NOTE not in text, role
        assert 'data-testid="comparison-link-' not in text


def test_county_records_through_the_page_and_by_htmx(world: Any) -> None:
    lead = lead_in(world.households[VILLAGE], LeadState.VERIFIED)
    client = world.client_for("county")
    url = reverse("monitoring:lead_comparison", args=[lead.pk, "REAL_ESTATE"])
    assert client.get(url).status_code == 200
    bad = client.post(url, form_data("REAL_ESTATE", compared_on=str(timezone.localdate()), result="ISSUE"))
    assert bad.status_code == 400 and "写明发现的情况" in bad.content.decode()
    done = client.post(url, form_data("REAL_ESTATE", compared_on=str(timezone.localdate()), result="ISSUE", note=NOTE))
    assert done.status_code == 302 and done["Location"].endswith("#comparisons")
    # htmx: the form in the panel, the panel back after saving the judgement
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert 'data-testid="comparison-form"' in fragment.content.decode()
    assert "<html" not in fragment.content.decode()
    saved = client.post(
        url,
        form_data("REAL_ESTATE", compared_on=str(timezone.localdate()), result="ISSUE", note=NOTE, judgement=JUDGEMENT),
        headers={"HX-Request": "true"},
    )
    assert saved.status_code == 200 and 'data-testid="comparison-saved"' in saved.content.decode()
    row = DataComparison.objects.get(lead=lead)
    assert row.judgement == JUDGEMENT
    actions = AuditEntry.objects.filter(object_type="data_comparison", object_id=str(lead.pk))
    assert list(actions.order_by("id").values_list("to_state", flat=True)) == ["ISSUE", "ISSUE_JUDGED"]


def test_the_page_refuses_without_consent_other_roles_and_other_counties(world: Any) -> None:
    lead = lead_in(world.households[VILLAGE])  # NEW, no consent
    url = reverse("monitoring:lead_comparison", args=[lead.pk, "REAL_ESTATE"])
    response = world.client_for("county").get(url)
    assert response.status_code == 409 and "承诺授权" in response.content.decode()
    assert world.client_for("township").get(url).status_code == 403
    outside = lead_in(world.households[OTHER_COUNTY], LeadState.VERIFIED)
    assert (
        world.client_for("county")
        .get(reverse("monitoring:lead_comparison", args=[outside.pk, "REAL_ESTATE"]))
        .status_code
        == 404
    )
    assert (
        world.client_for("county")
        .post(
            reverse("monitoring:lead_comparison", args=[outside.pk, "REAL_ESTATE"]),
            form_data("REAL_ESTATE", compared_on=str(timezone.localdate()), result="NO_ISSUE"),
        )
        .status_code
        == 404
    )
    assert (
        world.client_for("county").get(reverse("monitoring:lead_comparison", args=[lead.pk, "NOPE"])).status_code == 404
    )
    assert not DataComparison.objects.exists()


def test_village_records_consent_before_verification_and_the_county_may_then_compare(world: Any) -> None:
    lead = lead_in(world.households[VILLAGE])
    village = world.client_for("village")
    text = page(world, "village", lead)
    assert 'data-testid="consent-link"' in text
    url = reverse("monitoring:lead_consent", args=[lead.pk])
    assert village.get(url).status_code == 200
    unticked = village.post(url, {})
    assert unticked.status_code == 400 and "请先核对" in unticked.content.decode()  # the box must be ticked
    assert village.post(url, {"confirmed": "on"}).status_code == 302
    lead.refresh_from_db()
    assert lead.consent_signed is True
    assert AuditEntry.objects.filter(object_type="lead_consent", object_id=str(lead.pk)).count() == 1
    county = page(world, "county", lead)
    assert 'data-testid="comparison-link-REAL_ESTATE"' in county and 'data-testid="consent-link"' not in county
    # after 入户核实 the consent is the verification's
    verified = lead_in(world.households["520101001002"], LeadState.VERIFIED)
    assert world.client_for("county").get(reverse("monitoring:lead_consent", args=[verified.pk])).status_code == 409
    assert world.client_for("township").get(url).status_code == 403


def test_township_review_is_held_back_on_the_page_and_refused_by_post(world: Any) -> None:
    lead = lead_in(world.households[VILLAGE], LeadState.VERIFIED)
    rec(lead, world.users["county"], result="ISSUE", note=NOTE)
    text = page(world, "township", lead)
    assert 'data-testid="held-note"' in text and "不动产登记" in text
    assert 'data-testid="form-review"' not in text
    response = world.client_for("township").post(
        reverse("monitoring:lead_act", args=[lead.pk, "review"]), {"review-opinion": ""}
    )
    assert response.status_code == 400 and "研判" in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).state == LeadState.VERIFIED
    rec(lead, world.users["county"], result="ISSUE", note=NOTE, judgement=JUDGEMENT)
    assert 'data-testid="form-review"' in page(world, "township", lead)


def test_api_review_is_refused_while_an_issue_awaits_judgement(world: Any) -> None:
    lead = lead_in(world.households[VILLAGE], LeadState.VERIFIED)
    rec(lead, world.users["county"], "SOCIAL_INSURANCE", result="ISSUE", note="有单位缴费记录")
    response = api(world, "township").post(f"/api/v1/leads/{lead.pk}/review/", {"opinion": ""}, format="json")
    assert response.status_code == 400 and "社保缴费" in str(response.json())
    rec(lead, world.users["county"], "SOCIAL_INSURANCE", result="ISSUE", note="有单位缴费记录", judgement="灵活就业")
    response = api(world, "township").post(f"/api/v1/leads/{lead.pk}/review/", {"opinion": ""}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "REVIEWED"


def test_api_lists_and_records_scoped_with_notes_by_role(world: Any, django_assert_max_num_queries: Any) -> None:
    lead = lead_in(world.households[VILLAGE], LeadState.VERIFIED)
    outside = lead_in(world.households[OTHER_COUNTY], LeadState.VERIFIED)
    county = api(world, "county")
    body = {"lead": lead.pk, "source": "REAL_ESTATE", "compared_on": str(timezone.localdate()), "result": "ISSUE"}
    assert county.post("/api/v1/comparisons/", body, format="json").status_code == 400  # no note
    created = county.post("/api/v1/comparisons/", {**body, "note": NOTE}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["result"] == "ISSUE" and created.json()["judged"] is False
    changed = county.post("/api/v1/comparisons/", {**body, "note": NOTE, "judgement": JUDGEMENT}, format="json")
    assert changed.status_code == 200 and changed.json()["judged"] is True
    for code in ("PUBLIC_SECURITY_VEHICLE", "MARKET_ENTITY", "PUBLIC_PAYROLL", "SOCIAL_INSURANCE"):
        rec(lead, world.users["county"], code)
    # another county's lead: 404 for recording and nothing listed
    other = county.post("/api/v1/comparisons/", {**body, "lead": outside.pk, "note": NOTE}, format="json")
    assert other.status_code == 404
    rec(outside, world.users["admin"])
    with django_assert_max_num_queries(6):
        listed = county.get("/api/v1/comparisons/", {"lead": lead.pk})
    rows = listed.json()["results"]
    assert len(rows) == 5 and {r["lead"] for r in rows} == {lead.pk}
    assert next(r for r in rows if r["source"] == "REAL_ESTATE")["note"] == NOTE
    assert county.get("/api/v1/comparisons/", {"lead": outside.pk}).json()["count"] == 0
    outside_id = DataComparison.objects.get(lead=outside).pk
    assert county.get(f"/api/v1/comparisons/{outside_id}/").status_code == 404
    # the village reads the results, not the notes; it may not record; department users read nothing
    village_rows = api(world, "village").get("/api/v1/comparisons/", {"lead": lead.pk}).json()["results"]
    assert len(village_rows) == 5 and all(r["note"] is None and r["judgement"] is None for r in village_rows)
    assert api(world, "village").post("/api/v1/comparisons/", body, format="json").status_code == 403
    assert api(world, "dept").get("/api/v1/comparisons/").status_code == 403


def test_api_refuses_without_consent(world: Any) -> None:
    lead = lead_in(world.households[VILLAGE])
    body = {"lead": lead.pk, "source": "REAL_ESTATE", "compared_on": str(timezone.localdate()), "result": "NO_ISSUE"}
    response = api(world, "county").post("/api/v1/comparisons/", body, format="json")
    assert response.status_code == 400 and "承诺授权" in str(response.json())


def test_lead_page_queries_do_not_grow_with_the_comparisons(world: Any, django_assert_max_num_queries: Any) -> None:
    lead = lead_in(world.households[VILLAGE], LeadState.VERIFIED)
    client = world.client_for("county")
    client.get(reverse("monitoring:lead_detail", args=[lead.pk]))  # warm the session and caches
    with django_assert_max_num_queries(60) as empty:
        client.get(reverse("monitoring:lead_detail", args=[lead.pk]))
    for code in ("PUBLIC_SECURITY_VEHICLE", "REAL_ESTATE", "MARKET_ENTITY", "PUBLIC_PAYROLL", "SOCIAL_INSURANCE"):
        rec(lead, world.users["county"], code, result="ISSUE", note=NOTE, judgement=JUDGEMENT)
    with django_assert_max_num_queries(len(empty.captured_queries)):
        text = client.get(reverse("monitoring:lead_detail", args=[lead.pk])).content.decode()
    assert text.count(JUDGEMENT) == 5


def test_a_final_lead_shows_its_comparisons_without_forms(world: Any) -> None:
    lead = lead_in(world.households[VILLAGE], LeadState.VERIFIED)
    rec(lead, world.users["county"])
    Lead.objects.filter(pk=lead.pk).update(
        state=LeadState.REJECTED, decided_at=timezone.now() - dt.timedelta(days=1), rejection_reason="测试"
    )
    text = page(world, "county", lead)
    assert "无异常" in text and 'data-testid="comparison-link-' not in text
    assert 'data-testid="comparisons-missing"' not in text
