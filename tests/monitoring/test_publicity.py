"""公示名单: name, village, category and reason only — never 身份证号, phone or health details."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from fanpin.core.models import AuditEntry
from monitoring.models import LeadState
from tests.conftest import World
from tests.factories import MemberFactory
from tests.monitoring.review_helpers import VILLAGE, lead_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def posted(world: World):  # type: ignore[no-untyped-def]
    hh = world.households[VILLAGE]
    MemberFactory(household=hh, health="SERIOUS", name="病人甲")
    lead_in(hh, LeadState.VERIFIED, suggested_risk_types=["ILLNESS"])
    lead_in(world.households["520101001002"], LeadState.VERIFIED)  # another village
    return hh


def test_print_view_shows_only_the_allowed_columns(world: World, posted) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(world.users["village"])
    page = client.get(reverse("monitoring:publicity", args=[VILLAGE])).content.decode()
    # the reason: risk types, then the rules in plain words (issue 15 defect 3; never the source)
    assert "户主001001" in page and "边缘易致贫户" in page and "因病；人均纯收入低于监测标准" in page
    assert "系统筛查" not in page
    assert "户主001002" not in page
    for member in posted.members.all():
        assert member.id_number not in page and member.id_number[-4:] not in page
    # a risk type (因病) is the listed reason; a member's health (患有大病) or name never shows
    assert posted.phone not in page and "患有大病" not in page and "病人甲" not in page
    assert "<script>" not in page


def test_xlsx_has_the_same_columns_and_is_audited(world: World, posted) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(world.users["township"])
    response = client.get(reverse("monitoring:publicity_xlsx", args=[VILLAGE]))
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("户主姓名", "村", "类别", "纳入原因", "公示开始", "公示结束")
    assert rows[1][:4] == ("户主001001", "村001001", "边缘易致贫户", "因病；人均纯收入低于监测标准")
    assert len(rows) == 2
    assert ws.freeze_panes == "A2"
    entry = AuditEntry.objects.get(object_type="export", object_id="publicity")
    assert entry.data["rows"] == 1 and entry.actor == world.users["township"]


def test_other_villages_list_is_404(world: World) -> None:
    client = Client()
    client.force_login(world.users["village"])
    assert client.get(reverse("monitoring:publicity", args=["520101001002"])).status_code == 404
