"""Every URL, every role, an object inside and outside the user's region (issue 10).

The list of URLs comes from the URL configuration itself: a new URL without a rule in ``RULES``
fails ``test_every_url_has_an_access_rule``.  Django's admin has its own test (tests/fanpin).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from fanpin.core.roles import Permission, role_can
from tests.conftest import World

pytestmark = [pytest.mark.django_db, pytest.mark.shared_world]  # the world is built once (tests/conftest.py)


@pytest.fixture(autouse=True)
def _pdf_not_printed(pdf_rendered_not_printed: list[str]) -> list[str]:
    """Who gets a PDF page is decided before Chromium prints it: here the page's HTML is rendered
    and not printed (1–3 s a card; printing is tested in tests/assistance/test_cards.py).  The pages
    rendered for printing are listed: a refused request renders none."""
    return pdf_rendered_not_printed


ROLES = ["admin", "province", "city", "county", "township", "village", "dept"]
INSIDE_VILLAGE = "520101001001"  # inside every regional test user's scope
OUTSIDE_VILLAGE = "530101001001"  # another province: outside everyone's but the administrator's


@dataclass(frozen=True)
class Rule:
    """How a URL must answer.

    ``kind`` "page": anonymous → redirect to login, role without ``permission`` → 403.
    ``kind`` "api": anonymous → 401/403; a role whose data scope is empty sees empty lists / 404.
    ``obj`` builds the URL kwargs for an object inside or outside the user's region; outside → 404.
    """

    kind: str = "page"
    public: bool = False
    permission: str | None = None
    obj: Callable[[World, bool], dict[str, Any]] | None = None
    personal_data: bool = True
    scoped: bool = True  # False: the URL's object has no region (e.g. a blank template)
    ok: tuple[int, ...] = (200,)
    methods: tuple[str, ...] = ("get",)
    extra: dict[str, Any] = field(default_factory=dict)
    owner: str = ""  # only this user's object (an export): everyone else, administrators too, gets 404


def export_job(world: World, inside: bool) -> dict[str, Any]:
    """A finished households export of the county user; outside: one made in another county."""
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from monitoring.models import ExportJob

    job = ExportJob(kind="households", created_by=world.users["county"], region_code="520101000000")
    job.status, job.finished_at, job.row_count = "SUCCEEDED", timezone.now(), 1
    job.file.save("农户信息.xlsx", ContentFile(b"PK\x03\x04"), save=False)
    job.save()
    if not inside:
        ExportJob.objects.filter(pk=job.pk).update(region_code="530101000000")
    return {"pk": job.pk}


def calendar_preview(world: World, inside: bool) -> dict[str, Any]:
    """A pending calendar import preview uploaded by the administrator (nothing is stored for 2031);
    outside: one uploaded by another administrator."""
    from fanpin.core.roles import Role
    from monitoring.models.calendar import CalendarImportPreview
    from monitoring.selectors.calendar_imports import calendar_rows_digest, calendar_year_digest
    from tests.factories import user

    rows = [["2031-01-01", "HOLIDAY", "元旦"]]
    preview = CalendarImportPreview.objects.create(
        year=2031,
        file_name="2031.xlsx",
        created_by=world.users["admin"] if inside else user("admin-other", Role.ADMIN, None),
        rows=rows,
        digest=calendar_rows_digest(rows=rows),
        base_digest=calendar_year_digest(year=2031),
    )
    return {"pk": preview.pk}


def household(world: World, inside: bool) -> dict[str, Any]:
    return {"pk": world.households[INSIDE_VILLAGE if inside else OUTSIDE_VILLAGE].pk}


def member(world: World, inside: bool) -> dict[str, Any]:
    return {"pk": world.households[INSIDE_VILLAGE if inside else OUTSIDE_VILLAGE].members.get().pk}


def import_job(world: World, inside: bool) -> dict[str, Any]:
    """A county import with one bad row (so it has an annotated copy); outside: another county's."""
    import tempfile
    from pathlib import Path

    from django.core.files.uploadedfile import SimpleUploadedFile

    from monitoring.models import ImportJob
    from monitoring.services.imports.jobs import import_job_create, import_job_preview
    from tests.monitoring.xlsx import kind_sheet

    row = {"户编号": "H520101001001", "年度": 2024, "家庭人口数": 0, "工资性收入": 1, "生产经营净收入": 0}
    row |= {"财产净收入": 0, "转移净收入": 0}
    with tempfile.TemporaryDirectory() as tmp:
        path = kind_sheet(Path(tmp) / "收入.xlsx", "incomes", [row])
        upload = SimpleUploadedFile(path.name, path.read_bytes())
    job = import_job_create(user=world.users["county"], kind="incomes", upload=upload)
    import_job_preview(job=job)
    if not inside:
        ImportJob.objects.filter(pk=job.pk).update(region_code="530101000000")
    return {"pk": job.pk}


