"""申诉: from a 未纳入 answer the household (or a cadre for it) appeals; a new 申诉 lead, linked to
the rejected one, that only the county decides; one open appeal per rejected lead."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fanpin.core.models import AuditEntry
from fanpin.core.workflow import ObjectOutOfScope, TransitionNotAllowed
from monitoring.models import Lead, LeadSource, LeadState
from monitoring.services.appeals import appeal_file_public, lead_appeal_file
from monitoring.services.review import Verification, lead_reject, lead_verify
from tests.conftest import World
from tests.factories import LeadFactory
from tests.monitoring.review_helpers import lead_in
from tests.monitoring.test_status_page import ask, public_report, stage, verify

pytestmark = pytest.mark.django_db

VILLAGE = "520101001001"


def rejected_application(world: World):  # type: ignore[no-untyped-def]
    app = public_report(world)
    assert app.lead is not None
    verify(world, app.lead.pk)  # the public page tells 未纳入 only after the 入户核实
    lead_reject(lead_id=app.lead.pk, actor=world.users["county"], reason="收入已恢复", category="INCOME_ABOVE_LINE")
    app.lead.refresh_from_db()
    return app


def test_applicant_appeals_from_the_status_page(world: World) -> None:
    app = rejected_application(world)
    client = Client()
    html = ask(app.receipt_no, app.applicant_name, client)
    assert stage(html) == "未纳入" and "原因类别：家庭收入高于监测标准" in html
    response = client.post(
        reverse("status_appeal"),
        {"receipt": app.receipt_no, "name": app.applicant_name, "reason": "老人又住院了，收入不够看病"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="appeal-filed"' in html
    assert stage(html) == "核实中" and 'badge text-bg-secondary">申诉' in html
    appeal = Lead.objects.get(appeal_of=app.lead)
    assert appeal.state == LeadState.NEW and appeal.sources == [LeadSource.APPEAL]
    assert appeal.evidence["APPEAL"][0]["appeal_reason"] == "老人又住院了，收入不够看病"
    # audited on both: the new lead's raise, the old lead's appeal
    assert AuditEntry.objects.filter(object_type="lead", object_id=str(appeal.pk), action="raise").exists()
    old = AuditEntry.objects.get(object_type="lead", object_id=str(app.lead.pk), action="appeal")
    assert old.actor is None and old.data["appeal_lead"] == appeal.pk
    # no second appeal from the page: the form is gone, a forced post is refused
    html = ask(app.receipt_no, app.applicant_name, client)
    assert 'data-testid="appeal-form"' not in html
    again = client.post(
        reverse("status_appeal"), {"receipt": app.receipt_no, "name": app.applicant_name, "reason": "x"}
    )
    assert again.status_code == 400 and "当前办理阶段不能提出申诉" in again.content.decode()
    assert Lead.objects.filter(appeal_of=app.lead).count() == 1


def test_appeal_with_a_wrong_name_gets_the_neutral_answer(world: World) -> None:
    app = rejected_application(world)
    response = Client().post(reverse("status_appeal"), {"receipt": app.receipt_no, "name": "李四", "reason": "不服"})
    assert response.status_code == 200 and "未查到，请核对受理编号和姓名。" in response.content.decode()
    assert not Lead.objects.filter(appeal_of__isnull=False).exists()


def test_appeal_needs_a_reason(world: World) -> None:
    app = rejected_application(world)
    response = Client().post(reverse("status_appeal"), {"receipt": app.receipt_no, "name": app.applicant_name})
    assert response.status_code == 400 and "请写明申诉理由。" in response.content.decode()
    with pytest.raises(ValidationError):
        appeal_file_public(receipt_no=app.receipt_no, name=app.applicant_name, reason="   ")


def test_only_a_rejected_lead_can_be_appealed(world: World) -> None:
    app = public_report(world)  # NEW
    with pytest.raises(ValidationError, match="当前办理阶段不能提出申诉"):
        appeal_file_public(receipt_no=app.receipt_no, name=app.applicant_name, reason="不服")
    with pytest.raises(ValidationError, match="只有“未纳入”的线索可以申诉"):
        assert app.lead is not None
        lead_appeal_file(actor=world.users["village"], lead_id=app.lead.pk, reason="不服")


def test_only_the_county_rejects_an_appeal(world: World) -> None:
    app = rejected_application(world)
    appeal = appeal_file_public(receipt_no=app.receipt_no, name=app.applicant_name, reason="又住院了")
    with pytest.raises(TransitionNotAllowed, match="申诉线索须由县级审定"):
        lead_reject(lead_id=appeal.pk, actor=world.users["village"], reason="还是不符合")
    # the village verifies it as any lead; the township may not reject either
    today = timezone.localdate()
    checked = Verification(
        home_checked_on=today,
        consent_signed=True,
        appraisal_on=today,
        appraisal_outcome="AGREED",
        publicity_start=today,
        publicity_end=today + dt.timedelta(days=4),
    )
    lead_verify(lead_id=appeal.pk, actor=world.users["village"], opinion="已入户", verification=checked)
    with pytest.raises(TransitionNotAllowed):
        lead_reject(lead_id=appeal.pk, actor=world.users["township"], reason="不符合")
    lead_reject(lead_id=appeal.pk, actor=world.users["county"], reason="复核后仍不符合", category="NO_RISK")
    html = ask(app.receipt_no, app.applicant_name)
    assert stage(html) == "未纳入"
    assert "原因类别：经核实无返贫致贫风险" in html and "您的申诉经县级审定" in html
    assert 'data-testid="appeal-form"' not in html  # a decided appeal is final on the public page


def test_lead_page_hides_reject_of_an_appeal_from_the_village(world: World) -> None:
    app = rejected_application(world)
    appeal = appeal_file_public(receipt_no=app.receipt_no, name=app.applicant_name, reason="又住院了")
    village = Client()
    village.force_login(world.users["village"])
    html = village.get(reverse("monitoring:lead_detail", args=[appeal.pk])).content.decode()
    assert 'data-testid="form-reject"' not in html and "村、乡镇不能不予纳入" in html
    assert f'href="/monitoring/leads/{app.lead.pk}/"' in html  # links back to the rejected lead
    verify(world, appeal.pk)  # the county decides an appeal after the 入户核实
    html = village.get(reverse("monitoring:lead_detail", args=[appeal.pk])).content.decode()
    assert 'data-testid="form-reject"' not in html
    county = Client()
    county.force_login(world.users["county"])
    html = county.get(reverse("monitoring:lead_detail", args=[appeal.pk])).content.decode()
    assert 'data-testid="form-reject"' in html
    old = county.get(reverse("monitoring:lead_detail", args=[app.lead.pk])).content.decode()
    assert 'data-testid="appeal-row"' in old and f'href="/monitoring/leads/{appeal.pk}/"' in old
    assert "家庭收入高于监测标准" in old  # the reason category next to the written reason


def test_cadre_files_an_appeal_from_the_rejected_leads_page(world: World) -> None:
    lead = lead_in(world.households[VILLAGE], LeadState.REJECTED, sources=["VISIT"], rejection_category="NO_RISK")
    client = Client()
    client.force_login(world.users["village"])
    page = client.get(reverse("monitoring:lead_detail", args=[lead.pk])).content.decode()
    assert f'href="/monitoring/leads/{lead.pk}/appeal/"' in page
    form = client.get(reverse("monitoring:lead_appeal", args=[lead.pk]))
    assert form.status_code == 200 and 'data-testid="lead-appeal-form"' in form.content.decode()
    response = client.post(reverse("monitoring:lead_appeal", args=[lead.pk]), {"reason": "户主摔伤，无法务工"})
    appeal = Lead.objects.get(appeal_of=lead)
    assert response.status_code == 302 and response["Location"] == reverse("monitoring:lead_detail", args=[appeal.pk])
    entry = AuditEntry.objects.get(object_type="lead", object_id=str(lead.pk), action="appeal")
    assert entry.actor == world.users["village"] and entry.data["channel"] == "CADRE"
    # a second appeal while the first is open is refused, on the page and in the service
    refused = client.get(reverse("monitoring:lead_appeal", args=[lead.pk])).content.decode()
    assert "该线索已有申诉正在办理" in refused and 'data-testid="lead-appeal-form"' not in refused
    assert client.post(reverse("monitoring:lead_appeal", args=[lead.pk]), {"reason": "再申诉"}).status_code == 400
    with pytest.raises(ValidationError, match="已有申诉正在办理"):
        lead_appeal_file(actor=world.users["county"], lead_id=lead.pk, reason="再申诉")


def test_appeals_respect_region_scope_and_role(world: World) -> None:
    other = lead_in(world.households["520101001002"], LeadState.REJECTED)  # the neighbouring village
    with pytest.raises(ObjectOutOfScope):
        lead_appeal_file(actor=world.users["village"], lead_id=other.pk, reason="不服")
    client = Client()
    client.force_login(world.users["village"])
    assert client.get(reverse("monitoring:lead_appeal", args=[other.pk])).status_code == 404
    province = Client()
    province.force_login(world.users["province"])
    assert province.get(reverse("monitoring:lead_appeal", args=[other.pk])).status_code == 403
    page = province.get(reverse("monitoring:lead_detail", args=[other.pk])).content.decode()
    assert 'data-testid="appeal-link"' not in page


def test_one_open_appeal_per_rejected_lead_is_a_database_rule(world: World) -> None:
    household = world.households[VILLAGE]
    rejected = lead_in(household, LeadState.REJECTED)
    LeadFactory(household=household, sources=["APPEAL"], appeal_of=rejected)
    second_household = world.households["520101001002"]
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadFactory(household=second_household, sources=["APPEAL"], appeal_of=rejected)


def test_an_appeal_merges_into_the_households_open_lead(world: World) -> None:
    household = world.households[VILLAGE]
    rejected = lead_in(household, LeadState.REJECTED)
    open_lead = lead_in(household, LeadState.NEW, sources=["SCREENING"])
    appeal = lead_appeal_file(actor=world.users["village"], lead_id=rejected.pk, reason="不服")
    assert appeal.pk == open_lead.pk
    open_lead.refresh_from_db()
    assert open_lead.appeal_of_id == rejected.pk and set(open_lead.sources) == {"SCREENING", "APPEAL"}


def test_the_appeal_source_has_its_label_in_lists_and_filters(world: World) -> None:
    app = rejected_application(world)
    appeal_file_public(receipt_no=app.receipt_no, name=app.applicant_name, reason="又住院了")
    client = Client()
    client.force_login(world.users["county"])
    html = client.get(reverse("monitoring:lead_queue") + "?state=ALL&source=APPEAL").content.decode()
    assert "申诉" in html and 'data-testid="lead-row"' in html
    assert html.count('data-testid="lead-row"') == 1


def test_a_second_rejected_lead_cannot_be_appealed_while_an_appeal_is_open(world: World) -> None:
    app = rejected_application(world)  # lead B, rejected, the household's receipt
    household = world.households[VILLAGE]
    other = lead_in(household, LeadState.REJECTED, sources=["VISIT"])  # lead A, rejected earlier
    lead_appeal_file(actor=world.users["village"], lead_id=other.pk, reason="户主摔伤")  # A's appeal is open
    audits = AuditEntry.objects.count()
    client = Client()
    response = client.post(
        reverse("status_appeal"), {"receipt": app.receipt_no, "name": app.applicant_name, "reason": "又住院了"}
    )
    html = response.content.decode()
    assert response.status_code == 400 and "该户已有正在办理的线索，请等待办理结果" in html
    assert 'data-testid="appeal-filed"' not in html
    assert not Lead.objects.filter(appeal_of=app.lead).exists() and AuditEntry.objects.count() == audits
    with pytest.raises(ValidationError, match="该户已有正在办理的线索"):
        lead_appeal_file(actor=world.users["village"], lead_id=app.lead.pk, reason="又住院了")


def test_the_county_decides_an_appeal_only_after_the_home_visit(world: World) -> None:
    app = rejected_application(world)
    appeal = appeal_file_public(receipt_no=app.receipt_no, name=app.applicant_name, reason="又住院了")
    assert appeal.state == LeadState.NEW
    with pytest.raises(TransitionNotAllowed, match="申诉线索须先由村级入户核实"):
        lead_reject(lead_id=appeal.pk, actor=world.users["county"], reason="不符合", category="NO_RISK")
    county = Client()
    county.force_login(world.users["county"])
    page = county.get(reverse("monitoring:lead_detail", args=[appeal.pk])).content.decode()
    assert 'data-testid="form-reject"' not in page and 'data-testid="form-confirm_direct"' not in page
    assert "申诉线索须先由村级入户核实" in page
    forced = county.post(
        reverse("monitoring:lead_act", args=[appeal.pk, "reject"]),
        {"reject-opinion": "不符合", "reject-category": "NO_RISK", "reject-checked": "on"},
    )
    assert forced.status_code == 409 and "申诉线索须先由村级入户核实" in forced.content.decode()
    appeal.refresh_from_db()
    assert appeal.state == LeadState.NEW
    verify(world, appeal.pk)  # after the 入户核实 the county decides
    lead_reject(lead_id=appeal.pk, actor=world.users["county"], reason="复核后仍不符合", category="NO_RISK")


def test_numbers_typed_in_free_text_are_masked_for_city_and_province(world: World) -> None:
    from rest_framework.test import APIClient

    from tests.factories import make_id_number

    household = world.households[VILLAGE]
    rejected = lead_in(household, LeadState.REJECTED, sources=["VISIT"])
    id_number = make_id_number()
    reason = f"户主身份证{id_number}，电话13912345678，请联系"
    appeal = lead_appeal_file(actor=world.users["village"], lead_id=rejected.pk, reason=reason)
    Lead.objects.filter(pk=rejected.pk).update(rejection_reason=f"经核对其子13987654321有车，身份证{id_number}")
    for role in ("province", "city"):
        client = Client()
        client.force_login(world.users[role])
        for pk in (appeal.pk, rejected.pk):
            page = client.get(reverse("monitoring:lead_detail", args=[pk])).content.decode()
            assert id_number not in page and "13912345678" not in page and "13987654321" not in page
        assert "139****5678" in client.get(reverse("monitoring:lead_detail", args=[appeal.pk])).content.decode()
    api = APIClient()
    api.force_authenticate(world.users["province"])
    body = api.get(f"/api/v1/leads/{appeal.pk}/").json()
    text = body["evidence"]["APPEAL"][0]["appeal_reason"]
    assert id_number not in text and "13912345678" not in text and "139****5678" in text
    assert id_number not in str(body)
    # the county, whose role sees full IDs, sees what was typed
    county = Client()
    county.force_login(world.users["county"])
    assert "13912345678" in county.get(reverse("monitoring:lead_detail", args=[appeal.pk])).content.decode()


def test_an_appeal_typed_on_the_public_page_is_stored_masked(world: World) -> None:
    app = rejected_application(world)
    appeal = appeal_file_public(
        receipt_no=app.receipt_no, name=app.applicant_name, reason="有事请打13912345678或身份证522728199001011234"
    )
    stored = appeal.evidence["APPEAL"][0]["appeal_reason"]
    assert "13912345678" not in stored and "139****5678" in stored and "522728********1234" in stored
    entry = AuditEntry.objects.get(object_type="lead", object_id=str(app.lead.pk), action="appeal")
    assert "13912345678" not in entry.reason
