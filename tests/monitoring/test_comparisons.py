"""信息比对 (issue 18): consent on file, recording and re-recording (audited), the rule that a 有异常
without the county's written judgement holds 乡镇审核 and the county's decisions back (services,
bulk), when the comparisons were done, the export column, scoping, query counts."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from openpyxl import load_workbook

from fanpin.core.models import AuditEntry
from fanpin.core.scoping import ObjectOutOfScope
from fanpin.core.workflow import TransitionNotAllowed
from monitoring.models import ComparisonSource, DataComparison, Lead, LeadState
from monitoring.selectors.comparisons import comparisons_done_on, comparisons_refusal
from monitoring.services import review
from monitoring.services.comparisons import (
    NO_CONSENT_MESSAGE,
    ComparisonInput,
    comparison_source_save,
    data_comparison_record,
    lead_consent_record,
)
from monitoring.services.exports_leads import leads_export
from tests.monitoring.review_helpers import decision, lead_in
from tests.monitoring.screening_helpers import household, screen, setup_lines

pytestmark = pytest.mark.django_db

VILLAGE = "520101001001"
OTHER_COUNTY = "520102001001"
CODES = ["PUBLIC_SECURITY_VEHICLE", "REAL_ESTATE", "MARKET_ENTITY", "PUBLIC_PAYROLL", "SOCIAL_INSURANCE"]


def today() -> dt.date:
    return timezone.localdate()


def rec(
    lead: Lead, actor: Any, code: str = "REAL_ESTATE", result: str = "NO_ISSUE", note: str = "", judgement: str = ""
) -> DataComparison:
    return data_comparison_record(
        lead_id=lead.pk,
        actor=actor,
        data=ComparisonInput(source_code=code, compared_on=today(), result=result, note=note, judgement=judgement),
    )


def all_clear(lead: Lead, actor: Any) -> None:
    for code in CODES:
        rec(lead, actor, code)


def test_migration_seeds_the_five_sources_in_order() -> None:
    assert list(ComparisonSource.objects.filter(active=True).values_list("name", flat=True)) == [
        "公安车辆",
        "不动产登记",
        "市场监管经营主体",
        "财政供养人员",
        "社保缴费",
    ]


def test_without_consent_on_file_the_county_is_refused_with_a_clear_message(world: Any) -> None:
    lead = lead_in(world.households[VILLAGE])  # NEW, nothing recorded
    with pytest.raises(ValidationError) as exc:
        rec(lead, world.users["county"])
    assert exc.value.messages == [NO_CONSENT_MESSAGE]
    assert "承诺授权" in NO_CONSENT_MESSAGE
    assert not DataComparison.objects.exists()


def test_consent_recorded_before_verification_lets_the_county_compare_and_is_audited(world: Any) -> None:
    lead = lead_in(world.households[VILLAGE])
    scan = SimpleUploadedFile("auth.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    lead_consent_record(lead_id=lead.pk, actor=world.users["village"], scan=scan)
    lead.refresh_from_db()
    assert lead.consent_signed is True and lead.consent_scan
    row = AuditEntry.objects.get(object_type="lead_consent", object_id=str(lead.pk))
    assert row.actor == world.users["village"] and row.to_state == "SIGNED" and row.region_code == VILLAGE
    # again without a new scan: nothing written
    lead_consent_record(lead_id=lead.pk, actor=world.users["village"])
    assert AuditEntry.objects.filter(object_type="lead_consent").count() == 1

    c = rec(lead, world.users["county"], "PUBLIC_SECURITY_VEHICLE")
    assert c.result == "NO_ISSUE" and c.recorded_by == world.users["county"]


def test_consent_is_recorded_only_on_a_new_lead_and_by_village_or_county(world: Any) -> None:
    lead = lead_in(world.households[VILLAGE], LeadState.VERIFIED)
    with pytest.raises(TransitionNotAllowed):
        lead_consent_record(lead_id=lead.pk, actor=world.users["county"])
    new = lead_in(world.households["520101001002"])
    with pytest.raises(PermissionDenied):
        lead_consent_record(lead_id=new.pk, actor=world.users["township"])
    with pytest.raises(ObjectOutOfScope):  # another village
        lead_consent_record(lead_id=new.pk, actor=world.users["village"])


def test_only_the_county_records_and_only_on_open_leads_in_its_scope(world: Any) -> None:
    lead = lead_in(world.households[VILLAGE], LeadState.VERIFIED)
    for role in ("village", "township", "city", "province", "dept"):
        with pytest.raises(PermissionDenied):
            rec(lead, world.users[role])
    outside = lead_in(world.households[OTHER_COUNTY], LeadState.VERIFIED)
    with pytest.raises(ObjectOutOfScope):
        rec(outside, world.users["county"])
    done = lead_in(world.households["520101002001"], LeadState.CONFIRMED, consent_signed=True)
    with pytest.raises(TransitionNotAllowed):
        rec(done, world.users["county"])
    rec(lead, world.users["admin"])  # administrators too


def test_input_is_checked_field_by_field(world: Any) -> None:
    lead = lead_in(world.households[VILLAGE], LeadState.VERIFIED)
    county = world.users["county"]
    with pytest.raises(ValidationError) as exc:
        rec(lead, county, result="ISSUE")  # no note
    assert "note" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        rec(lead, county, result="NO_ISSUE", judgement="不影响")
    assert "judgement" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        data_comparison_record(
            lead_id=lead.pk,
            actor=county,
            data=ComparisonInput(
                source_code="REAL_ESTATE", compared_on=today() + dt.timedelta(days=1), result="NO_ISSUE"
            ),
        )
    assert "compared_on" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        data_comparison_record(
            lead_id=lead.pk,
            actor=county,
            data=ComparisonInput(source_code="REAL_ESTATE", compared_on=dt.date(2000, 1, 1), result="NO_ISSUE"),
        )
    assert "线索发现日期" in exc.value.message_dict["compared_on"][0]
    ComparisonSource.objects.filter(code="MARKET_ENTITY").update(active=False)
    with pytest.raises(ValidationError) as exc:
        rec(lead, county, "MARKET_ENTITY")
    assert "source" in exc.value.message_dict
    assert not DataComparison.objects.exists()


def test_re_recording_changes_the_one_row_and_is_audited_with_from_and_to(world: Any) -> None:
    lead = lead_in(world.households[VILLAGE], LeadState.VERIFIED)
    county = world.users["county"]
    rec(lead, county)
    rec(lead, county)  # the same again: nothing written
    rec(lead, county, result="ISSUE", note="配偶名下商品房 1 套")
    rec(lead, county, result="ISSUE", note="配偶名下商品房 1 套", judgement="系自住唯一住房，不影响纳入。")
    row = DataComparison.objects.get(lead=lead)
    assert DataComparison.objects.filter(lead=lead).count() == 1
    assert row.judgement and row.judged_by == county and row.judged_at is not None
    trail = list(
        AuditEntry.objects.filter(object_type="data_comparison", object_id=str(lead.pk))
        .order_by("id")
        .values_list("action", "from_state", "to_state")
    )
    assert trail == [("record", "", "NO_ISSUE"), ("change", "NO_ISSUE", "ISSUE"), ("change", "ISSUE", "ISSUE_JUDGED")]
    # back to 无异常: the judgement goes with the anomaly
    rec(lead, county)
    row.refresh_from_db()
    assert row.judgement == "" and row.judged_at is None and row.judged_by is None


def test_constraints_hold_in_the_database(world: Any) -> None:
    lead = lead_in(world.households[VILLAGE], LeadState.VERIFIED)
    source = ComparisonSource.objects.get(code="REAL_ESTATE")
    now = timezone.now()
    bad: list[dict[str, Any]] = [
        {"result": "MAYBE"},
        {"result": "NO_ISSUE", "judgement": "x", "judged_at": now},
        {"result": "ISSUE", "note": "x", "judgement": "x"},  # a judgement without its time
        {"result": "ISSUE", "note": ""},
    ]
    for fields in bad:
        with pytest.raises(IntegrityError), transaction.atomic():
            DataComparison.objects.create(lead=lead, source=source, compared_on=today(), recorded_at=now, **fields)
    DataComparison.objects.create(lead=lead, source=source, compared_on=today(), recorded_at=now, result="NO_ISSUE")
    with pytest.raises(IntegrityError), transaction.atomic():
        DataComparison.objects.create(lead=lead, source=source, compared_on=today(), recorded_at=now, result="NO_ISSUE")


# -- the rule: 有异常 without a judgement holds 审核 and the county's decisions back ----------------
def test_issue_without_judgement_blocks_township_review_with_judgement_allows(world: Any) -> None:
    lead = lead_in(world.households[VILLAGE], LeadState.VERIFIED)
    county, township = world.users["county"], world.users["township"]
    rec(lead, county, result="ISSUE", note="户主名下小型客车 1 辆")
    assert "不动产登记" in comparisons_refusal(lead_id=lead.pk)
    with pytest.raises(ValidationError) as exc:
        review.lead_review(lead_id=lead.pk, actor=township, opinion="")
    assert "不动产登记" in exc.value.messages[0] and "研判" in exc.value.messages[0]
    assert Lead.objects.get(pk=lead.pk).state == LeadState.VERIFIED
    rec(lead, county, result="ISSUE", note="户主名下小型客车 1 辆", judgement="二手农用车，价值低，不影响纳入。")
    assert comparisons_refusal(lead_id=lead.pk) == ""
    assert review.lead_review(lead_id=lead.pk, actor=township, opinion="").state == LeadState.REVIEWED


def test_the_township_s_to_review_list_leaves_out_a_lead_waiting_for_the_county_s_judgement(world: Any) -> None:
    """「公示已结束」 (the township's 待办 and its queue filter) lists what 乡镇审核 accepts."""
    from assistance.selectors.todo import home_todo
    from monitoring.selectors.leads import QueueFilters, queue_condition

    lead = lead_in(world.households[VILLAGE], LeadState.VERIFIED)
    county, township = world.users["county"], world.users["township"]

    def listed() -> bool:
        cond = queue_condition(user=township, filters=QueueFilters(state=LeadState.VERIFIED, publicity="ENDED"))
        return Lead.objects.filter(cond, pk=lead.pk).exists()

    def todo() -> int:
        return next(i.count for i in home_todo(user=township) if i.key == "to_review")

    assert listed() and todo() == 1
    rec(lead, county, result="ISSUE", note="户主名下小型客车 1 辆")
    assert not listed() and todo() == 0
    rec(lead, county, result="ISSUE", note="户主名下小型客车 1 辆", judgement="二手农用车，价值低，不影响纳入。")
    assert listed() and todo() == 1


def test_missing_comparisons_do_not_block_review(world: Any) -> None:
    lead = lead_in(world.households[VILLAGE], LeadState.VERIFIED)
    rec(lead, world.users["county"], "PUBLIC_SECURITY_VEHICLE")  # four still owed
    assert review.lead_review(lead_id=lead.pk, actor=world.users["township"], opinion="").state == LeadState.REVIEWED


def test_a_switched_off_source_no_longer_holds_a_lead_back(world: Any) -> None:
    lead = lead_in(world.households[VILLAGE], LeadState.VERIFIED)
    rec(lead, world.users["county"], result="ISSUE", note="有房产", judgement="已核实为宅基地，不影响纳入。")
    ComparisonSource.objects.filter(code="REAL_ESTATE").update(active=False)
    assert comparisons_refusal(lead_id=lead.pk) == ""


def test_a_source_with_unjudged_issues_cannot_be_switched_off(world: Any, admin_client: Any) -> None:
    """Switching a source off must not let an 有异常 through unjudged (the outside review found it
    could): refused in the service and on the admin form until the county has judged."""
    lead = lead_in(world.households[VILLAGE], LeadState.VERIFIED)
    rec(lead, world.users["county"], result="ISSUE", note="有房产")
    source = ComparisonSource.objects.get(code="REAL_ESTATE")
    source.active = False
    with pytest.raises(ValidationError) as exc:
        comparison_source_save(actor=world.users["admin"], source=source, changed=["active"])
    assert "未经县级研判" in exc.value.message_dict["active"][0]
    url = f"/admin/monitoring/comparisonsource/{source.pk}/change/"
    response = admin_client.post(url, {"code": source.code, "name": source.name, "order": source.order})
    assert response.status_code == 200 and "未经县级研判" in response.content.decode()
    assert ComparisonSource.objects.get(pk=source.pk).active
    rec(lead, world.users["county"], result="ISSUE", note="有房产", judgement="已核实为宅基地，不影响纳入。")
    comparison_source_save(actor=world.users["admin"], source=source, changed=["active"])
    assert not ComparisonSource.objects.get(pk=source.pk).active


def test_issue_without_judgement_blocks_county_confirmation_direct_and_bulk(world: Any) -> None:
    county = world.users["county"]
    reviewed = lead_in(world.households[VILLAGE], LeadState.REVIEWED)
    direct = lead_in(world.households["520101001002"], LeadState.VERIFIED)
    for lead in (reviewed, direct):
        rec(lead, county, "MARKET_ENTITY", result="ISSUE", note="户主为个体工商户")
    with pytest.raises(ValidationError):
        review.lead_confirm(lead_id=reviewed.pk, actor=county, decision=decision())
    with pytest.raises(ValidationError):
        review.lead_confirm_direct(lead_id=direct.pk, actor=county, decision=decision(), reason="紧急")
    outcome = review.leads_bulk_decide(lead_ids=[reviewed.pk], actor=county, decision="confirm")
    assert outcome.done == [] and "市场监管经营主体" in outcome.failed[reviewed.pk]
    # rejecting with 信息比对发现不符合条件 stays open
    review.lead_reject(lead_id=direct.pk, actor=county, reason="经营规模较大", category="DATA_CHECK")
    rec(reviewed, county, "MARKET_ENTITY", result="ISSUE", note="户主为个体工商户", judgement="经营小卖部，收入低。")
    outcome = review.leads_bulk_decide(lead_ids=[reviewed.pk], actor=county, decision="confirm")
    assert outcome.done == [reviewed.pk]


def test_the_lead_page_holds_the_direct_confirmation_back_while_an_issue_waits(world: Any) -> None:
    """The page does not offer 县级直接确定 that the service would refuse after the form was typed."""
    from django.test import Client
    from django.urls import reverse

    lead = lead_in(world.households[VILLAGE], LeadState.NEW, consent_signed=True)
    county = world.users["county"]
    client = Client()
    client.force_login(county)
    url = reverse("monitoring:lead_detail", args=[lead.pk])
    assert 'data-testid="form-confirm_direct"' in client.get(url).content.decode()
    rec(lead, county, "MARKET_ENTITY", result="ISSUE", note="户主为个体工商户")
    page = client.get(url).content.decode()
    assert 'data-testid="form-confirm_direct"' not in page
    assert 'data-testid="held-note"' in page and "市场监管经营主体" in page
    rec(lead, county, "MARKET_ENTITY", result="ISSUE", note="户主为个体工商户", judgement="经营小卖部，收入低。")
    assert 'data-testid="form-confirm_direct"' in client.get(url).content.decode()


# -- when the comparisons were done (for the time limits) -------------------------------------------
def test_done_on_is_the_day_every_source_had_a_result_and_every_issue_its_judgement(
    world: Any, django_assert_num_queries: Any
) -> None:
    county = world.users["county"]
    complete = lead_in(world.households[VILLAGE], LeadState.VERIFIED)
    partial = lead_in(world.households["520101001002"], LeadState.VERIFIED)
    unjudged = lead_in(world.households["520101002001"], LeadState.VERIFIED)
    none = lead_in(world.households["520102001001"], LeadState.VERIFIED)
    all_clear(complete, county)
    DataComparison.objects.filter(lead=complete, source__code="REAL_ESTATE").update(
        compared_on=today() - dt.timedelta(days=3)
    )
    DataComparison.objects.filter(lead=complete).exclude(source__code="REAL_ESTATE").update(
        compared_on=today() - dt.timedelta(days=5)
    )
    rec(partial, county)
    all_clear(unjudged, county)
    rec(unjudged, county, "SOCIAL_INSURANCE", result="ISSUE", note="有单位缴费记录")
    with django_assert_num_queries(1):
        done = comparisons_done_on(lead_ids=[complete.pk, partial.pk, unjudged.pk, none.pk])
    assert done == {complete.pk: today() - dt.timedelta(days=3), partial.pk: None, unjudged.pk: None, none.pk: None}
    # the judgement completes it, on the day it was written
    judged_at = timezone.now() - dt.timedelta(days=1)
    rec(unjudged, county, "SOCIAL_INSURANCE", result="ISSUE", note="有单位缴费记录", judgement="灵活就业，不影响。")
    DataComparison.objects.filter(lead=unjudged).update(compared_on=today() - dt.timedelta(days=2))
    DataComparison.objects.filter(lead=unjudged, judgement__gt="").update(judged_at=judged_at)
    assert comparisons_done_on(lead_ids=[unjudged.pk]) == {unjudged.pk: timezone.localdate(judged_at)}
    # a switched-off source is no longer owed
    ComparisonSource.objects.exclude(code="REAL_ESTATE").update(active=False)
    assert comparisons_done_on(lead_ids=[partial.pk])[partial.pk] == today()
    with django_assert_num_queries(0):
        assert comparisons_done_on(lead_ids=[]) == {}


# -- leads of every origin, the export ------------------------------------------------------------
def test_a_lead_raised_by_screening_takes_consent_and_comparisons(world: Any) -> None:
    from decimal import Decimal

    from tests.factories import income

    setup_lines()
    hh = household()
    income(hh, 2024, Decimal("1000.00"))
    screen()
    lead = Lead.objects.get(household=hh)
    assert lead.consent_signed is None
    lead_consent_record(lead_id=lead.pk, actor=world.users["county"])
    all_clear(lead, world.users["county"])
    assert comparisons_done_on(lead_ids=[lead.pk])[lead.pk] == today()


def _export_rows(user: Any) -> list[tuple[Any, ...]]:
    out = io.BytesIO()
    leads_export(user=user, output=out)
    out.seek(0)
    return list(load_workbook(out).active.iter_rows(values_only=True))


def test_export_has_a_comparison_column_without_notes(world: Any, django_assert_max_num_queries: Any) -> None:
    county = world.users["county"]
    judged = lead_in(world.households[VILLAGE], LeadState.VERIFIED)
    open_issue = lead_in(world.households["520101001002"], LeadState.VERIFIED)
    untouched = lead_in(world.households["520101002001"])
    all_clear(judged, county)
    rec(judged, county, "REAL_ESTATE", result="ISSUE", note="县城商品房 1 套", judgement="已出售，不影响。")
    rec(open_issue, county, "PUBLIC_SECURITY_VEHICLE", result="ISSUE", note="小型客车")
    with django_assert_max_num_queries(8):
        rows = _export_rows(county)
    column = rows[0].index("信息比对")
    cells = {r[0]: r[column] for r in rows[1:]}
    assert cells[judged.household.household_no] == (
        "公安车辆:无异常；不动产登记:有异常(已研判)；市场监管经营主体:无异常；财政供养人员:无异常；社保缴费:无异常"
    )
    assert cells[open_issue.household.household_no].startswith("公安车辆:有异常(未研判)；不动产登记:未比对")
    assert cells[untouched.household.household_no] == "未比对"
    assert not any("商品房" in str(c) for r in rows for c in r)


def test_export_queries_do_not_grow_with_the_leads(world: Any, django_assert_max_num_queries: Any) -> None:
    county = world.users["county"]
    for code in ("520101001001", "520101001002", "520101002001"):
        lead = lead_in(world.households[code], LeadState.VERIFIED)
        all_clear(lead, county)
    with django_assert_max_num_queries(8):
        rows = _export_rows(county)
    assert len(rows) == 4


def test_source_admin_saves_are_audited_and_only_for_administrators(world: Any) -> None:
    source = ComparisonSource(code="housing_fund", name="住房公积金", order=60)
    with pytest.raises(PermissionDenied):
        comparison_source_save(actor=world.users["county"], source=source)
    comparison_source_save(actor=world.users["admin"], source=source, changed=["code", "name"])
    assert ComparisonSource.objects.get(code="HOUSING_FUND").active
    source.active = False
    comparison_source_save(actor=world.users["admin"], source=source, changed=["active"])
    trail = list(
        AuditEntry.objects.filter(object_type="comparison_source").order_by("id").values_list("action", "to_state")
    )
    assert trail == [("create", "ACTIVE"), ("change", "INACTIVE")]
    with pytest.raises(ValidationError):
        comparison_source_save(actor=world.users["admin"], source=ComparisonSource(code="1x", name="x"))