def screening_run(world: World, inside: bool) -> dict[str, Any]:
    from monitoring.models import ScreeningRun

    county = "520101000000" if inside else "530101000000"
    run = ScreeningRun.objects.create(region_id=county, year=2024, trigger="MANUAL", started_by=world.users["admin"])
    return {"pk": run.pk}


def template_kind(world: World, inside: bool) -> dict[str, Any]:
    return {"kind": "alerts"}  # the one template every role with the import pages may download


def region_pk(world: World, inside: bool) -> dict[str, Any]:
    return {"pk": INSIDE_VILLAGE if inside else OUTSIDE_VILLAGE}


def lead(world: World, inside: bool) -> dict[str, Any]:
    from tests.factories import LeadFactory

    return {"pk": LeadFactory(household=world.households[INSIDE_VILLAGE if inside else OUTSIDE_VILLAGE]).pk}


def lead_with_scan(world: World, inside: bool) -> dict[str, Any]:
    from django.core.files.base import ContentFile

    from monitoring.models import Lead

    pk = lead(world, inside)["pk"]
    obj = Lead.objects.get(pk=pk)
    obj.consent_scan.save("scan.pdf", ContentFile(b"%PDF-1.4 test"), save=True)
    return {"pk": pk}


def lead_action(action: str) -> Callable[[World, bool], dict[str, Any]]:
    def build(world: World, inside: bool) -> dict[str, Any]:
        return {**lead(world, inside), "action": action}

    return build


def campaign(world: World, inside: bool) -> dict[str, Any]:
    """A 回头看 of the county 520101 (inside) or of 530101 (outside)."""
    import datetime as dt

    from monitoring.models import Campaign

    county = "520101000000" if inside else "530101000000"
    obj = Campaign.objects.create(
        county_id=county,
        kind="REVISIT",
        name=f"回头看{county}",
        year=2026,
        selection="ALL_TARGETS",
        started_on=dt.date(2026, 3, 2),
        due_on=dt.date(2026, 3, 30),
        created_by=world.users["admin"],
    )
    return {"pk": obj.pk}


def campaign_village(world: World, inside: bool) -> dict[str, Any]:
    return {**campaign(world, inside), "code": INSIDE_VILLAGE if inside else OUTSIDE_VILLAGE}


def household_change_accept(world: World, inside: bool) -> dict[str, Any]:
    """A pending 户类型 change of the village's household (accepting it applies it: 302)."""
    from monitoring.models import ChangeKind, HouseholdChange

    home = world.households[INSIDE_VILLAGE if inside else OUTSIDE_VILLAGE]
    change = HouseholdChange.objects.create(
        kind=ChangeKind.TYPE,
        household=home,
        region_code=home.village_id,
        source="IMPORT",
        before={"household_type": home.household_type, "exit_year": home.exit_year},
        after={"household_type": "EDGE", "exit_year": None},
    )
    return {"pk": change.pk, "action": "accept"}


def target(world: World, inside: bool) -> dict[str, Any]:
    from tests.factories import TargetFactory

    return {"pk": TargetFactory(household=world.households[INSIDE_VILLAGE if inside else OUTSIDE_VILLAGE]).pk}


def lead_consented(world: World, inside: bool) -> dict[str, Any]:
    """A NEW lead whose household's 承诺授权 is on file (信息比对 may be recorded)."""
    from monitoring.models import Lead

    pk = lead(world, inside)["pk"]
    Lead.objects.filter(pk=pk).update(consent_signed=True)
    return {"pk": pk}


def lead_source(world: World, inside: bool) -> dict[str, Any]:
    return {**lead_consented(world, inside), "source": "PUBLIC_SECURITY_VEHICLE"}


def comparison(world: World, inside: bool) -> dict[str, Any]:
    """A 信息比对 result (无异常) on a lead of the village inside / outside."""
    import datetime as dt

    from django.utils import timezone

    from monitoring.models import ComparisonSource, DataComparison

    obj = DataComparison.objects.create(
        lead_id=lead_consented(world, inside)["pk"],
        source=ComparisonSource.objects.get(code="PUBLIC_SECURITY_VEHICLE"),
        compared_on=dt.date(2026, 3, 2),
        result="NO_ISSUE",
        recorded_at=timezone.now(),
        recorded_by=world.users["admin"],
    )
    return {"pk": obj.pk}


