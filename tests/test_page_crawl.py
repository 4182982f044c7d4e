"""Issue 15: every page works for every role on data made the ways a county makes it.

The data is the demo (``generate_demo``), screened (``screen``), moved on by ``demo_workflow``, plus
a public self-report, a department alert through the API, a visit sent by the cadre's offline queue
(the visits API with a ``client_uuid``) and an Excel import confirmed in the browser.  Each demo user
then follows every link from the home page (tests/crawl.py).  Any 5xx or template error fails, and
so does a page that no role reached by a link.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from openpyxl import Workbook
from rest_framework.test import APIClient

from assistance.models import EliminationProposal, TargetMeasure
from assistance.selectors.elimination import elimination_candidates
from assistance.services.elimination import HomeCheck, elimination_propose
from fanpin.core.idcard import id_check_digit
from fanpin.core.masking import user_sees_full_id
from fanpin.core.models import AuditEntry, User
from monitoring.models import (
    Application,
    AppraisalOutcome,
    DataComparison,
    DepartmentAlert,
    ExportKind,
    FollowUp,
    Household,
    HouseholdChange,
    ImportJob,
    Lead,
    LeadSource,
    LeadState,
    Member,
    MonitoringTarget,
    Notice,
    RigidExpenditure,
    Visit,
)
from monitoring.models.visits import CHECKLIST_FIELDS
from monitoring.services.appeals import appeal_refusal, lead_appeal_file
from monitoring.services.applications import self_report_match
from monitoring.services.demo import ROLE_USERS
from monitoring.services.export_jobs import export_job_run, export_job_start
from monitoring.services.imports.jobs import import_job_preview_run, import_job_run
from monitoring.services.review import Verification, lead_verify
from tests.crawl import GlossaryClient, crawl, stored_texts
from tests.monitoring.xlsx import kind_sheet

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

# URL names no link leads to, and why.  Everything else must be reached by some role's crawl.
NOT_LINKED = {
    "logout": "POST only (the logout button)",
    "token_revoke": "POST only",
    "monitoring:leads_bulk": "POST only (bulk actions on the queue)",
    "monitoring:lead_act": "POST only (the workflow buttons)",
    "monitoring:lead_accept": "POST only (the 受理 button of the lead page's 办理时限 panel)",
    "monitoring:calendar_import": "POST only (the upload form on the 节假日安排 page)",
    "monitoring:calendar_preview_confirm": "POST only (确认导入 on a calendar import's preview)",
    "monitoring:calendar_preview_cancel": "POST only (取消导入 on a calendar import's preview)",
    "monitoring:import_confirm": "POST only",
    "monitoring:member_id_number": "POST only (the 显示 button, logged)",
    "monitoring:member_restore": "POST only (the county's 恢复在册 form beside a departed member)",
    "monitoring:application_match": "POST only (the 按身份证号匹配 button of a 待匹配 report)",
    "monitoring:household_change_decide": "POST only (同意变更 / 驳回 on the 农户变更审核 page)",
    "monitoring:campaign_close": "POST only (the 结束活动 form on a 回头看/信息采集 campaign's page)",
    "monitoring:followup_record": "POST only (the 登记 form of a 绿色通道补办 step on its page)",
    "monitoring:followup_county_review": "POST only (the county's 县级复核 form on a 绿色通道补办 page)",
    "status_appeal": "POST only (the 提交申诉 button of a 未纳入 answer on the status page)",
    "monitoring:parameters_preview": "POST only (htmx preview of changed parameters)",
    "monitoring:province_parameters_preview": "POST only (htmx preview of a province's changed parameters)",
    "monitoring:cadre_sw": "the service worker script, registered by JavaScript",
    "favicon": "/favicon.ico, asked for by browsers (the pages' <link rel=icon> names the file in static/)",
    "assistance:measure_progress": "POST only",
    "assistance:proposal_act": "POST only",
    "assistance:elimination_home_check": "POST only (the 补录入户核实 form on a proposal made before the steps)",
    "assistance:elimination_appraisal": "POST only (the 民主评议 form on the proposal page)",
    "assistance:elimination_publicity_record": "POST only (the 公示 form on the proposal page)",
    "assistance:measure_add": "POST only (the add form sits on the target's plan page)",
}


# A 身份证号 and a phone typed into every kind of free text (SPEC §1: masked for every role that does
# not need them, on pages, in the API, the admin and exports): no answer to a role without full-ID
# rights may carry them, nor any list export (exports by GET are masked for every role).
CANARY_ID = "53990119800101999" + id_check_digit("53990119800101999")
CANARY_PHONE = "13912345678"
CANARY = f"电话{CANARY_PHONE}身份证{CANARY_ID}"
FREE_TEXT = {
    Visit: ["visitors", "notes"],
    Application: ["description"],
    Lead: ["rejection_reason"],
    EliminationProposal: ["opinion", "rejection_reason", "home_visitors"],
    TargetMeasure: ["progress_notes", "responsible_name", "responsible_unit"],
    DataComparison: ["note", "judgement"],
    HouseholdChange: ["decision_reason"],
    FollowUp: ["home_checked_by", "county_review_reason", "county_review_note"],
    DepartmentAlert: ["note"],
    RigidExpenditure: ["note"],
    Household: ["address"],
    Notice: ["text"],
}


def _canaries_plant() -> None:
    """``CANARY`` in every free-text field of the county's data (where the field is filled or the row
    is one a page shows), and in one more audit row of every kind of object with a history (its
    reason and its data), as an opinion or reason typed at any step would be."""
    for model, fields in FREE_TEXT.items():
        rows = model._default_manager.all()
        assert rows.exists(), model.__name__  # the crawl's data has every kind
        for name in fields:
            try:
                with transaction.atomic():
                    rows.update(**{name: CANARY})
            except IntegrityError:  # a check allows the text on some rows only: where it is filled
                rows.exclude(**{name: ""}).update(**{name: CANARY})
    latest = AuditEntry.objects.values("object_type").annotate(last=Max("pk")).values_list("last", flat=True)
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                actor=entry.actor,
                object_type=entry.object_type,
                object_id=entry.object_id,
                region_code=entry.region_code,
                action=entry.action,
                from_state=entry.from_state,
                to_state=entry.to_state,
                reason=CANARY,
                data={"note": CANARY},
            )
            for entry in AuditEntry.objects.filter(pk__in=list(latest))
        ]
    )


def _url_names() -> set[str]:
    """The URL names of pages: the Django admin's and the API's are left out (the admin's pages are
    crawled but not each required; the API is fuzzed against its schema by .ci/schemathesis)."""

    def walk(resolver: URLResolver, namespace: str, prefix: str) -> Any:
        for p in resolver.url_patterns:
            route = prefix + str(p.pattern)
            if route.startswith("api/"):
                continue
            if isinstance(p, URLResolver):
                if p.namespace == "admin":
                    continue
                yield from walk(p, namespace + (f"{p.namespace}:" if p.namespace else ""), route)
            elif isinstance(p, URLPattern) and p.name:
                yield namespace + p.name

    return set(walk(get_resolver(), "", ""))


def _county_data(tmp_path: Path) -> None:
    """What a county has after a month of use, each made the way it is made in production."""
    call_command("generate_demo", households=2000, verbosity=0)  # the make demo default
    call_command("screen", year=2025, verbosity=0)
    call_command("demo_workflow", verbosity=0)
    village_user = User.objects.get(username="village")
    member = Member.objects.filter(household__village_id=village_user.region_id).order_by("id").first()
    assert member is not None
    # A public self-report (no login).
    report = {
        "name": member.name,
        "id_number": member.id_number,
        "village": member.household.village_id,
        "phone": "13800001234",
        "reason": "ILLNESS",
        "description": "家里老人住院，花了很多钱",
        "notice_opt_in": "on",  # 办理进度 notices: the county's notice log has a row
    }
    assert Client().post(reverse("self_report"), report).status_code == 200
    self_report_match(application_id=Application.objects.latest("pk").pk)  # the task after the report's commit
    # A department alert through the API (matched, with an amount: also a rigid expenditure).
    dept = APIClient()
    dept.force_authenticate(User.objects.get(username="dept"))
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    alerts = [
        {"idempotency_key": "crawl-1", "id_number": member.id_number, "name": member.name, "alert_type": "MEDICAL"}
        | {"alert_date": yesterday, "amount": "38000.00", "note": "住院"},
    ]
    response = dept.post("/api/v1/alerts/", {"alerts": alerts}, format="json")
    assert response.status_code in (200, 201), response.content
    # A visit the cadre's phone queued offline and sent later (the visits API, client_uuid).
    cadre = APIClient()
    cadre.force_authenticate(village_user)
    visit = {"client_uuid": str(uuid.uuid4()), "household": member.household_id, "visited_on": yesterday}
    visit |= {"visitors": "王书记", "risk_flag": True, "events": ["ILLNESS"], "notes": "离线录入"}
    response = cadre.post("/api/v1/visits/", visit, format="json")
    assert response.status_code == 201, response.content
    # An Excel import through the browser: upload, preview, confirm, run.
    county_user = User.objects.get(username="county")
    county = Client()
    county.force_login(county_user)
    row = {"户编号": member.household.household_no, "年度": 2026, "家庭人口数": 3, "工资性收入": 1200}
    row |= {"生产经营净收入": -300, "财产净收入": 0, "转移净收入": 800}
    sheet = kind_sheet(tmp_path / "收入.xlsx", "incomes", [row])
    upload = SimpleUploadedFile(sheet.name, sheet.read_bytes())
    assert county.post(reverse("monitoring:import_list"), {"kind": "incomes", "file": upload}).status_code == 302
    job = ImportJob.objects.order_by("id").last()
    assert job is not None
    import_job_preview_run(job_id=job.pk)  # the check, a task after the upload's commit
    assert county.post(reverse("monitoring:import_confirm", args=[job.pk])).status_code == 302
    import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "SUCCEEDED", job.errors
    # ... and one with a bad row (its page offers the annotated copy).
    bad = kind_sheet(tmp_path / "错误.xlsx", "incomes", [row | {"年度": "去年"}])
    upload = SimpleUploadedFile(bad.name, bad.read_bytes())
    assert county.post(reverse("monitoring:import_list"), {"kind": "incomes", "file": upload}).status_code == 302
    import_job_preview_run(job_id=ImportJob.objects.latest("pk").pk)
    # A calendar year uploaded by the administrator and left at its preview (the 节假日安排 page
    # links the pending preview).
    admin = Client()
    admin.force_login(User.objects.get(username="admin"))
    calendar = Workbook()
    calendar.active.append(["日期", "类型", "名称"])
    calendar.active.append(["2030-01-01", "法定节假日", "元旦"])
    calendar.active.append(["2030-01-05", "调休上班", "调休"])  # a Saturday
    calendar_file = tmp_path / "节假日安排.xlsx"
    calendar.save(calendar_file)
    upload = SimpleUploadedFile(calendar_file.name, calendar_file.read_bytes())
    assert admin.post(reverse("monitoring:calendar_import"), {"year": 2030, "file": upload}).status_code == 302
    # A lead verified with the signed consent scanned (its page links the scan).
    lead = Lead.objects.for_user(village_user).filter(state=LeadState.NEW).order_by("id").first()
    assert lead is not None
    start = timezone.localtime(lead.raised_at).date()
    scan = SimpleUploadedFile("承诺授权书.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    verification = Verification(
        home_checked_on=start,
        consent_signed=True,
        appraisal_on=start,
        appraisal_outcome=AppraisalOutcome.AGREED,
        publicity_start=start,
        publicity_end=start + dt.timedelta(days=4),  # 公示 still running: no township review yet
        consent_scan=scan,
    )
    lead_verify(lead_id=lead.pk, actor=village_user, opinion="属实", verification=verification)
    # A large export run as a job (its page and file are linked from 我的导出).
    export = export_job_start(user=county_user, kind=ExportKind.LEADS, filters={})
    export_job_run(job_id=export.pk)
    # 风险消除 proposed by the village for a target that meets every criterion.
    today = timezone.localdate()
    # (the demo leaves eliminations at every step: assistance.services.demo_elimination)
    checklist_names = [name for name, _label in CHECKLIST_FIELDS]
    ready = [a for a in elimination_candidates(user=village_user, today=today) if a.open_proposal is None]
    if ready:
        checked = HomeCheck(checked_on=today, visitors="村干部", checklist=dict.fromkeys(checklist_names, True))
        elimination_propose(
            actor=village_user, target_id=ready[0].target.pk, method="ASSISTED", opinion="收入稳定", home_check=checked
        )
    # 申诉 against a 未纳入 decision, filed for the household (its lead links back to the rejected one).
    rejected = next(
        lead for lead in Lead.objects.filter(state=LeadState.REJECTED).order_by("id") if not appeal_refusal(lead)
    )
    lead_appeal_file(actor=county_user, lead_id=rejected.pk, reason="农户称家中老人住院，收入不够")
    _canaries_plant()


def _api_walk(client: Client) -> int:
    """Every list of the API and the first records of each, as ``client``'s user; returns the answers
    read (their texts are checked by a ``GlossaryClient``)."""
    from fanpin.api_urls import router

    read = 0
    for prefix, _viewset, _basename in router.registry:
        listed = client.get(f"/api/v1/{prefix}/")
        read += 1
        if listed.status_code != 200:
            continue
        body = listed.json()
        rows = body.get("results", body) if isinstance(body, dict) else body
        for row in rows[:5] if isinstance(rows, list) else []:
            if isinstance(row, dict) and "id" in row:
                client.get(f"/api/v1/{prefix}/{row['id']}/")
                read += 1
    return read


@pytest.mark.usefixtures("pdf_rendered_not_printed")
def test_every_page_answers_for_every_role_on_demo_data(tmp_path: Path) -> None:
    """… and, in the deployment's default words (2026), no page or Excel file the crawl meets shows a
    term of the other glossary (issue 19, acceptance 3; the 2020 set: tests/test_terms_crawl.py)."""
    started = time.monotonic()
    _county_data(tmp_path)
    print(f"data: {time.monotonic() - started:.1f} s")
    # every way a lead was written copied its household's village (the scope of leads reads it)
    assert not Lead.objects.exclude(village_id=F("household__village_id")).exists()
    sources = [set(s) for s in Lead.objects.values_list("sources", flat=True)]
    for source in LeadSource:  # the crawl meets a lead of every source
        assert any(source in s for s in sources), source
    broken: list[str] = []
    reached: set[str] = set()
    stored = stored_texts()
    glossary: list[GlossaryClient] = []
    canaries = (CANARY_ID, CANARY_PHONE)
    for username in ROLE_USERS:
        user = User.objects.get(username=username)
        masked = () if user_sees_full_id(user) else canaries
        client = GlossaryClient(stored=stored, hidden_in_pages=masked, hidden_in_files=canaries)
        glossary.append(client)
        client.force_login(user)
        started = time.monotonic()
        result = crawl(client)
        if masked:
            result.pages += _api_walk(client)
        print(f"crawl {username}: {result.pages} pages in {time.monotonic() - started:.1f} s, {dict(result.statuses)}")
        broken += [f"{username} {line}" for line in result.broken]
        reached |= result.url_names
        assert result.pages > 5, f"{username} reached only {result.pages} pages"
    anonymous_client = GlossaryClient(stored=stored, hidden_in_pages=canaries, hidden_in_files=canaries)
    glossary.append(anonymous_client)
    anonymous = crawl(anonymous_client)  # the login page and what it links to (the public self-report)
    broken += [f"anonymous {line}" for line in anonymous.broken]
    reached |= anonymous.url_names
    # Every lead and target page of the county (most were raised by screening: audit rows with no
    # actor) and what they link to (the 公示名单, a consent scan).
    county_user = User.objects.get(username="county")
    county = GlossaryClient(stored=stored, hidden_in_files=canaries)
    glossary.append(county)
    county.force_login(county_user)
    leads = Lead.objects.for_user(county_user).values_list("pk", flat=True)
    targets = MonitoringTarget.objects.for_user(county_user).values_list("pk", flat=True)
    pages = [reverse("monitoring:lead_detail", args=[pk]) for pk in leads]
    pages += [reverse("monitoring:target_detail", args=[pk]) for pk in targets]
    # … and the households whose death the county accepted (a departed adult; a departed 户主: no head)
    departed = set(Member.objects.departed().values_list("household_id", flat=True))
    assert len(departed) == 2
    pages += [reverse("monitoring:household_detail", args=[pk]) for pk in sorted(departed)]
    detail = crawl(county, starts=pages, max_pages=200)
    broken += [f"county {line}" for line in detail.broken]
    reached |= detail.url_names
    assert detail.statuses[200] >= len(pages), detail.statuses
    assert not broken, "\n".join(broken[:40])
    unreached = _url_names() - reached - set(NOT_LINKED)
    assert not unreached, f"pages no role reached by a link: {sorted(unreached)}"
    assert not set(NOT_LINKED) - _url_names(), "NOT_LINKED names a URL that no longer exists"
    leaks = [line for client in glossary for line in client.leaks]
    shapes = sorted({re.sub(r"\d+", "N", line.split(": ", 1)[0]) + " " + line.split("…")[1][-90:] for line in leaks})
    assert not leaks, f"{len(leaks)} answers show a number typed into free text:\n" + "\n".join(shapes[:60])
    leftovers = [line for client in glossary for line in client.leftovers]
    assert sum(client.pages for client in glossary) > 300 and sum(client.files for client in glossary) >= 3
    assert not leftovers, f"{len(leftovers)} words of the 2020 glossary:\n" + "\n".join(leftovers[:40])
