"""The assistance catalogue of SPEC §5 is seeded; administrators may add measures."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from assistance.models import Measure
from tests.conftest import World

pytestmark = pytest.mark.django_db

SPEC_CATALOGUE = {
    "产业帮扶": ["生产经营技能培训", "龙头企业/合作社/致富带头人带动", "产业奖补"],
    "就业帮扶": ["劳动技能培训", "劳务协作转移就业", "扶贫车间就业", "公益岗位安置", "参与农村项目建设"],
    "金融帮扶": ["小额信贷", "防返贫保险"],
    "健康帮扶": ["医疗保障/医疗救助", "大病专项救治"],
    "教育帮扶": ["义务教育保障", "雨露计划"],
    "住房饮水": ["危房改造", "易地搬迁", "饮水安全保障"],
    "综合保障": ["最低生活保障", "特困人员救助供养", "养老保险", "残疾人补贴", "灾害救助", "临时救助"],
    "扶志扶智": ["物质奖励", "精神激励"],
    "社会帮扶": ["社会帮扶资金", "结对帮扶"],
}


def test_catalogue_is_seeded_as_the_spec_lists_it() -> None:
    seeded: dict[str, list[str]] = {}
    for m in Measure.objects.order_by("sort_order"):
        seeded.setdefault(m.get_category_display(), []).append(m.name)
    assert seeded == SPEC_CATALOGUE
    assert all(m.is_active for m in Measure.objects.all())


def test_industry_employment_finance_are_developmental_the_rest_protective() -> None:
    for m in Measure.objects.all():
        expected = "开发式" if m.get_category_display() in ("产业帮扶", "就业帮扶", "金融帮扶") else "保障性"
        assert m.get_kind_display() == expected, m.name


def test_measures_name_the_risk_types_they_address() -> None:
    assert "ILLNESS" in Measure.objects.get(name="医疗保障/医疗救助").risk_types
    assert "DISASTER" in Measure.objects.get(name="灾害救助").risk_types
    assert "LACK_OF_LABOR" in Measure.objects.get(name="最低生活保障").risk_types
    assert "LACK_OF_LABOR" in Measure.objects.get(name="公益岗位安置").risk_types


def test_kind_must_match_category_in_the_database() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Measure.objects.create(code="X_TEST", name="测试", category="INDUSTRY", kind="PROTECTIVE")


def test_code_is_upper_case() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Measure.objects.create(code="lower", name="测试", category="HEALTH", kind="PROTECTIVE")


def test_administrator_adds_a_measure_in_the_admin(world: World) -> None:
    client = Client()
    client.force_login(world.users["admin"])
    response = client.post(
        reverse("admin:assistance_measure_add"),
        {
            "code": "CONSUMPTION_ASSISTANCE",
            "name": "消费帮扶",
            "category": "INDUSTRY",
            "kind": "DEVELOPMENTAL",
            "risk_types": '["INDUSTRY_FAILURE"]',
            "is_active": "on",
            "sort_order": "300",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Measure.objects.get(code="CONSUMPTION_ASSISTANCE").name == "消费帮扶"


def test_county_staff_may_look_at_but_not_add_measures(world: World) -> None:
    client = Client()
    client.force_login(world.users["county"])
    assert client.get(reverse("admin:assistance_measure_changelist")).status_code == 200
    assert client.get(reverse("admin:assistance_measure_add")).status_code == 403