def follow_up(world: World, inside: bool) -> dict[str, Any]:
    """The open 补办 follow-up of a target the county confirmed directly (green channel)."""
    from django.utils import timezone

    from monitoring.models import FollowUp

    target_pk = target(world, inside)["pk"]
    obj = FollowUp.objects.create(
        target_id=target_pk,
        opened_on=timezone.localdate(),
        opened_at=timezone.now(),
        opened_by=world.users["admin"],
        owes_home_check=True,
        owes_appraisal=True,
        owes_publicity=True,
    )
    return {"pk": obj.pk}


def follow_up_step(world: World, inside: bool) -> dict[str, Any]:
    return {**follow_up(world, inside), "step": "HOME_CHECK"}


def village_code(world: World, inside: bool) -> dict[str, Any]:
    return {"code": INSIDE_VILLAGE if inside else OUTSIDE_VILLAGE}


def township_code(world: World, inside: bool) -> dict[str, Any]:
    """The township of the inside village (a village cadre's own: its 公告 is posted there)."""
    return {"code": (INSIDE_VILLAGE if inside else OUTSIDE_VILLAGE)[:9] + "000"}


def township_lookup(world: World, inside: bool) -> dict[str, Any]:
    return {"township": township_code(world, inside)["code"]}


def target_measure(world: World, inside: bool) -> dict[str, Any]:
    from tests.assistance.factories import TargetMeasureFactory, target_for

    return {
        "pk": TargetMeasureFactory(
            target=target_for(world.households[INSIDE_VILLAGE if inside else OUTSIDE_VILLAGE])
        ).pk
    }


def proposal(world: World, inside: bool) -> dict[str, Any]:
    from tests.assistance.factories import ProposalFactory, target_for

    household = world.households[INSIDE_VILLAGE if inside else OUTSIDE_VILLAGE]
    return {"pk": ProposalFactory(target=target_for(household), proposed_by=world.users["admin"]).pk}


def dashboard_region(world: World, inside: bool) -> dict[str, Any]:
    return {}  # no URL kwargs: the region is the query string (``dashboard_query``)


def dashboard_query(world: World, inside: bool) -> dict[str, str]:
    return {"region": "520101000000" if inside else "530101000000"}


def dashboard_table(world: World, inside: bool) -> dict[str, Any]:
    return {"table": "regions"}


def visit(world: World, inside: bool) -> dict[str, Any]:
    from monitoring.models import Visit

    hh = world.households[INSIDE_VILLAGE if inside else OUTSIDE_VILLAGE]
    return {"pk": Visit.objects.create(household=hh, visited_on="2025-03-01", visitors="张三").pk}


def application(world: World, inside: bool) -> dict[str, Any]:
    from monitoring.models import Application

    hh = world.households[INSIDE_VILLAGE if inside else OUTSIDE_VILLAGE]
    row = Application.objects.create(
        receipt_no=f"SBTEST{hh.pk:06d}",
        channel="PUBLIC",
        status="PENDING_MATCH",
        village_id=hh.village_id,
        reason="ILLNESS",
        description="生病",
    )
    return {"pk": row.pk}


def roster_line(world: World, inside: bool) -> dict[str, Any]:
    """A 民政 roster line matched to the household of the village inside / outside (issue 19)."""
    from monitoring.models import AlertStatus, AssistanceEntry

    member_ = world.households[INSIDE_VILLAGE if inside else OUTSIDE_VILLAGE].members.get()
    obj = AssistanceEntry.objects.create(
        id_number=member_.id_number,
        name="x",
        category="SUBSISTENCE",
        start_date="2025-01-01",
        member=member_,
        status=AlertStatus.MATCHED,
        region_code=member_.household.village_id,
        scope_code="520101000000",
    )
    return {"pk": obj.pk}


def alert(world: World, inside: bool) -> dict[str, Any]:
    from monitoring.models import AlertStatus, DepartmentAlert
    from tests.factories import make_id_number

    member_ = world.households[INSIDE_VILLAGE if inside else OUTSIDE_VILLAGE].members.get()
    obj = DepartmentAlert.objects.create(
        id_number=make_id_number(),
        name="x",
        alert_type="OTHER",
        alert_date="2025-01-01",
        department="医保",
        member=member_,
        status=AlertStatus.MATCHED,
        region_code=member_.household.village_id,
        scope_code="520101000000",  # submitted by the county's 医保 unit (the dept user's own)
    )
    return {"pk": obj.pk}


def api_token(world: World, inside: bool) -> dict[str, Any]:
    from fanpin.core.api_tokens import token_create

    code = "520101001000" if inside else "530101001001"
    return {
        "pk": token_create(
            actor=world.users["admin"], name="t", role="VILLAGE" if not inside else "TOWNSHIP", region_code=code
        ).token.pk
    }


