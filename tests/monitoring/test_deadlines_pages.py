"""办理时限 where users see it: the lead page's panel, 受理, the queue's column and 超期 filter
(set-based, bounded queries), the export's columns, and the demo's leads."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from fanpin.core.models import AuditEntry
from monitoring.models import Lead, LeadSource, LeadState
from monitoring.models.calendar import ProcedureStep
from monitoring.selectors.deadlines import lead_deadlines
from monitoring.services import review
from monitoring.services.acceptance import lead_accept
from monitoring.services.demo import demo_generate
from tests.factories import HouseholdFactory, LeadFactory, MemberFactory

pytestmark = pytest.mark.django_db
VILLAGE = "520101001001"


def _old_lead(world, days: int = 30, **extra: object) -> Lead:  # type: ignore[no-untyped-def]
    return LeadFactory(household=world.households[VILLAGE], raised_at=timezone.now() - dt.timedelta(days=days), **extra)


def test_lead_page_panel_overdue_in_red_and_words(world) -> None:  # type: ignore[no-untyped-def]
    lead = _old_lead(world)
    page = world.client_for("county").get(reverse("monitoring:lead_detail", args=[lead.pk])).content.decode()
    assert 'data-testid="deadlines"' in page
    assert 'data-testid="deadline-ACCEPT" class="table-danger"' in page
    assert "已超期" in page and "超期" in page and "个工作日" in page
    for label in ("受理", "入户核实", "民主评议和公示", "乡镇审核", "县级审定", "识别全流程"):
        assert label in page


def test_village_accepts_once_audited_and_scoped(world) -> None:  # type: ignore[no-untyped-def]
    lead = _old_lead(world, days=1)
    url = reverse("monitoring:lead_accept", args=[lead.pk])
    assert world.client_for("township").post(url).status_code == 403
    other = LeadFactory(household=world.households["520101002001"])
    assert world.client_for("village").post(reverse("monitoring:lead_accept", args=[other.pk])).status_code == 404
    page = world.client_for("village").get(reverse("monitoring:lead_detail", args=[lead.pk])).content.decode()
    assert 'data-testid="accept-form"' in page
    response = world.client_for("village").post(url, {"accepted_on": timezone.localdate().isoformat()})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.accepted_on == timezone.localdate()
    entry = AuditEntry.objects.get(object_type="lead", action="accept", object_id=str(lead.pk))
    assert entry.actor == world.users["village"]
    assert world.client_for("village").post(url).status_code == 409  # already accepted
    page = world.client_for("county").get(reverse("monitoring:lead_detail", args=[lead.pk])).content.decode()
    assert "<td>受理</td>" in page and "<td>accept</td>" not in page  # the history's words


def test_accept_date_bounds(world) -> None:  # type: ignore[no-untyped-def]
    from django.core.exceptions import ValidationError

    lead = _old_lead(world, days=1)
    with pytest.raises(ValidationError):
        lead_accept(lead_id=lead.pk, actor=world.users["village"], accepted_on=timezone.localdate() - dt.timedelta(5))
    with pytest.raises(ValidationError):
        lead_accept(lead_id=lead.pk, actor=world.users["village"], accepted_on=timezone.localdate() + dt.timedelta(1))


def _verified_12_days_ago(today: dt.date) -> review.Verification:
    """入户核实 12 days ago, 评议 10, a 公示 that ended 3 days ago."""
    return review.Verification(
        home_checked_on=today - dt.timedelta(days=12),
        consent_signed=True,
        appraisal_on=today - dt.timedelta(days=10),
        appraisal_outcome="AGREED",
        publicity_start=today - dt.timedelta(days=9),
        publicity_end=today - dt.timedelta(days=3),
    )


def test_verification_application_and_review_record_the_steps(world) -> None:  # type: ignore[no-untyped-def]
    hh = world.households[VILLAGE]
    lead = review.lead_raise_or_merge(household_id=hh.pk, source=LeadSource.SELF_APPLICATION, evidence={"text": "x"})
    assert lead is not None and lead.accepted_on == timezone.localdate()  # a household's own application
    other = LeadFactory(household=world.households["520101001002"], raised_at=timezone.now() - dt.timedelta(days=20))
    today = timezone.localdate()
    v = _verified_12_days_ago(today)
    review.lead_verify(lead_id=other.pk, actor=_village_for(world, "520101001002"), opinion="", verification=v)
    other.refresh_from_db()
    assert other.accepted_on == today - dt.timedelta(days=12)  # the home check: the village took it on
    review.lead_review(lead_id=other.pk, actor=world.users["township"], opinion="")
    other.refresh_from_db()
    assert other.reviewed_at is not None
    steps = {
        s.step: s
        for s in lead_deadlines(lead=Lead.objects.select_related("household").get(pk=other.pk), today=today).steps
    }
    assert steps[ProcedureStep.TOWNSHIP_REVIEW].done_on == today
    assert steps[ProcedureStep.COUNTY_DECISION].status in ("IN_PROGRESS",)


def test_a_later_accept_is_brought_back_to_the_home_check(world) -> None:  # type: ignore[no-untyped-def]
    """受理 pressed (or marked by the 收支核算) after the visit that the verification records: the
    受理日期 becomes the 入户核实 day, audited, so its time limit is not counted late."""
    today = timezone.localdate()
    lead = LeadFactory(household=world.households["520101001002"], raised_at=timezone.now() - dt.timedelta(days=20))
    village = _village_for(world, "520101001002")
    lead_accept(lead_id=lead.pk, actor=village, accepted_on=today - dt.timedelta(days=2))
    v = _verified_12_days_ago(today)
    review.lead_verify(lead_id=lead.pk, actor=village, opinion="", verification=v)
    lead.refresh_from_db()
    assert lead.accepted_on == today - dt.timedelta(days=12)
    entry = AuditEntry.objects.get(object_type="lead", action="verify", object_id=str(lead.pk))
    assert entry.data["accepted_on_corrected"] == [
        (today - dt.timedelta(days=2)).isoformat(),
        (today - dt.timedelta(days=12)).isoformat(),
    ]
    steps = {
        s.step: s
        for s in lead_deadlines(lead=Lead.objects.select_related("household").get(pk=lead.pk), today=today).steps
    }
    assert steps[ProcedureStep.HOME_CHECK].done_on == today - dt.timedelta(days=12)
    assert not steps[ProcedureStep.HOME_CHECK].late


def _village_for(world, code: str):  # type: ignore[no-untyped-def]
    from fanpin.core.roles import Role
    from tests.factories import user

    return user(f"v{code}", Role.VILLAGE, code)


def test_queue_column_filter_and_query_count(world, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    late = _old_lead(world, days=40)
    fresh = LeadFactory(household=world.households["520101001002"], raised_at=timezone.now())
    for _ in range(55):
        hh = HouseholdFactory(village_id=VILLAGE)
        MemberFactory(household=hh, relation="HEAD")
        LeadFactory(household=hh, raised_at=timezone.now() - dt.timedelta(days=30))
    client = world.client_for("county")
    with django_assert_max_num_queries(12):
        response = client.get(reverse("monitoring:lead_queue"), {"state": "ALL", "late": "on"})
    page = response.content.decode()
    assert 'data-testid="late-badge"' in page and "受理" in page
    # the two filters say what they mean (逾期: days since raised; 超期: a step past its limit)
    assert 'data-testid="overdue-help"' in page and "发现后超过 15 天仍未办结" in page and "本省办理时限" in page
    ids = {lead.pk for lead in response.context["object_list"]}
    assert late.pk in ids or len(ids) == 50
    filtered = client.get(reverse("monitoring:lead_queue"), {"state": "ALL", "late": "on", "region": "520101001002"})
    assert fresh.pk not in {lead.pk for lead in filtered.context["object_list"]}
    with django_assert_max_num_queries(12):
        client.get(reverse("monitoring:lead_queue"), {"state": "ALL", "page": 2})


def test_export_has_the_step_columns(world) -> None:  # type: ignore[no-untyped-def]
    _old_lead(world, days=40)
    response = world.client_for("county").get(reverse("monitoring:leads_export"), {"state": "ALL"})
    if response.status_code == 302:  # a job for large exports
        pytest.skip("export ran as a job")
    ws = load_workbook(
        io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    ).active
    header = [c.value for c in ws[1]]
    assert {"当前环节", "办理期限", "是否超期"} <= set(header)
    row = [c.value for c in ws[2]]
    assert row[header.index("当前环节")] == "受理"
    assert row[header.index("是否超期")] == "是"


@pytest.mark.slow
def test_a_demo_lead_shows_its_steps() -> None:
    demo_generate(households=300, seed=2020, with_users=True)
    call_command("screen", "--year", "2025", verbosity=0)
    call_command("demo_workflow", "--direct", "2", "--rejected", "1", verbosity=0)
    from fanpin.core.models import User

    county = User.objects.filter(role="ADMIN").first() or User.objects.get(username="county")
    from django.test import Client

    client = Client()
    client.force_login(county)
    from django.db.models import Count

    counts = dict(Lead.objects.values_list("state").annotate(n=Count("id")))
    for state in (LeadState.NEW, LeadState.CONFIRMED):
        lead = Lead.objects.for_user(county).filter(state=state).first()
        assert lead is not None, counts
        page = client.get(reverse("monitoring:lead_detail", args=[lead.pk])).content.decode()
        assert 'data-testid="deadline-table"' in page
        assert "节假日安排为示例数据，请系统管理员导入正式公布的安排" in page
    # the demo's leads reviewed by the township through the service have their review time
    assert Lead.objects.filter(reviewed_at__isnull=False).exists(), counts


@pytest.mark.slow
def test_the_exports_step_cells_are_each_leads_own_on_demo_data(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The export computes the step cells once per combination of dates (most leads share theirs):
    on the demo's leads of every state, the sheet holds exactly the cells of each lead's own steps."""
    from collections import Counter

    from monitoring.services.exports_leads import leads_export

    demo_generate(households=300, seed=2020, with_users=True)
    call_command("screen", "--year", "2025", verbosity=0)
    call_command("demo_workflow", "--direct", "2", "--rejected", "1", verbosity=0)
    for n, lead in enumerate(Lead.objects.filter(state=LeadState.NEW).order_by("id")):  # raised on many days
        Lead.objects.filter(pk=lead.pk).update(raised_at=lead.raised_at - dt.timedelta(days=n % 9))
    today = timezone.localdate()
    expected: Counter[tuple[object, ...]] = Counter()
    for lead in Lead.objects.select_related("household"):
        current = lead_deadlines(lead=lead, today=today).current
        steps = lead_deadlines(lead=lead, today=today)
        expected[
            ("", None, "否") if current is None else (current.label, current.due, "是" if steps.overdue else "否")
        ] += 1
    path = tmp_path / "leads.xlsx"
    assert leads_export(user=None, output=str(path)) == sum(expected.values())
    book = load_workbook(path, read_only=True)
    rows = book.active.iter_rows(values_only=True)
    header = list(next(rows))
    at = [header.index(name) for name in ("当前环节", "办理期限", "是否超期")]
    got = Counter(
        (row[at[0]] or "", row[at[1]].date() if isinstance(row[at[1]], dt.datetime) else row[at[1]], row[at[2]])
        for row in rows
    )
    book.close()
    assert got == expected
    assert len(expected) > 5  # many kinds of cells, some overdue
    assert any(cells[2] == "是" for cells in expected)


