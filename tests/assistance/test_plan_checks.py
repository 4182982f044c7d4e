"""Plans are checked against risk types and labor capacity (SPEC §5); failing plans are flagged,
listed for the county, never refused.  Adding measures and setting their status is audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assistance.models import MeasureStatus, TargetMeasure
from assistance.selectors.plans import plan_rows
from assistance.selectors.recommendation import LaborCapacity, plan_check
from assistance.services.measures import measure_add, measure_status_set
from fanpin.core.models import AuditEntry
from fanpin.core.workflow import ObjectOutOfScope
from tests.assistance.factories import TargetMeasureFactory, measure, target_for
from tests.conftest import World

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 9, 1)


def _check(capacity: str, risks: list[str], *codes: str) -> dict[str, bool]:
    result = plan_check(labor_capacity=capacity, risk_types=risks, measures=[measure(c) for c in codes])
    return {r.code: r.passed for r in result.results}


@pytest.mark.parametrize(
    ("risk", "passing", "failing"),
    [
        ("ILLNESS", "MEDICAL_ASSISTANCE", "YULU_PLAN"),
        ("ILLNESS", "MINIMUM_LIVING_ALLOWANCE", "DRINKING_WATER_SAFETY"),
        ("EDUCATION", "YULU_PLAN", "MEDICAL_ASSISTANCE"),
        ("HOUSING", "DILAPIDATED_HOUSING_RENOVATION", "DRINKING_WATER_SAFETY"),
        ("HOUSING", "RELOCATION", "TEMPORARY_RELIEF"),
        ("DRINKING_WATER", "DRINKING_WATER_SAFETY", "RELOCATION"),
    ],
)
def test_risk_type_checks(risk: str, passing: str, failing: str) -> None:
    assert _check(LaborCapacity.PARTIAL, [risk], passing) == {risk: True}
    assert _check(LaborCapacity.PARTIAL, [risk], failing) == {risk: False}


def test_labor_capacity_needs_a_developmental_measure() -> None:
    assert _check(LaborCapacity.FULL, [], "MEDICAL_ASSISTANCE") == {"LABOR": False}
    for code in ("INDUSTRY_SUBSIDY", "LABOR_TRANSFER", "MICROCREDIT"):
        assert _check(LaborCapacity.FULL, [], code) == {"LABOR": True}
    assert _check(LaborCapacity.PARTIAL, [], "MEDICAL_ASSISTANCE") == {}
    assert _check(LaborCapacity.NONE, [], "MEDICAL_ASSISTANCE") == {}


def test_risk_types_without_a_check_add_none() -> None:
    assert _check(LaborCapacity.NONE, ["DISASTER", "OTHER"], "DISASTER_RELIEF") == {}


def test_terminated_measures_do_not_count(world: World) -> None:
    household = world.households["520101001001"]
    target = target_for(household, risk_types=["ILLNESS"])
    TargetMeasureFactory(target=target, measure=measure("MEDICAL_ASSISTANCE"), status=MeasureStatus.TERMINATED)
    TargetMeasureFactory(target=target, measure=measure("MICROCREDIT"))
    [row] = plan_rows(user=world.users["county"], today=TODAY)
    assert [r.code for r in row.check.failures] == ["ILLNESS"]


def _add(world: World, target_id: int, code: str, user: str = "county", **extra: object) -> TargetMeasure:
    data: dict[str, object] = {
        "responsible_name": "李干部",
        "responsible_unit": "镇卫生院",
        "responsible_phone": "13800000000",
        "start_on": TODAY,
    }
    data.update(extra)
    return measure_add(actor=world.users[user], target_id=target_id, measure_id=measure(code).pk, **data)  # type: ignore[arg-type]


def test_failing_plan_is_saved_flagged_on_its_page_and_listed_for_the_county(world: World) -> None:
    target = target_for(world.households["520101001001"], risk_types=["ILLNESS", "EDUCATION"])
    ok_target = target_for(world.households["520101001002"], risk_types=["ILLNESS"])
    _add(world, target.pk, "MICROCREDIT")  # not refused
    _add(world, ok_target.pk, "MEDICAL_ASSISTANCE")
    _add(world, ok_target.pk, "LABOR_TRANSFER")
    assert target.measures.count() == 1

    rows = plan_rows(user=world.users["county"], today=TODAY, flag="failing")
    assert [r.target.pk for r in rows] == [target.pk]
    assert {r.code for r in rows[0].check.failures} == {"ILLNESS", "EDUCATION"}

    client = Client()
    client.force_login(world.users["county"])
    page = client.get(reverse("assistance:target_plan", args=[target.pk])).content.decode()
    assert "因病：需有健康帮扶或综合保障措施（未通过" in page
    assert "因学：需有教育帮扶措施（未通过" in page
    listing = client.get(reverse("assistance:plan_list"), {"flag": "failing"}).content.decode()
    assert world.households["520101001001"].household_no in listing
    assert world.households["520101001002"].household_no not in listing


def test_measure_add_is_audited_and_validated(world: World) -> None:
    target = target_for(world.households["520101001001"])
    item = _add(world, target.pk, "MICROCREDIT", amount=Decimal("50000.00"), amount_kind="LOAN")
    entry = AuditEntry.objects.get(object_type="target_measure", action="add")
    assert (entry.object_id, entry.region_code, entry.to_state) == (str(item.pk), "520101001001", "PLANNED")
    assert entry.data["amount"] == "50000.00" and entry.data["measure"] == "MICROCREDIT"

    with pytest.raises(ValidationError) as exc:
        # (another measure: a second 小额信贷 from the same day would also be refused as a duplicate)
        _add(world, target.pk, "INDUSTRY_SUBSIDY", responsible_name=" ", end_on=TODAY - dt.timedelta(days=1))
    assert set(exc.value.message_dict) == {"responsible_name", "end_on"}
    with pytest.raises(ValidationError) as exc:
        _add(world, target.pk, "MICROCREDIT", amount=Decimal("10"))
    assert "amount_kind" in exc.value.message_dict


def test_only_county_adds_and_only_in_scope(world: World) -> None:
    target = target_for(world.households["520101001001"])
    with pytest.raises(PermissionDenied):
        _add(world, target.pk, "MICROCREDIT", user="village")
    other = target_for(world.households["520102001001"])  # another county
    with pytest.raises(ObjectOutOfScope):
        _add(world, other.pk, "MICROCREDIT")


def test_status_changes_and_notes_are_audited(world: World) -> None:
    target = target_for(world.households["520101001001"])
    item = _add(world, target.pk, "MICROCREDIT")
    village = world.users["village"]
    measure_status_set(actor=village, pk=item.pk, status="IN_PROGRESS", note="贷款已发放", today=TODAY)
    measure_status_set(actor=village, pk=item.pk, status="IN_PROGRESS", note="已购买种苗", today=TODAY)
    measure_status_set(actor=village, pk=item.pk, status="COMPLETED", note="", today=TODAY)
    item.refresh_from_db()
    assert item.status == "COMPLETED"
    assert item.progress_notes.splitlines() == ["2025-09-01 village：贷款已发放", "2025-09-01 village：已购买种苗"]
    actions = list(
        AuditEntry.objects.filter(object_type="target_measure").order_by("id").values_list("action", "to_state")
    )
    assert actions == [("add", "PLANNED"), ("start", "IN_PROGRESS"), ("note", "IN_PROGRESS"), ("complete", "COMPLETED")]
    with pytest.raises(ValidationError, match="不能改回"):
        measure_status_set(actor=village, pk=item.pk, status="PLANNED")


def test_terminating_needs_county_and_a_reason(world: World) -> None:
    target = target_for(world.households["520101001001"])
    item = _add(world, target.pk, "MICROCREDIT")
    with pytest.raises(PermissionDenied):
        measure_status_set(actor=world.users["village"], pk=item.pk, status="TERMINATED", note="不需要")
    with pytest.raises(ValidationError, match="必须填写理由"):
        measure_status_set(actor=world.users["county"], pk=item.pk, status="TERMINATED")
    measure_status_set(actor=world.users["county"], pk=item.pk, status="TERMINATED", note="农户已外出务工")
    item.refresh_from_db()
    assert item.status == "TERMINATED"


def test_village_marks_progress_on_the_page(world: World) -> None:
    target = target_for(world.households["520101001001"])
    item = _add(world, target.pk, "MICROCREDIT")
    client = Client()
    client.force_login(world.users["village"])
    page = client.get(reverse("assistance:target_plan", args=[target.pk])).content.decode()
    assert "保存进展" in page and "添加帮扶措施" not in page
    response = client.post(
        reverse("assistance:measure_progress", args=[item.pk]), {"status": "COMPLETED", "note": "已完成"}, follow=True
    )
    assert "已更新“小额信贷”：已完成。" in response.content.decode()


def test_county_add_form_shows_errors_next_to_the_fields(world: World) -> None:
    target = target_for(world.households["520101001001"])
    client = Client()
    client.force_login(world.users["county"])
    page = client.post(reverse("assistance:measure_add", args=[target.pk]), {"start_on": "2025-09-01"}).content.decode()
    assert "请修改以下标出的项目" in page
    assert "请选择帮扶措施。" in page and "请填写帮扶责任人。" in page
    assert not TargetMeasure.objects.exists()
    response = client.post(
        reverse("assistance:measure_add", args=[target.pk]),
        {
            "measure": measure("MICROCREDIT").pk,
            "responsible_name": "李干部",
            "responsible_unit": "县农商行",
            "responsible_phone": "13800000000",
            "start_on": timezone.localdate().isoformat(),
            "amount": "30000",
            "amount_kind": "LOAN",
        },
    )
    assert response.status_code == 302
    assert TargetMeasure.objects.get().amount == Decimal("30000.00")


def test_village_sees_only_its_targets_measures(world: World) -> None:
    for code in ("520101001001", "520101001002"):
        TargetMeasureFactory(target=target_for(world.households[code]))
    client = Client()
    client.force_login(world.users["village"])
    for name in ("assistance:plan_list", "assistance:measure_list"):
        page = client.get(reverse(name)).content.decode()
        assert "H520101001001" in page and "H520101001002" not in page, name
    county = Client()
    county.force_login(world.users["county"])
    page = county.get(reverse("assistance:measure_list"), {"village": "520101001002"}).content.decode()
    assert "H520101001002" in page and "H520101001001" not in page


def test_county_edits_a_measure_and_the_change_is_audited(world: World) -> None:
    target = target_for(world.households["520101001001"])
    item = _add(world, target.pk, "MICROCREDIT")
    client = Client()
    client.force_login(world.users["county"])
    url = reverse("assistance:measure_edit", args=[item.pk])
    assert "李干部" in client.get(url).content.decode()
    data = {
        "responsible_name": "赵干部",
        "responsible_unit": "镇卫生院",
        "responsible_phone": "13800000000",
        "start_on": "2025-09-01",
        "end_on": "2025-08-01",
    }
    page = client.post(url, data).content.decode()
    assert "结束日期不能早于开始日期。" in page
    data["end_on"] = "2025-12-31"
    assert client.post(url, data).status_code == 302
    item.refresh_from_db()
    assert (item.responsible_name, item.end_on) == ("赵干部", dt.date(2025, 12, 31))
    entry = AuditEntry.objects.get(object_type="target_measure", action="update")
    assert entry.data["changes"] == {"responsible_name": ["李干部", "赵干部"], "end_on": [None, "2025-12-31"]}
    village = Client()
    village.force_login(world.users["village"])
    assert village.get(url).status_code == 403


def test_plan_list_pages_by_fifty(world: World) -> None:
    from tests.factories import HouseholdFactory

    for n in range(51):
        target_for(HouseholdFactory(household_no=f"P{n:03d}", village_id="520101001001"))
    client = Client()
    client.force_login(world.users["county"])
    first = client.get(reverse("assistance:plan_list")).content.decode()
    assert "监测中的对象共 51 个" in first and "1 / 2" in first and "P049" in first and "P050" not in first
    second = client.get(reverse("assistance:plan_list"), {"page": 2}).content.decode()
    assert "P050" in second and "P000" not in second