P = Permission
RULES: dict[str, Rule] = {
    "home": Rule(extra={"ok_for": {"village": (302,)}}),  # a village cadre is sent to 村级工作台
    "favicon": Rule(public=True, ok=(301,)),  # to the icon in static/
    "login": Rule(public=True, ok=(200, 302)),  # logged-in users are sent home
    "logout": Rule(public=True, methods=("post",), ok=(302,)),
    "monitoring:household_list": Rule(permission=Permission.VIEW_HOUSEHOLDS),
    "monitoring:household_detail": Rule(permission=Permission.VIEW_HOUSEHOLDS, obj=household),
    "monitoring:member_id_number": Rule(permission=Permission.VIEW_FULL_ID, obj=member, methods=("post",)),
    # 恢复在册 (a departure accepted by mistake): whoever decides household changes; the member here
    # is in the registry (409)
    "monitoring:member_restore": Rule(
        permission=Permission.VIEW_HOUSEHOLDS,
        obj=member,
        methods=("post",),
        ok=(409,),
        extra={"ok_for": dict.fromkeys(("province", "city", "township", "village"), (403,))},
    ),
    "monitoring:region_typeahead": Rule(permission=Permission.VIEW_HOUSEHOLDS),  # suggestions in the user's scope
    "monitoring:application_match": Rule(
        permission=Permission.VIEW_FULL_ID, obj=application, methods=("post",), ok=(302,)
    ),
    "monitoring:household_export": Rule(permission=Permission.EXPORT_DATA),
    # Large exports: a job page and its file, for the user who started it only.
    "monitoring:export_list": Rule(permission=Permission.EXPORT_DATA),
    "monitoring:export_detail": Rule(permission=Permission.EXPORT_DATA, obj=export_job, owner="county"),
    "monitoring:export_download": Rule(permission=Permission.EXPORT_DATA, obj=export_job, owner="county"),
    # Import pages: county staff, administrators and department users (their own alert uploads
    # only: a county's job is 404 for the department user, inside the region or not; tests in
    # tests/monitoring/test_dept_uploads.py cover a department user's own and others' jobs).
    "monitoring:import_list": Rule(permission=P.UPLOAD_SHEETS),
    "monitoring:import_template": Rule(permission=P.UPLOAD_SHEETS, obj=template_kind, scoped=False),
    "monitoring:import_detail": Rule(permission=P.UPLOAD_SHEETS, obj=import_job),
    "monitoring:import_annotated": Rule(permission=P.UPLOAD_SHEETS, obj=import_job),
    # confirming an invalid import answers with the job page again (redirect), never runs it
    "monitoring:import_confirm": Rule(permission=P.UPLOAD_SHEETS, obj=import_job, methods=("post",), ok=(302,)),
    "monitoring:screening": Rule(permission=Permission.RUN_SCREENING),
    "monitoring:screening_run": Rule(permission=Permission.RUN_SCREENING, obj=screening_run),
    "monitoring:parameters": Rule(permission=Permission.MANAGE_PARAMETERS),
    # an empty preview form answers with its errors (400) or the empty table
    "monitoring:parameters_preview": Rule(permission=Permission.MANAGE_PARAMETERS, methods=("post",), ok=(200, 400)),
    "api-root": Rule(kind="api", personal_data=False),
    "api-schema": Rule(kind="api", personal_data=False),
    "api-docs": Rule(kind="api", personal_data=False),
    "region-list": Rule(kind="api", personal_data=False),
    "region-detail": Rule(kind="api", obj=region_pk, personal_data=False),
    "household-list": Rule(kind="api"),
    "household-detail": Rule(kind="api", obj=household),
    # Review workflow (issue 5).  Transition POSTs with an empty body: a role that never does the
    # step gets 403, the role that does gets the form/serializer error (400) or a state refusal
    # (409); exact outcomes per role × transition × state are in tests/monitoring/test_review_matrix.py.
    "monitoring:lead_queue": Rule(permission=Permission.VIEW_HOUSEHOLDS),
    "monitoring:leads_bulk": Rule(permission=Permission.VIEW_HOUSEHOLDS, methods=("post",), ok=(302, 403)),
    "monitoring:leads_export": Rule(permission=Permission.EXPORT_DATA),
    "monitoring:lead_detail": Rule(permission=Permission.VIEW_HOUSEHOLDS, obj=lead),
    "monitoring:lead_consent_scan": Rule(permission=Permission.VIEW_CONSENT_SCANS, obj=lead_with_scan),
    "monitoring:lead_act": Rule(
        permission=Permission.VIEW_HOUSEHOLDS, obj=lead_action("verify"), methods=("post",), ok=(400, 403)
    ),
    "monitoring:publicity": Rule(permission=Permission.VIEW_HOUSEHOLDS, obj=village_code),
    "monitoring:publicity_xlsx": Rule(permission=Permission.VIEW_HOUSEHOLDS, obj=village_code),
    "monitoring:target_list": Rule(permission=Permission.VIEW_HOUSEHOLDS),
    "monitoring:targets_export": Rule(permission=Permission.EXPORT_DATA),
    "monitoring:target_detail": Rule(permission=Permission.VIEW_HOUSEHOLDS, obj=target),
    # 帮扶明白卡 and village posters (village, township, county staff): one target's card and its
    # PDF, the villages page, a village's batch; the world's village has no active target, so its
    # batch PDF is refused with the 400 page (the PDFs themselves: tests/assistance/test_cards.py)
    "assistance:card": Rule(permission=P.PRINT_CARDS, obj=target),
    "assistance:card_pdf": Rule(permission=P.PRINT_CARDS, obj=target),  # rendered, not printed (below)
    "assistance:card_villages": Rule(permission=P.PRINT_CARDS),
    "assistance:village_cards": Rule(permission=P.PRINT_CARDS, obj=village_code),
    "assistance:village_cards_pdf": Rule(permission=P.PRINT_CARDS, obj=village_code, ok=(400,)),
    "monitoring:village_poster": Rule(permission=P.PRINT_CARDS, obj=village_code, personal_data=False),
    "lead-list": Rule(kind="api"),
    "lead-detail": Rule(kind="api", obj=lead),
    "lead-verify": Rule(kind="api", obj=lead, methods=("post",), ok=(400, 403)),
    "lead-review": Rule(kind="api", obj=lead, methods=("post",), ok=(403, 409)),
    "lead-confirm": Rule(kind="api", obj=lead, methods=("post",), ok=(400, 403)),
    "lead-reject": Rule(kind="api", obj=lead, methods=("post",), ok=(400, 403)),
    "target-list": Rule(kind="api"),
    "target-detail": Rule(kind="api", obj=target),
    "assistance:plan_list": Rule(permission=P.VIEW_HOUSEHOLDS),
    "assistance:target_plan": Rule(permission=P.VIEW_HOUSEHOLDS, obj=target),
    "assistance:measure_add": Rule(permission=P.PLAN_ASSISTANCE, obj=target, methods=("post",), ok=(200,)),
    # 风险消除 (issue 18): the 入户核实 form (GET) and an empty proposal (its form errors, 400)
    "assistance:elimination_propose": Rule(
        permission=P.PROPOSE_ELIMINATION, obj=target, methods=("get", "post"), ok=(200, 400)
    ),
    "assistance:elimination_home_check": Rule(
        permission=P.PROPOSE_ELIMINATION, obj=proposal, methods=("post",), ok=(400,)
    ),
    "assistance:elimination_appraisal": Rule(
        permission=P.PROPOSE_ELIMINATION, obj=proposal, methods=("post",), ok=(400,)
    ),
    "assistance:elimination_publicity_record": Rule(
        permission=P.PROPOSE_ELIMINATION, obj=proposal, methods=("post",), ok=(400,)
    ),
    "assistance:elimination_publicity": Rule(permission=P.VIEW_HOUSEHOLDS, obj=village_code),
    "assistance:elimination_publicity_xlsx": Rule(permission=P.VIEW_HOUSEHOLDS, obj=village_code),
    "elimination-list": Rule(kind="api"),
    "elimination-detail": Rule(kind="api", obj=proposal),
    "elimination-propose": Rule(kind="api", methods=("post",), ok=(400, 403)),
    "elimination-home-check": Rule(kind="api", obj=proposal, methods=("post",), ok=(400, 403)),
    "elimination-appraisal": Rule(kind="api", obj=proposal, methods=("post",), ok=(400, 403)),
    "elimination-publicity": Rule(kind="api", obj=proposal, methods=("post",), ok=(400, 403)),
    "elimination-review": Rule(kind="api", obj=proposal, methods=("post",), ok=(403, 409)),
    "elimination-confirm": Rule(kind="api", obj=proposal, methods=("post",), ok=(403, 409)),
    "elimination-reject": Rule(kind="api", obj=proposal, methods=("post",), ok=(400, 403)),
    "assistance:measure_list": Rule(permission=P.VIEW_HOUSEHOLDS),
    "assistance:measure_progress": Rule(permission=P.RECORD_PROGRESS, obj=target_measure, methods=("post",), ok=(302,)),
    "assistance:measure_edit": Rule(permission=P.PLAN_ASSISTANCE, obj=target_measure, methods=("get", "post")),
    "assistance:unassisted": Rule(permission=P.VIEW_HOUSEHOLDS),
    "assistance:elimination_list": Rule(permission=P.VIEW_HOUSEHOLDS),
    "assistance:proposal_detail": Rule(permission=P.VIEW_HOUSEHOLDS, obj=proposal),
    "assistance:proposal_act": Rule(permission=P.DECIDE_ELIMINATION, obj=proposal, methods=("post",), ok=(302,)),
    # 公告 (issue 18): a township in scope (a village cadre's own township), the chooser, the sheet
    "assistance:announcements": Rule(permission=P.VIEW_HOUSEHOLDS),
    "assistance:announcement": Rule(permission=P.VIEW_HOUSEHOLDS, obj=township_code),
    "assistance:announcement_xlsx": Rule(permission=P.VIEW_HOUSEHOLDS, obj=township_code),
    "announcement-list": Rule(kind="api"),
    "announcement-detail": Rule(kind="api", obj=township_lookup),
    # 统计看板 (issue 9): counts only; a region outside the scope answers 404
    "dashboard": Rule(
        permission=P.VIEW_DASHBOARD,
        obj=dashboard_region,
        personal_data=False,
        extra={"query": dashboard_query},
    ),
    "dashboard_xlsx": Rule(
        permission=P.VIEW_DASHBOARD, obj=dashboard_table, personal_data=False, extra={"query": dashboard_query}
    ),
    # Department alerts and API tokens (issue 8).  The alert list is the department's own status
    # list or the county's; its API POST with an empty body is a validation error.  The API lets in
    # exactly the roles the page lets in (issue 16: tests/security/test_alerts_access.py).
    "monitoring:alert_list": Rule(permission=P.VIEW_ALERTS),
    "alert-list": Rule(kind="api", permission=P.VIEW_ALERTS, methods=("get", "post"), ok=(200, 400)),
    # the 医保 department user sees its own department's alert (status only, no household data)
    "alert-detail": Rule(kind="api", permission=P.VIEW_ALERTS, obj=alert, personal_data=False),
    "medical-settlement-list": Rule(kind="api", methods=("post",), ok=(400, 403)),
    # 民政 rosters (issue 19): the page for county staff, administrators and 民政 users (the world's
    # department user is 医保: 403); the API reads like alerts (医保: an empty list, 404 for a line),
    # only 民政 and those who import registry data send (an empty body is a validation error)
    "monitoring:roster_list": Rule(permission=P.VIEW_ALERTS, extra={"ok_for": {"dept": (403,)}}),
    "monitoring:roster_uncovered": Rule(permission=P.VIEW_HOUSEHOLDS),
    "monitoring:roster_unvisited": Rule(permission=P.VIEW_HOUSEHOLDS),
    "assistance-roster-list": Rule(
        kind="api",
        permission=P.VIEW_ALERTS,
        methods=("get", "post"),
        ok=(200, 400),
        extra={"ok_for": {"dept": (200, 403)}},
    ),
    "assistance-roster-detail": Rule(kind="api", permission=P.VIEW_ALERTS, obj=roster_line),
    "token_list": Rule(permission=P.MANAGE_TOKENS),
    "token_revoke": Rule(permission=P.MANAGE_TOKENS, obj=api_token, methods=("post",), ok=(302,)),
    "assistance-list": Rule(kind="api"),
    "assistance-detail": Rule(kind="api", obj=target_measure),
    # Village cadres (issue 6)
    "monitoring:cadre_home": Rule(permission=P.RECORD_VISITS),
    "monitoring:visit_new": Rule(permission=P.RECORD_VISITS),
    "monitoring:application_new": Rule(permission=P.RECORD_VISITS),
    "monitoring:application_list": Rule(permission=P.VIEW_HOUSEHOLDS),
    "monitoring:cadre_sw": Rule(public=True),  # static JavaScript, served under the cadre pages' scope
    "self_report": Rule(public=True),  # the public self-report page (no login)
    # the public status page (no login) and its appeal form (POST only; an empty one is a form error)
    "status": Rule(public=True),
    "status_appeal": Rule(public=True, methods=("post",), ok=(400,)),
    # 申诉 by a cadre for the household (a lead that is not 未纳入 answers with why it cannot be appealed)
    "monitoring:lead_appeal": Rule(permission=P.RECORD_VISITS, obj=lead),
    # notices: the county's log, a household's consent
    "monitoring:notice_list": Rule(permission=P.VIEW_NOTICES),
    "monitoring:notice_preference": Rule(permission=P.RECORD_VISITS, obj=household),
    # household changes (issue 19): every role with household data sees its region's; the county decides
    # 家庭收支核算 (issue 19): the village records it for an open lead of its own; every other role
    # that sees the lead reads the judgement on the lead page only (403 here); the provinces'
    # deduction setting is the administrators'
    "monitoring:lead_accounting": Rule(
        permission=P.VIEW_HOUSEHOLDS,
        obj=lead,
        extra={"ok_for": dict.fromkeys(("province", "city", "county", "township"), (403,))},
    ),
    "monitoring:accounting_settings": Rule(permission=P.MANAGE_PARAMETERS),
    # the provinces' own rule parameters (issue 18): administrators every province, a provincial user
    # its own (the list sends it there; another province 404, tested in test_province_parameters_pages)
    "monitoring:province_parameters": Rule(
        extra={
            "ok_for": {"province": (302,)} | dict.fromkeys(("city", "county", "township", "village", "dept"), (403,))
        }
    ),
    "monitoring:province_parameters_edit": Rule(
        obj=lambda world, inside: {"code": "520000000000"},
        scoped=False,
        extra={"ok_for": dict.fromkeys(("city", "county", "township", "village", "dept"), (403,))},
    ),
    "monitoring:province_parameters_preview": Rule(
        obj=lambda world, inside: {"code": "520000000000"},
        scoped=False,
        methods=("post",),
        extra={"ok_for": dict.fromkeys(("city", "county", "township", "village", "dept"), (403,))},
    ),
    # 办理时限 (issue 18): 受理 (an empty POST takes today; a role that never accepts: 403), the
    # working-day calendar (administrators), each province's time limits (administrators, a
    # provincial user its own)
    "monitoring:lead_accept": Rule(
        permission=P.VIEW_HOUSEHOLDS,
        obj=lead,
        methods=("post",),
        ok=(302,),
        extra={"ok_for": dict.fromkeys(("province", "city", "township"), (403,))},
    ),
    "monitoring:calendar": Rule(permission=P.MANAGE_PARAMETERS),
    "monitoring:calendar_import": Rule(permission=P.MANAGE_PARAMETERS, methods=("post",), ok=(302, 400)),
    "monitoring:calendar_template": Rule(permission=P.MANAGE_PARAMETERS),
    # an import's preview: its uploader's only (another administrator's: 404); the confirm of an
    # empty-calendar preview imports (302), the cancel discards (302)
    "monitoring:calendar_preview": Rule(permission=P.MANAGE_PARAMETERS, obj=calendar_preview, owner="admin"),
    "monitoring:calendar_preview_confirm": Rule(
        permission=P.MANAGE_PARAMETERS, obj=calendar_preview, owner="admin", methods=("post",), ok=(302,)
    ),
    "monitoring:calendar_preview_cancel": Rule(
        permission=P.MANAGE_PARAMETERS, obj=calendar_preview, owner="admin", methods=("post",), ok=(302,)
    ),
    "monitoring:procedure_settings": Rule(
        extra={"ok_for": dict.fromkeys(("city", "county", "township", "village", "dept"), (403,))}
    ),
    # 信息比对 (issue 18): the county records (its form on a lead with consent on file); the
    # household's 承诺授权 is recorded by the village or the county on a NEW lead
    "monitoring:lead_comparison": Rule(
        permission=P.VIEW_HOUSEHOLDS,
        obj=lead_source,
        extra={"ok_for": dict.fromkeys(("province", "city", "township", "village"), (403,))},
    ),
    "monitoring:lead_consent": Rule(
        permission=P.VIEW_HOUSEHOLDS,
        obj=lead,
        extra={"ok_for": dict.fromkeys(("province", "city", "township"), (403,))},
    ),
    # department users read no lead: the results API refuses them outright (403), as the page does
    "comparison-list": Rule(kind="api", permission=P.VIEW_HOUSEHOLDS),
    "comparison-detail": Rule(kind="api", permission=P.VIEW_HOUSEHOLDS, obj=comparison),
    # green channel 补办 (issue 18): who sees the target sees its follow-up; the village records
    "monitoring:followups": Rule(permission=P.VIEW_HOUSEHOLDS),
    "monitoring:followup": Rule(permission=P.VIEW_HOUSEHOLDS, obj=follow_up),
    "monitoring:followup_record": Rule(permission=P.RECORD_VISITS, obj=follow_up_step, methods=("post",), ok=(400,)),
    # 县级复核 of a 不同意 appraisal: the county only (the follow-up here was not sent back: 409)
    "monitoring:followup_county_review": Rule(
        permission=P.VIEW_HOUSEHOLDS,
        obj=follow_up,
        methods=("post",),
        ok=(409,),
        extra={"ok_for": dict.fromkeys(("admin", "province", "city", "township", "village"), (403,))},
    ),
    "follow-up-list": Rule(kind="api"),
    "follow-up-detail": Rule(kind="api", obj=follow_up),
    "monitoring:household_changes": Rule(permission=P.VIEW_HOUSEHOLDS),
    # 回头看/信息采集 (issue 18): county staff and administrators start and close (RUN_SCREENING holders)
    "monitoring:campaigns": Rule(permission=P.VIEW_HOUSEHOLDS),
    "monitoring:campaign_start": Rule(permission=P.RUN_SCREENING),
    "monitoring:campaign": Rule(permission=P.VIEW_HOUSEHOLDS, obj=campaign),
    "monitoring:campaign_village": Rule(permission=P.VIEW_HOUSEHOLDS, obj=campaign_village),
    "monitoring:campaign_xlsx": Rule(permission=P.EXPORT_DATA, obj=campaign),
    # posted without confirm=yes, 结束活动 ends nothing and answers the page asking for it (200)
    "monitoring:campaign_close": Rule(permission=P.RUN_SCREENING, obj=campaign, methods=("post",), ok=(200,)),
    # 疑似重复人员: only roles that see full 身份证号 (a group tells masked digits 7–14)
    "monitoring:duplicate_persons": Rule(
        permission=P.VIEW_HOUSEHOLDS,
        extra={"ok_for": dict.fromkeys(("province", "city", "township", "village"), (403,))},
    ),
    "monitoring:household_change_decide": Rule(
        permission=P.DECIDE_HOUSEHOLD_CHANGES, obj=household_change_accept, methods=("post",), ok=(302,)
    ),
    "visit-list": Rule(kind="api"),
    "visit-detail": Rule(kind="api", obj=visit),
    "application-list": Rule(kind="api"),
    "application-detail": Rule(kind="api", obj=application),
}


