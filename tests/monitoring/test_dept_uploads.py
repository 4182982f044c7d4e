"""Issue 8, part 2: department users upload their alert sheets (and 医保 extracts) through the
shared import pipeline, and see only their own jobs and the match status of what they submitted."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from fanpin.core.idcard import id_number_mask
from fanpin.core.models import User
from fanpin.core.roles import Department, Role
from monitoring.models import AlertStatus, DepartmentAlert, HouseholdType, ImportJob, Lead, MedicalSettlement
from monitoring.services.imports.jobs import import_job_create, import_job_preview_run, import_job_run
from tests.conftest import World
from tests.factories import make_id_number, user
from tests.monitoring.xlsx import kind_sheet, write_sheet

pytestmark = pytest.mark.django_db

VILLAGE = "520101001001"
OTHER_COUNTY_VILLAGE = "520102001001"


def client_for(account: User) -> Client:
    client = Client()
    client.force_login(account)
    return client


def head(world: World, village: str = VILLAGE) -> Any:
    return world.households[village].members.get()


def alert_row(id_number: str, **over: Any) -> dict[str, Any]:
    row = {"身份证号": id_number, "姓名": "张三", "预警类型": "大额医疗支出", "预警日期": "2025-03-14", "金额": 23456}
    row.update(over)
    return row


def upload(client: Client, path: Path, kind: str = "alerts") -> Any:
    """Upload, then run the check the upload enqueued (a task after the commit) as a worker would."""
    data = SimpleUploadedFile(path.name, path.read_bytes())
    response = client.post(reverse("monitoring:import_list"), {"kind": kind, "file": data})
    if response.status_code == 302:
        import_job_preview_run(job_id=ImportJob.objects.latest("pk").pk)
    return response


def upload_and_run(client: Client, path: Path, capture: Any, kind: str = "alerts") -> ImportJob:
    """Upload (preview), confirm (the task is enqueued on commit), and run the task body."""
    response = upload(client, path, kind)
    assert response.status_code == 302, response.content.decode()
    job = ImportJob.objects.latest("pk")
    assert job.status == "VALIDATED", job.errors
    with capture(execute=False):
        assert client.post(reverse("monitoring:import_confirm", args=[job.pk])).status_code == 302
    import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "SUCCEEDED", job.message
    return job


def page_of(client: Client, job: ImportJob) -> str:
    response = client.get(reverse("monitoring:import_detail", args=[job.pk]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def civil(world: World) -> User:
    """A 民政 department user of the same county as the world's 医保 user."""
    return user("minzheng", Role.DEPT, "520101000000", department=Department.CIVIL_AFFAIRS)


# --- upload, confirm, match status -----------------------------------------------------------


def test_department_uploads_alerts_and_sees_only_match_status(
    world: World, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    member = head(world)
    outside = head(world, OTHER_COUNTY_VILLAGE)  # another county: outside the department's region
    stranger = make_id_number()
    sheet = kind_sheet(
        tmp_path / "医保预警.xlsx",
        "alerts",
        [alert_row(member.id_number), alert_row(outside.id_number, 姓名="李四"), alert_row(stranger, 姓名="王五")],
    )
    client = client_for(world.users["dept"])
    # The preview shows the department's own rows with masked ID numbers.
    upload(client, sheet)
    preview = page_of(client, ImportJob.objects.get())
    assert "校验通过（试运行，未写入）" in preview and id_number_mask(member.id_number) in preview
    assert member.id_number not in preview
    job = ImportJob.objects.get()
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("monitoring:import_confirm", args=[job.pk]))
    import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "SUCCEEDED"

    # Written like an API submission: under the user's department, matched inside its region only.
    alerts = {a.id_number: a for a in DepartmentAlert.objects.all()}
    assert {a.department for a in alerts.values()} == {"医保"}
    assert alerts[member.id_number].status == AlertStatus.MATCHED
    assert alerts[outside.id_number].status == AlertStatus.UNMATCHED  # treated like unmatched
    assert alerts[stranger].status == AlertStatus.UNMATCHED
    assert all(a.submitted_by == world.users["dept"] for a in alerts.values())
    assert Lead.objects.get().household == member.household  # the matched one raised a lead

    body = page_of(client, job)
    assert "已匹配 1 条，未匹配 2 条" in body
    assert body.count("✓ 已匹配") == 1 and body.count("✗ 未匹配") == 2
    assert "第 2 行" in body and "第 4 行" in body
    # Never household data: no names, household numbers, full ID numbers, leads or expenditures.
    for secret in (member.name, outside.name, "H520101001001", "H520102001001", member.id_number, outside.id_number):
        assert secret not in body
    assert id_number_mask(member.id_number) in body
    assert "线索" not in job.message and "刚性支出" not in job.message
    assert "查看农户信息" not in body