def test_dashboard_counts_overdue_leads_per_region(world) -> None:  # type: ignore[no-untyped-def]
    from assistance.selectors.dashboard import dashboard_figures

    _old_lead(world, days=40)  # 520101001001: overdue
    LeadFactory(household=world.households["520101001002"], raised_at=timezone.now())  # on time
    LeadFactory(household=world.households["520101002001"], raised_at=timezone.now() - dt.timedelta(days=40))
    today = timezone.localdate()
    d = dashboard_figures(
        user=world.users["county"], region_code="520101000000", year=today.year, today=today, use_cache=False
    )
    table = d.tables["overdue_leads"]
    by_code = dict(zip(table.codes, table.rows, strict=False))
    assert by_code["520101001000"][1:3] == [2, 1]
    assert by_code["520101002000"][1:3] == [1, 1]
    assert table.rows[-1][:3] == ["合计", 3, 2]


def test_api_late_filter_and_fields(world) -> None:  # type: ignore[no-untyped-def]
    late = _old_lead(world, days=40)
    fresh = LeadFactory(household=world.households["520101001002"], raised_at=timezone.now(), accepted_on=None)
    client = world.client_for("county")
    ids = {row["id"] for row in client.get("/api/v1/leads/", {"late": "true"}).json()["results"]}
    assert ids == {late.pk}
    ids = {row["id"] for row in client.get("/api/v1/leads/", {"late": "false"}).json()["results"]}
    assert fresh.pk in ids and late.pk not in ids
    detail = client.get(f"/api/v1/leads/{late.pk}/").json()
    assert "accepted_on" in detail and "reviewed_at" in detail
