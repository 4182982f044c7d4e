"""监测对象 pages and the leads/targets exports (SPEC §6 columns, labels joined by 、, audited)."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from fanpin.core.models import AuditEntry
from fanpin.core.terms import term
from monitoring.models import LeadState
from monitoring.services import review
from monitoring.services.exports_leads import leads_export, targets_export
from tests.conftest import World
from tests.factories import TargetFactory
from tests.monitoring.review_helpers import VILLAGE, decision, lead_in

pytestmark = pytest.mark.django_db


def login(world: World, role: str) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def test_target_list_and_page_show_status_category_risks_sources_history(world: World) -> None:
    lead = lead_in(world.households[VILLAGE], LeadState.REVIEWED, sources=["SCREENING", "VISIT"])
    review.lead_confirm(
        lead_id=lead.pk,
        actor=world.users["county"],
        decision=decision(category="SUDDEN_HARDSHIP", risk_types=["DISASTER", "ILLNESS"]),
        opinion="同意纳入",
    )
    TargetFactory(household=world.households["530101001001"])
    listing = login(world, "township").get(reverse("monitoring:target_list")).content.decode()
    assert listing.count("<tr>") == 2  # header + one target in scope
    assert (
        "突发严重困难户" in listing
        and "因病、因灾" in listing
        and "系统筛查、走访排查" in listing
        and "监测中" in listing
    )
    target = lead.targets.get()
    page = login(world, "village").get(reverse("monitoring:target_detail", args=[target.pk])).content.decode()
    assert "县级确定" in page and "同意纳入" in page
    assert (
        login(world, "county")
        .get(reverse("monitoring:target_list"), {"status": "ELIMINATED"})
        .content.decode()
        .count("<tr>")
        == 0
    )


def test_leads_export_columns_labels_and_audit(world: World) -> None:
    lead_in(world.households[VILLAGE], sources=["SCREENING", "VISIT"], rules_fired=["LOW_INCOME", "INCOME_DROP"])
    lead_in(world.households["530101001001"])
    out = io.BytesIO()
    assert leads_export(user=None, region_code="520101000000", year=2024, output=out) == 1
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    header = rows[0]
    for column in ("户编号", "户主姓名", "村", "线索来源", "触发规则", "建议类别", "状态", "发现日期"):
        assert column in header
    row = dict(zip(header, rows[1], strict=True))
    assert row["线索来源"] == "系统筛查、走访排查"
    assert row["触发规则"] == "收入低于监测标准、收入骤减"
    assert (row["村"], row["建议类别"], row["状态"]) == ("村001001", "边缘易致贫户", "待核实")
    assert "身份证号" not in header
    assert AuditEntry.objects.get(object_type="export", object_id="leads").data["rows"] == 1


def test_export_buttons_are_scoped_and_audited(world: World) -> None:
    lead_in(world.households[VILLAGE])
    lead_in(world.households["530101001001"])
    TargetFactory(household=world.households["520101002001"])
    client = login(world, "county")
    response = client.get(reverse("monitoring:leads_export"), {"state": "ALL"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2
    response = client.get(reverse("monitoring:targets_export"))
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][:6] == ("户编号", "户主姓名", "县", "乡镇", "村", f"{term('target')}类别") and len(rows) == 2
    entries = AuditEntry.objects.filter(object_type="export").order_by("id")
    assert [(e.object_id, e.data["rows"], e.actor) for e in entries] == [
        ("leads", 1, world.users["county"]),
        ("targets", 1, world.users["county"]),
    ]
    assert login(world, "township").get(reverse("monitoring:leads_export")).status_code == 403


def test_targets_export_for_the_command(world: World) -> None:
    TargetFactory(household=world.households[VILLAGE], risk_types=["ILLNESS", "LACK_OF_LABOR"])
    out = io.BytesIO()
    assert targets_export(user=None, region_code="520000000000", output=out) == 1
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[1][6] == "因病、缺劳动力"