def test_county_staff_see_the_department_job_with_household_data(
    world: World, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    member = head(world)
    sheet = kind_sheet(tmp_path / "a.xlsx", "alerts", [alert_row(member.id_number)])
    job = upload_and_run(client_for(world.users["dept"]), sheet, django_capture_on_commit_callbacks)
    county = client_for(world.users["county"])
    listing = county.get(reverse("monitoring:import_list")).content.decode()
    assert "a.xlsx" in listing
    body = page_of(county, job)
    assert "H520101001001" in body and "张三" in body  # the county sees the household and the name sent


def test_resending_the_same_file_duplicates_nothing(
    world: World, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    member = head(world)
    sheet = kind_sheet(tmp_path / "a.xlsx", "alerts", [alert_row(member.id_number), alert_row(make_id_number())])
    client = client_for(world.users["dept"])
    first = upload_and_run(client, sheet, django_capture_on_commit_callbacks)
    before = sorted(map(repr, DepartmentAlert.objects.values()))
    second = upload_and_run(client, sheet, django_capture_on_commit_callbacks)
    assert (second.created_count, second.updated_count, second.unchanged_count) == (0, 0, 2)
    assert sorted(map(repr, DepartmentAlert.objects.values())) == before
    assert len(Lead.objects.get().evidence["DEPARTMENT_ALERT"]) == 1
    # Both uploads list the same two alerts with their current status.
    for job in (first, second):
        assert "已匹配 1 条，未匹配 1 条" in page_of(client, job)


def test_department_is_taken_from_the_user_not_the_sheet(world: World, tmp_path: Path) -> None:
    sheet = kind_sheet(
        tmp_path / "a.xlsx",
        "alerts",
        [alert_row(make_id_number(), 来源部门="医保"), alert_row(make_id_number(), 来源部门="民政")],
    )
    client = client_for(world.users["dept"])
    assert upload(client, sheet).status_code == 302
    job = ImportJob.objects.get()
    assert job.status == "INVALID"
    assert [(e["row"], e["column"]) for e in job.errors] == [(3, "来源部门")]
    assert "应为“医保”" in job.errors[0]["message"]
    assert not DepartmentAlert.objects.exists()
    body = page_of(client, job)
    assert "第 3 行" in body and "下载带错误说明的表格" in body


def test_department_sheet_may_leave_out_the_department_column_county_may_not(world: World, tmp_path: Path) -> None:
    header = ["身份证号", "姓名", "预警类型", "预警日期"]
    sheet = write_sheet(tmp_path / "a.xlsx", header, [[make_id_number(), "张三", "失业", "2025-02-01"]])
    upload(client_for(world.users["dept"]), sheet)
    assert ImportJob.objects.get().status == "VALIDATED"
    upload(client_for(world.users["county"]), sheet)
    county_job = ImportJob.objects.latest("pk")
    assert county_job.status == "INVALID"
    assert [(e["row"], e["column"], e["message"]) for e in county_job.errors] == [(2, "来源部门", "来源部门不能为空。")]


def test_annotated_copy_of_the_department_own_file(world: World, tmp_path: Path) -> None:
    sheet = kind_sheet(tmp_path / "a.xlsx", "alerts", [alert_row("12345", 来源部门="")])
    client = client_for(world.users["dept"])
    upload(client, sheet)
    job = ImportJob.objects.get()
    response = client.get(reverse("monitoring:import_annotated", args=[job.pk]))
    assert response.status_code == 200
    rows = list(load_workbook(BytesIO(b"".join(response.streaming_content))).active.iter_rows(values_only=True))
    assert rows[0][-1] == "错误说明" and "身份证号" in rows[1][-1]


# --- who sees which job --------------------------------------------------------------------


def test_department_sees_only_its_own_jobs(world: World, civil: User, tmp_path: Path) -> None:
    sheet = kind_sheet(tmp_path / "bad.xlsx", "alerts", [alert_row("12345")])
    upload(client_for(world.users["county"]), sheet)
    county_job = ImportJob.objects.get()
    upload(client_for(civil), sheet)
    civil_job = ImportJob.objects.latest("pk")
    client = client_for(world.users["dept"])
    upload(client, sheet)
    own = ImportJob.objects.latest("pk")
    listing = client.get(reverse("monitoring:import_list")).content.decode()
    assert listing.count("bad.xlsx") == 1
    for other in (county_job, civil_job):  # same county, not its own: 404 everywhere
        for name in ("import_detail", "import_annotated"):
            assert client.get(reverse(f"monitoring:{name}", args=[other.pk])).status_code == 404
        assert client.post(reverse("monitoring:import_confirm", args=[other.pk])).status_code == 404
    assert client.get(reverse("monitoring:import_detail", args=[own.pk])).status_code == 200
    annotated = client.get(reverse("monitoring:import_annotated", args=[own.pk]))
    assert annotated.status_code == 200 and b"".join(annotated.streaming_content)


def test_kinds_offered_by_department(world: World, civil: User, tmp_path: Path) -> None:
    medical = client_for(world.users["dept"]).get(reverse("monitoring:import_list")).content.decode()
    assert 'value="alerts"' in medical and 'value="medical"' in medical and 'value="households"' not in medical
    assert "您以<strong>医保</strong>部门身份提交" in medical
    civil_client = client_for(civil)
    page = civil_client.get(reverse("monitoring:import_list")).content.decode()
    assert 'value="alerts"' in page and 'value="medical"' not in page
    assert civil_client.get(reverse("monitoring:import_template", args=["households"])).status_code == 404
    assert civil_client.get(reverse("monitoring:import_template", args=["medical"])).status_code == 404
    template = civil_client.get(reverse("monitoring:import_template", args=["alerts"]))
    assert template.status_code == 200
    assert "来源部门" in [c.value for c in load_workbook(BytesIO(b"".join(template.streaming_content))).active[2]]
    # A kind outside the list is a form error next to the field; the service refuses it too.
    sheet = kind_sheet(tmp_path / "m.xlsx", "medical", [{"身份证号": make_id_number(), "年度": 2024}])
    assert upload(civil_client, sheet, kind="medical").status_code == 400
    assert upload(civil_client, sheet, kind="households").status_code == 400
    assert not ImportJob.objects.exists()
    upload_file = SimpleUploadedFile("m.xlsx", sheet.read_bytes())
    with pytest.raises(PermissionDenied, match="不能导入医保结算数据"):
        import_job_create(user=civil, kind="medical", upload=upload_file)


def test_navigation_offers_the_upload_page_to_department_users(world: World) -> None:
    home = client_for(world.users["dept"]).get(reverse("home")).content.decode()
    assert f'href="{reverse("monitoring:import_list")}"' in home and "数据导入" in home
    village = client_for(world.users["village"]).get(reverse("home")).content.decode()
    assert reverse("monitoring:import_list") not in village


def test_province_department_matches_across_its_province(
    world: World, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    provincial = user("sheng-yibao", Role.DEPT, "520000000000", department=Department.MEDICAL_INSURANCE)
    outside = head(world, OTHER_COUNTY_VILLAGE)
    foreign = head(world, "530101001001")  # another province
    sheet = kind_sheet(tmp_path / "a.xlsx", "alerts", [alert_row(outside.id_number), alert_row(foreign.id_number)])
    job = upload_and_run(client_for(provincial), sheet, django_capture_on_commit_callbacks)
    assert DepartmentAlert.objects.get(id_number=outside.id_number).status == AlertStatus.MATCHED
    assert DepartmentAlert.objects.get(id_number=foreign.id_number).status == AlertStatus.UNMATCHED
    assert "已匹配 1 条，未匹配 1 条" in page_of(client_for(provincial), job)
    # The 520101 county's 医保 user does not see the provincial user's job.
    assert client_for(world.users["dept"]).get(reverse("monitoring:import_detail", args=[job.pk])).status_code == 404


# --- 医保 settlement extracts --------------------------------------------------------------


def settlement(id_number: str, amount: Any, year: int = 2024) -> dict[str, Any]:
    return {"身份证号": id_number, "年度": year, "个人自付医疗费用": amount}


def test_medical_extract_upload_stores_lines_and_raises_alerts_by_threshold(
    world: World, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    hh = world.households[VILLAGE]
    hh.household_type, hh.exit_year = HouseholdType.EXITED, 2019
    hh.save(update_fields=["household_type", "exit_year"])
    poor = hh.members.get()
    general = head(world, "520101001002")
    stranger = make_id_number()
    sheet = kind_sheet(
        tmp_path / "医保结算.xlsx",
        "medical",
        [settlement(poor.id_number, 6000), settlement(general.id_number, 6000), settlement(stranger, 25000)],
        titles=[["2024 年度医保结算（个人自付）"]],
    )
    client = client_for(world.users["dept"])
    job = upload_and_run(client, sheet, django_capture_on_commit_callbacks, kind="medical")
    assert MedicalSettlement.objects.count() == 3
    assert {a.id_number: a.status for a in DepartmentAlert.objects.all()} == {
        poor.id_number: AlertStatus.MATCHED,
        stranger: AlertStatus.UNMATCHED,
    }
    assert "匹配到家庭成员 2 条、未匹配 1 条" in job.message
    # The department sees no per-line alert list and no alert count: which 6 000 元 line became an
    # alert would tell who is a 脱贫户.
    body = page_of(client, job)
    assert "预警线" not in job.message and 'data-testid="alert-status"' not in body
    assert poor.id_number not in body and poor.name not in body
    # County staff see which alerts the extract raised.
    county_body = page_of(client_for(world.users["county"]), job)
    assert 'data-testid="alert-status"' in county_body and "已匹配 1 条，未匹配 1 条" in county_body
    # Resending the extract raises nothing new.
    again = upload_and_run(client, sheet, django_capture_on_commit_callbacks, kind="medical")
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 3)
    assert DepartmentAlert.objects.count() == 2 and len(Lead.objects.get().evidence["DEPARTMENT_ALERT"]) == 1


def test_medical_extract_rows_are_checked(world: World, tmp_path: Path) -> None:
    sheet = kind_sheet(
        tmp_path / "m.xlsx",
        "medical",
        [settlement(make_id_number(), -1), settlement(make_id_number(), 100, year=2999), settlement("123", 1)],
    )
    upload(client_for(world.users["dept"]), sheet, kind="medical")
    job = ImportJob.objects.get()
    assert job.status == "INVALID"
    assert [(e["row"], e["column"]) for e in job.errors] == [(2, "个人自付医疗费用"), (3, "年度"), (4, "身份证号")]
    assert not MedicalSettlement.objects.exists()


def test_only_medical_insurance_departments_submit_extracts_by_api(world: World, civil: User) -> None:
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(civil)
    line = {"id_number": make_id_number(), "year": 2024, "out_of_pocket": "30000"}
    response = api.post("/api/v1/medical-settlements/", {"settlements": [line]}, format="json")
    assert response.status_code == 403 and "只有医保部门" in response.json()["detail"]
    assert not MedicalSettlement.objects.exists()


# --- the same key from two submitting units (issue 16, hole 5) ------------------------------
# A department's keys never meet another's (SPEC §6): both are accepted as their own, and neither
# changes the other's alert (tests/monitoring/test_alert_units.py compares the answers in full).


def test_another_department_alert_of_the_same_key_is_left_alone(
    world: World, civil: User, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    member = head(world)
    sheet = kind_sheet(tmp_path / "a.xlsx", "alerts", [alert_row(member.id_number, 预警类型="申请低保", 金额=None)])
    upload_and_run(client_for(civil), sheet, django_capture_on_commit_callbacks)
    before = sorted(map(repr, DepartmentAlert.objects.filter(department="民政").values()))
    job = upload_and_run(client_for(world.users["dept"]), sheet, django_capture_on_commit_callbacks)
    assert (job.created_count, job.updated_count, job.unchanged_count) == (1, 0, 0)
    assert sorted(map(repr, DepartmentAlert.objects.filter(department="民政").values())) == before
    assert DepartmentAlert.objects.filter(department="医保", status=AlertStatus.MATCHED).count() == 1


def test_department_of_another_county_cannot_turn_a_matched_alert_unmatched(world: World) -> None:
    from rest_framework.test import APIClient

    member = head(world)
    item = {"id_number": member.id_number, "name": "张三", "alert_type": "MEDICAL", "alert_date": "2025-03-14"}
    county_api = APIClient()
    county_api.force_authenticate(world.users["dept"])
    assert (
        county_api.post("/api/v1/alerts/", {"alerts": [{**item, "idempotency_key": "a1"}]}, format="json").status_code
        == 201
    )
    neighbour = user("yibao-520102", Role.DEPT, "520102000000", department=Department.MEDICAL_INSURANCE)
    other_api = APIClient()
    other_api.force_authenticate(neighbour)
    response = other_api.post("/api/v1/alerts/", {"alerts": [{**item, "idempotency_key": "b1"}]}, format="json")
    # its own alert (unmatched: the person is outside its county), not the county's
    assert response.status_code == 201 and response.json()["results"][0]["status"] == "UNMATCHED"
    saved = DepartmentAlert.objects.get(scope_code="520101000000")
    assert (saved.status, saved.region_code, saved.member_id) == (AlertStatus.MATCHED, VILLAGE, member.pk)
    assert DepartmentAlert.objects.get(scope_code="520102000000").status == AlertStatus.UNMATCHED
