"""The review pages: queue per role, filters, overdue, navigation counts, the lead page, bulk."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fanpin.core.terms import term
from monitoring.models import Lead, LeadState, MonitoringTarget
from tests.conftest import World
from tests.factories import ExpenditureFactory, HouseholdFactory, LeadFactory, MemberFactory, income
from tests.monitoring.review_helpers import VILLAGE, lead_in, verification

pytestmark = pytest.mark.django_db


def login(world: World, role: str) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def rows(response) -> int:  # type: ignore[no-untyped-def]
    return response.content.decode().count('data-testid="lead-row"')


def test_each_role_sees_its_own_step_by_default(world: World) -> None:
    lead_in(world.households[VILLAGE], LeadState.NEW)
    lead_in(world.households["520101001002"], LeadState.VERIFIED)
    lead_in(world.households["520101002001"], LeadState.REVIEWED)
    lead_in(world.households["530101001001"], LeadState.REVIEWED)  # another province
    url = reverse("monitoring:lead_queue")
    assert rows(login(world, "village").get(url)) == 1
    assert rows(login(world, "township").get(url)) == 1
    county = login(world, "county")
    assert rows(county.get(url)) == 1
    assert rows(county.get(url, {"state": "ALL"})) == 3
    assert rows(login(world, "admin").get(url, {"state": "ALL"})) == 4


def test_queue_filters_sort_and_overdue_highlight(world: World) -> None:
    old = lead_in(world.households[VILLAGE], LeadState.REVIEWED, raised_at=timezone.now() - dt.timedelta(days=16))
    lead_in(
        world.households["520101002001"],
        LeadState.REVIEWED,
        sources=["VISIT"],
        rules_fired=[],
        suggested_category="UNSTABLE_EXITED",
    )
    client = login(world, "county")
    url = reverse("monitoring:lead_queue")
    assert rows(client.get(url, {"source": "VISIT"})) == 1
    assert rows(client.get(url, {"rule": "LOW_INCOME"})) == 1
    assert rows(client.get(url, {"category": "UNSTABLE_EXITED"})) == 1
    assert rows(client.get(url, {"region": "520101002000"})) == 1
    assert rows(client.get(url, {"region": VILLAGE})) == 1
    page = client.get(url, {"overdue": "on"}).content.decode()
    assert page.count('data-testid="lead-row"') == 1 and "逾期" in page and old.household.household_no in page
    first = client.get(url, {"sort": "-raised"}).content.decode()
    assert first.index("H520101002001") < first.index(old.household.household_no)
    assert "收入低于监测标准" in first and "走访排查" in first  # labels, not codes


def test_navigation_badge_counts_my_step_and_overdue(world: World) -> None:
    lead_in(world.households[VILLAGE], LeadState.NEW, raised_at=timezone.now() - dt.timedelta(days=20))
    page = login(world, "village").get(reverse("home"), follow=True).content.decode()  # to 村级工作台
    assert 'data-testid="nav-badge-leads">1' in page
    assert "逾期 1" in page
    assert 'data-testid="nav-badge-leads"' not in login(world, "township").get(reverse("home")).content.decode()
    assert "线索审核" not in login(world, "dept").get(reverse("home")).content.decode()


def test_queue_first_page_has_a_bounded_number_of_queries(world: World, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    for _ in range(60):
        hh = HouseholdFactory(village_id=VILLAGE)
        MemberFactory(household=hh, relation="HEAD")
        LeadFactory(household=hh, state=LeadState.REVIEWED)
    client = login(world, "county")
    # session, user, nav count, region filter choices, count, page (+ savepoints)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("monitoring:lead_queue"))
    assert rows(response) == 50
    with django_assert_max_num_queries(10):
        client.get(reverse("monitoring:lead_queue"), {"page": 2, "state": "ALL", "source": "SCREENING"})


def test_lead_page_shows_household_evidence_chart_data_and_actions(world: World) -> None:
    hh = world.households[VILLAGE]
    member = hh.members.get()
    income(hh, 2023, "9000.00")
    income(hh, 2024, "5000.00")
    ExpenditureFactory(household=hh)
    lead = lead_in(
        hh,
        evidence={
            "SCREENING": {"year": 2024, "rules": {"LOW_INCOME": {"per_capita_income": "5000.00", "line": "7000.00"}}}
        },
    )
    page = login(world, "village").get(reverse("monitoring:lead_detail", args=[lead.pk])).content.decode()
    assert member.id_number not in page and member.id_number[-4:] in page
    assert "人均可支配收入（元）：5,000.00" in page  # money as in the tables (issue 15 defect 7)
    assert 'id="income-chart-data"' in page and "echarts.min.js" in page and "<script>" not in page
    assert 'data-testid="form-verify"' in page and 'data-testid="form-reject"' in page
    assert 'data-testid="form-confirm' not in page
    county = login(world, "county").get(reverse("monitoring:lead_detail", args=[lead.pk])).content.decode()
    assert 'data-testid="form-confirm_direct"' in county
    assert "echarts" not in login(world, "county").get(reverse("monitoring:lead_queue")).content.decode()


def test_refused_step_shows_the_message_and_errors_next_to_fields(world: World) -> None:
    lead = lead_in(world.households[VILLAGE])
    client = login(world, "village")
    response = client.post(reverse("monitoring:lead_act", args=[lead.pk, "reject"]), {"reject-opinion": " "})
    assert response.status_code == 400
    page = response.content.decode()
    assert "不予纳入必须填写理由" in page and 'data-testid="action-error"' in page and "invalid-feedback" in page
    v = verification(ended=False)
    data = {
        "verify-home_checked_on": v.home_checked_on.isoformat(),
        "verify-consent_signed": "yes",
        "verify-appraisal_on": v.appraisal_on.isoformat(),
        "verify-appraisal_outcome": "AGREED",
        "verify-publicity_start": v.publicity_start.isoformat(),
        "verify-publicity_end": v.publicity_end.isoformat(),
    }
    assert client.post(reverse("monitoring:lead_act", args=[lead.pk, "verify"]), data).status_code == 302
    response = login(world, "township").post(reverse("monitoring:lead_act", args=[lead.pk, "review"]), {})
    assert response.status_code == 400
    end = v.publicity_end
    assert f"公示期至{end.year}年{end.month}月{end.day}日结束" in response.content.decode()
    response = login(world, "village").post(reverse("monitoring:lead_act", args=[lead.pk, "verify"]), data)
    assert response.status_code == 409 and "村级已核实" in response.content.decode()


def test_a_step_sent_from_a_page_left_open_after_the_lead_was_decided_says_why(world: World) -> None:
    """A newcomer's walk: 县级确定 sent from an old page of a lead rejected meanwhile answered
    「“县级确定”未完成：请按提示修改。」 with nothing to fix (the form is gone): it says the state."""
    lead = lead_in(world.households[VILLAGE])
    Lead.objects.filter(pk=lead.pk).update(
        state=LeadState.REJECTED, rejection_reason="不符合条件", decided_at=timezone.now()
    )
    response = login(world, "county").post(reverse("monitoring:lead_act", args=[lead.pk, "confirm"]), {})
    assert response.status_code == 409
    page = response.content.decode()
    assert "该线索当前为“未纳入”，不能再“县级确定”" in page and "请按提示修改" not in page
    lead.refresh_from_db()
    assert lead.state == LeadState.REJECTED


def test_consent_scan_upload_and_download(world: World) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    lead = lead_in(world.households[VILLAGE])
    v = verification()
    data = {
        "verify-home_checked_on": v.home_checked_on.isoformat(),
        "verify-consent_signed": "yes",
        "verify-appraisal_on": v.appraisal_on.isoformat(),
        "verify-appraisal_outcome": "AGREED",
        "verify-publicity_start": v.publicity_start.isoformat(),
        "verify-publicity_end": v.publicity_end.isoformat(),
        "verify-consent_scan": SimpleUploadedFile("授权书.pdf", b"%PDF-1.4 scan", content_type="application/pdf"),
    }
    client = login(world, "village")
    assert client.post(reverse("monitoring:lead_act", args=[lead.pk, "verify"]), data).status_code == 302
    download = login(world, "county").get(reverse("monitoring:lead_consent_scan", args=[lead.pk]))
    assert download.status_code == 200 and download.content == b"%PDF-1.4 scan"
    # every download is in the access log; city and province staff (masked data only) get none
    from fanpin.core.models import AccessLog

    (entry,) = AccessLog.objects.filter(object_id=str(lead.pk))
    assert entry.actor == world.users["county"] and "承诺授权书扫描件" in entry.what
    for name in ("city", "province"):
        viewer = login(world, name)
        assert viewer.get(reverse("monitoring:lead_consent_scan", args=[lead.pk])).status_code == 403
        page = viewer.get(reverse("monitoring:lead_detail", args=[lead.pk])).content.decode()
        assert "已上传扫描件" in page and reverse("monitoring:lead_consent_scan", args=[lead.pk]) not in page
    assert AccessLog.objects.filter(object_id=str(lead.pk)).count() == 1
    bad = lead_in(HouseholdFactory(village_id=VILLAGE))
    data["verify-consent_scan"] = SimpleUploadedFile("x.exe", b"MZ")
    response = client.post(reverse("monitoring:lead_act", args=[bad.pk, "verify"]), data)
    assert response.status_code == 400 and "扫描件须为 PDF、JPG 或 PNG 文件" in response.content.decode()


def test_bulk_confirm_and_reject(world: World) -> None:
    a = lead_in(world.households[VILLAGE], LeadState.REVIEWED)
    b = lead_in(world.households["520101002001"], LeadState.REVIEWED)
    client = login(world, "county")
    url = reverse("monitoring:leads_bulk")
    response = client.post(url, {"leads": [a.pk, b.pk], "decision": "reject", "reason": ""}, follow=True)
    assert "必须填写理由" in response.content.decode()
    assert Lead.objects.filter(state=LeadState.REVIEWED).count() == 2
    response = client.post(url, {"leads": [a.pk], "decision": "confirm"}, follow=True)
    assert f"已确定为{term('target')} 1 条线索" in response.content.decode()
    assert MonitoringTarget.objects.get().lead == a
    client.post(url, {"leads": [b.pk], "decision": "reject", "reason": "收入已恢复"})
    assert Lead.objects.get(pk=b.pk).state == LeadState.REJECTED
    assert login(world, "township").post(url, {"leads": [b.pk], "decision": "confirm"}).status_code == 403