def _walk(patterns: list[Any], namespace: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, ns)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name or pattern.pattern}"


def url_names() -> list[str]:
    names = {name for name in _walk(get_resolver().url_patterns) if not name.startswith("admin:")}
    return sorted(names)


def test_every_url_has_an_access_rule() -> None:
    missing = [name for name in url_names() if name not in RULES]
    assert not missing, f"URLs without an access rule in tests/security/test_url_access.py: {missing}"
    stale = [name for name in RULES if name not in url_names()]
    assert not stale, f"rules for URLs that no longer exist: {stale}"


def _role(user: Any) -> str:
    return "ADMIN" if user.is_superuser else user.role


def expected_status(rule: Rule, world: World, role: str | None, inside: bool) -> tuple[int, ...]:
    if rule.public:
        return rule.ok
    if role is None:
        return (302,) if rule.kind == "page" else (401, 403)
    user = world.users[role]
    if rule.permission and not role_can(_role(user), rule.permission):
        return (403,)
    if rule.owner:
        return rule.ok if role == rule.owner and inside else (404,)
    if rule.obj is not None and rule.scoped:
        sees_data = rule.personal_data is False or _role(user) != "DEPT"
        if role == "admin":  # sees every region: its answer is the rule's (or its own, ``ok_for``)
            return rule.extra.get("ok_for", {}).get(role, rule.ok)
        if not inside or not sees_data:
            return (404,)
    return rule.extra.get("ok_for", {}).get(role, rule.ok)


