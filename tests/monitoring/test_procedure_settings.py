"""Each province's 办理时限: administrators set any province, provincial users their own (another:
404; other roles: 403), validated 1–365, audited with from/to, reset to the national default."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fanpin.core.models import AuditEntry
from fanpin.core.roles import Role
from monitoring.models.calendar import DEFAULT_STEP_LIMITS, ProcedureLimit, ProcedureSetting, ProcedureStep
from monitoring.selectors.calendar import procedure_setting_for, step_limits_for
from tests.factories import user

pytestmark = pytest.mark.django_db
URL = reverse("monitoring:procedure_settings")


def _form(province: str, **changes: tuple[int | str, str]) -> dict[str, object]:
    data: dict[str, object] = {"province": province, "action": "save", "reason": "省级文件"}
    for step, (days, unit) in DEFAULT_STEP_LIMITS.items():
        days_, unit_ = changes.get(str(step), (days, unit))
        data[f"days_{step}"] = days_
        data[f"unit_{step}"] = unit_
    return data


def test_province_user_sets_own_province_audited(world) -> None:  # type: ignore[no-untyped-def]
    c = world.client_for("province")
    page = c.get(URL)
    assert page.status_code == 200 and "受理" in page.content.decode()
    response = c.post(URL, {**_form("520000000000", ACCEPT=(3, "CALENDAR")), "announce_rejections": "on"})
    assert response.status_code == 302
    limit = step_limits_for(province_code="520101001001")[ProcedureStep.ACCEPT]
    assert (limit.days, limit.unit) == (3, "CALENDAR")
    assert procedure_setting_for(province_code="520000000000").announce_rejections is True
    rows = AuditEntry.objects.filter(object_type="procedure_setting", object_id="520000000000").order_by("id")
    assert [(a.from_state, a.to_state) for a in rows] == [
        ("受理 2 个工作日", "受理 3 个自然日"),
        ("公告不含不予纳入", "公告包含不予纳入"),
    ]
    assert rows[0].actor == world.users["province"] and rows[0].reason == "省级文件"
    # another province keeps the national default
    assert step_limits_for(province_code="530000000000")[ProcedureStep.ACCEPT].days == 2


def test_province_user_cannot_touch_another_province(world) -> None:  # type: ignore[no-untyped-def]
    c = world.client_for("province")
    assert c.get(URL + "?province=530000000000").status_code == 404
    assert c.post(URL, _form("530000000000", ACCEPT=(9, "WORKING"))).status_code == 404
    assert not ProcedureLimit.objects.exists()


@pytest.mark.parametrize("role", ["county", "city", "village"])
def test_other_roles_are_refused(world, role) -> None:  # type: ignore[no-untyped-def]
    c = world.client_for(role)
    assert c.get(URL).status_code == 403
    assert c.post(URL, _form("520000000000", ACCEPT=(9, "WORKING"))).status_code == 403


@pytest.mark.parametrize("days", [0, 366, "", "x"])
def test_days_validated(world, days) -> None:  # type: ignore[no-untyped-def]
    c = world.client_for("province")
    response = c.post(URL, _form("520000000000", HOME_CHECK=(days, "WORKING")))
    assert response.status_code == 400
    assert "入户核实的时限应为 1–365 之间的整数" in response.content.decode()
    assert not ProcedureLimit.objects.exists()
    assert not AuditEntry.objects.filter(object_type="procedure_setting").exists()


def test_administrator_chooses_any_province_and_resets(world, client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user("admin1", Role.ADMIN, None))
    assert client.get(URL + "?province=530000000000").status_code == 200
    assert client.post(URL, _form("530000000000", WHOLE=(20, "WORKING"))).status_code == 302
    assert ProcedureLimit.objects.get(province_code="530000000000").days == 20
    # saving the default again stores no override
    assert client.post(URL, _form("530000000000")).status_code == 302
    assert not ProcedureLimit.objects.exists()
    client.post(URL, {**_form("530000000000", WHOLE=(20, "WORKING")), "announce_rejections": "on"})
    response = client.post(URL, {"province": "530000000000", "action": "reset"})
    assert response.status_code == 302
    assert not ProcedureLimit.objects.exists() and not ProcedureSetting.objects.exists()
    reset = AuditEntry.objects.get(object_type="procedure_setting", action="reset")
    assert reset.from_state == "识别全流程 20 个工作日；公告包含不予纳入" and reset.to_state == "全国默认"


def test_parameters_page_links_the_settings_and_calendar(world, client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(user("admin1", Role.ADMIN, None))
    page = client.get(reverse("monitoring:parameters")).content.decode()
    assert reverse("monitoring:procedure_settings") in page and reverse("monitoring:calendar") in page


def test_province_parameters_page_links_its_settings(world) -> None:  # type: ignore[no-untyped-def]
    page = world.client_for("province").get(reverse("monitoring:province_parameters_edit", args=["520000000000"]))
    assert page.status_code == 200
    assert reverse("monitoring:procedure_settings") + "?province=520000000000" in page.content.decode()