CASES = [
    (name, role, inside)
    for name, rule in RULES.items()
    for role in [None, *ROLES]
    for inside in ((True, False) if rule.obj and rule.scoped else (True,))
]


@pytest.mark.parametrize(
    ("name", "role", "inside"), CASES, ids=[f"{n}-{r}-{'in' if i else 'out'}" for n, r, i in CASES]
)
def test_url_answers_as_its_rule_says(
    world: World, name: str, role: str | None, inside: bool, _pdf_not_printed: list[str]
) -> None:
    rule = RULES[name]
    client = Client() if role is None else world.client_for(role)
    url = reverse(name, kwargs=rule.obj(world, inside) if rule.obj else None)
    if "query" in rule.extra:  # the object is named in the query string (e.g. ?region=)
        url += "?" + urlencode(rule.extra["query"](world, inside))
    for method in rule.methods:
        response = getattr(client, method)(url)
        if response.streaming:
            # read it to the end: the test client then closes the file (never call close() here:
            # it would fire request_finished and close the test's database connection)
            b"".join(response.streaming_content)  # type: ignore[arg-type]
        # Streamed downloads hold an open file until closed.  Closing fires request_finished; with
        # close_old_connections connected that closes the PostgreSQL connection inside the test's
        # transaction (autocommit differs), so the next method's request failed with "connection
        # already closed" — disconnect it as Django's test client does.
        request_finished.disconnect(close_old_connections)
        try:
            response.close()
        finally:
            request_finished.connect(close_old_connections)
        expected = expected_status(rule, world, role, inside)
        assert response.status_code in expected, (name, role, inside, method, response.status_code)
        if response.status_code >= 300:
            assert not _pdf_not_printed, (name, role, inside)  # nothing was rendered for a refused request
        if response.status_code == 302 and role is None and not rule.public:
            assert response["Location"].startswith(reverse("login"))
