"""帮扶明白卡: what a household's card shows (and never shows), who may print it, scoping, the
province's health-details setting, the village batch and its PDF, and the access log."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from assistance.models import MeasureStatus
from fanpin.core.models import AccessLog, AuditEntry
from fanpin.core.roles import Department, Role
from fanpin.core.terms import term
from fanpin.web.pdf import browser_path
from monitoring.models import Application, ApplicationChannel, ApplicationStatus, Member, MonitoringTarget, Relation
from tests.assistance.factories import TargetMeasureFactory, measure
from tests.conftest import World
from tests.factories import HouseholdFactory, LeadFactory, MemberFactory, TargetFactory, user

pytestmark = pytest.mark.django_db
VILLAGE = "520101001001"


def client_for(u: object) -> Client:
    client = Client()
    client.force_login(u)  # type: ignore[arg-type]
    return client


def _target(world: World, village: str = VILLAGE, *, name: str = "张明白", measures: bool = True) -> MonitoringTarget:
    """A household with a head, a spouse with 大病 and a disabled son, its active target, three
    measures (one 已终止) and an application whose receipt leads to the status page."""
    household = HouseholdFactory(village_id=village)
    MemberFactory(household=household, relation=Relation.HEAD, name=name)
    MemberFactory(household=household, relation=Relation.SPOUSE, name="李健康", health=Member.Health.SERIOUS)
    MemberFactory(
        household=household, relation=Relation.SON, name="张小残", health=Member.Health.DISABLED, disability_grade="G2"
    )
    lead = LeadFactory(household=household)
    target = TargetFactory(
        household=household, lead=lead, risk_types=["ILLNESS", "LACK_OF_LABOR"], identified_on=dt.date(2025, 3, 14)
    )
    Application.objects.create(
        receipt_no=f"SB20250301{target.pk:08d}"[:18],
        channel=ApplicationChannel.PUBLIC,
        status=ApplicationStatus.MATCHED,
        village_id=village,
        household=household,
        applicant_name=name,
        reason="ILLNESS",
        description="看病花钱多",
        lead=lead,
    )
    if measures:
        TargetMeasureFactory(
            target=target,
            measure=measure("MICROCREDIT"),
            responsible_name="王信贷",
            responsible_phone="13900001111",
            amount=Decimal("50000"),
            amount_kind="LOAN",
            end_on=dt.date(2027, 12, 31),
        )
        TargetMeasureFactory(
            target=target,
            measure=measure("MEDICAL_ASSISTANCE"),
            responsible_name="赵医保",
            responsible_unit="县医疗保障局",
            responsible_phone="13900002222",
            status=MeasureStatus.PLANNED,
        )
        TargetMeasureFactory(
            target=target,
            measure=measure("PUBLIC_WELFARE_POST"),
            responsible_name="钱终止",
            responsible_phone="13900009999",
            status=MeasureStatus.TERMINATED,
        )
    return target


def _id_numbers(target: MonitoringTarget) -> list[str]:
    return list(target.household.members.values_list("id_number", flat=True))


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)


def test_card_shows_the_household_its_measures_and_whom_to_call(world: World) -> None:
    target = _target(world)
    world.users["village"].full_name = "孙村官"
    world.users["village"].phone = "13700007777"
    world.users["village"].save()
    page = client_for(world.users["village"]).get(reverse("assistance:card", args=[target.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert f"{term('monitoring')}帮扶明白卡" in html
    assert 'data-testid="card-head-name">张明白<' in html and "村001001" in html
    assert "边缘易致贫户" in html  # 监测对象类别
    assert "因病" in html and "家中有人患病" in html and "缺劳动力" in html  # risk types in plain words
    for text in ["小额信贷", "贷款：50,000.00 元", "进展：实施中", "2027-12-31", "王信贷", "13900001111"]:
        assert text in html, text
    for text in ["医疗保障/医疗救助", "赵医保", "县医疗保障局", "13900002222"]:
        assert text in html, text
    assert "钱终止" not in html and "13900009999" not in html  # an 已终止 measure is no help to count on
    assert "孙村官 13700007777" in html  # the village's contact
    assert "12317" in html and "对帮扶有意见" in html  # how to complain
    # the QR code leads to the public status page with the household's receipt number
    receipt = Application.objects.get(lead=target.lead).receipt_no
    assert f'data-testid="card-receipt">{receipt}<' in html
    assert "<svg" in html and 'aria-label="办理进度查询二维码"' in html
    # never a 身份证号 (whole, or its masked tail), nor health details by default
    for id_number in _id_numbers(target):
        assert id_number not in html and id_number[:6] + "********" not in html
    assert not re.search(r"\*{8}[0-9]{3}[0-9X]", html)  # no masked number either
    assert "李健康" not in html and "患有大病" not in html and "残疾等级" not in html
    assert "家庭成员健康情况" not in html


def test_card_qr_code_encodes_the_status_page_with_the_receipt(world: World) -> None:
    from assistance.views.cards import status_url

    target = _target(world)
    receipt = Application.objects.get(lead=target.lead).receipt_no

    class Request:
        def build_absolute_uri(self, path: str) -> str:
            return "http://testserver" + path

    assert status_url(Request(), receipt) == f"http://testserver/status/?receipt={receipt}"  # type: ignore[arg-type]
    assert status_url(Request(), "") == "http://testserver/status/"  # type: ignore[arg-type]
    # the status page opens with the number filled in (the household types its name)
    page = Client().get(status_url(Request(), receipt).removeprefix("http://testserver")).content.decode()  # type: ignore[arg-type]
    assert f'value="{receipt}"' in page


def test_health_details_only_where_the_province_allows(world: World, settings: object) -> None:
    target = _target(world)
    client = client_for(world.users["county"])
    settings.CARD_SHOWS_HEALTH_DETAILS_PROVINCES = ["53"]  # type: ignore[attr-defined]  # another province
    assert "患有大病" not in client.get(reverse("assistance:card", args=[target.pk])).content.decode()
    settings.CARD_SHOWS_HEALTH_DETAILS_PROVINCES = ["520000000000"]  # type: ignore[attr-defined]
    html = client.get(reverse("assistance:card", args=[target.pk])).content.decode()
    assert "家庭成员健康情况" in html
    assert "李健康（配偶）：患有大病" in html
    assert "张小残（之子）：残疾，残疾等级二级" in html
    for id_number in _id_numbers(target):
        assert id_number not in html


@pytest.mark.parametrize(
    ("role", "status"),
    [("village", 200), ("township", 200), ("county", 200), ("admin", 200), ("city", 403), ("province", 403)],
)
def test_who_may_print_a_card(world: World, role: str, status: int) -> None:
    target = _target(world)
    assert client_for(world.users[role]).get(reverse("assistance:card", args=[target.pk])).status_code == status


def test_another_regions_target_is_not_found(world: World) -> None:
    elsewhere = _target(world, "520101002001")  # same county, another township
    client = client_for(world.users["village"])
    for name, args in [
        ("assistance:card", [elsewhere.pk]),
        ("assistance:card_pdf", [elsewhere.pk]),
        ("assistance:village_cards", ["520101002001"]),
        ("assistance:village_cards_pdf", ["520101002001"]),
        ("assistance:card", [999999]),
        ("assistance:village_cards", ["520101001000"]),  # a township is no village
    ]:
        assert client.get(reverse(name, args=args)).status_code == 404, name
    assert client_for(world.users["county"]).get(reverse("assistance:card", args=[elsewhere.pk])).status_code == 200
    other_county = _target(world, "520102001001")
    assert client_for(world.users["county"]).get(reverse("assistance:card", args=[other_county.pk])).status_code == 404


def test_the_card_page_offers_a4_and_a5(world: World) -> None:
    target = _target(world)
    client = client_for(world.users["village"])
    url = reverse("assistance:card", args=[target.pk])
    a4 = client.get(url).content.decode()
    assert "css/page-a4.css" in a4 and 'class="print-doc size-a4"' in a4
    assert 'data-testid="size-a5"' in a4 and f"{reverse('assistance:card_pdf', args=[target.pk])}?size=A4" in a4
    a5 = client.get(url, {"size": "a5"}).content.decode()
    assert "css/page-a5.css" in a5 and 'class="print-doc size-a5"' in a5
    assert "css/page-a4.css" in client.get(url, {"size": "B5"}).content.decode()  # anything else: A4


def test_target_page_links_to_the_card(world: World) -> None:
    target = _target(world)
    html = client_for(world.users["village"]).get(reverse("monitoring:target_detail", args=[target.pk])).content
    assert reverse("assistance:card", args=[target.pk]).encode() in html
    city = client_for(world.users["city"]).get(reverse("monitoring:target_detail", args=[target.pk])).content
    assert b"target-card-link" not in city


def test_village_batch_one_card_per_active_target_and_logged(world: World) -> None:
    targets = [_target(world, name=f"户主{i}") for i in range(3)]
    eliminated = _target(world, name="已消除户")
    MonitoringTarget.objects.filter(pk=eliminated.pk).update(
        status="ELIMINATED", elimination_method="ASSISTED", eliminated_on=dt.date(2025, 9, 1)
    )
    _target(world, "520101001002", name="邻村户")
    county = world.users["county"]
    before = AccessLog.objects.count()
    response = client_for(county).get(reverse("assistance:village_cards", args=[VILLAGE]))
    html = response.content.decode()
    assert html.count('data-testid="card"') == 3
    for i in range(3):
        assert f"户主{i}" in html
    assert "已消除户" not in html and "邻村户" not in html
    assert "page-break-after: always" in Path("static/css/cards.css").read_text(encoding="utf-8")  # a page each
    for t in targets:
        for id_number in _id_numbers(t):
            assert id_number not in html
    log = AccessLog.objects.order_by("-id").first()
    assert AccessLog.objects.count() == before + 1
    assert log is not None and log.actor == county and log.action == AccessLog.Action.EXPORT
    assert log.row_count == 3 and log.region_code == VILLAGE
    assert AuditEntry.objects.filter(object_type="export", object_id="assistance_cards", actor=county).exists()


def test_village_batch_reads_a_fixed_number_of_queries(world: World) -> None:
    client = client_for(world.users["county"])
    url = reverse("assistance:village_cards", args=[VILLAGE])
    _target(world, name="甲")
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(6):
        _target(world, name=f"乙{i}")
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_empty_village_batch_says_what_to_do(world: World) -> None:
    client = client_for(world.users["village"])
    html = client.get(reverse("assistance:village_cards", args=[VILLAGE])).content.decode()
    assert 'data-testid="cards-empty"' in html and f"目前没有监测中的{term('target')}" in html
    assert AccessLog.objects.count() == 0  # nothing was printed
    assert client.get(reverse("assistance:village_cards_pdf", args=[VILLAGE])).status_code == 400


def test_card_villages_page_lists_the_scope_with_links(world: World) -> None:
    _target(world)
    client = client_for(world.users["township"])
    html = client.get(reverse("assistance:card_villages")).content.decode()
    assert reverse("assistance:village_cards", args=[VILLAGE]) in html
    assert reverse("monitoring:village_poster", args=[VILLAGE]) in html
    assert reverse("monitoring:village_poster", args=["520101001002"]) in html
    assert "520101002001" not in html  # another township
    assert client_for(world.users["city"]).get(reverse("assistance:card_villages")).status_code == 403


def test_target_list_links_to_cards_and_posters(world: World) -> None:
    client = client_for(world.users["county"])
    html = client.get(reverse("monitoring:target_list")).content.decode()
    assert reverse("assistance:card_villages") in html and "village-cards-link" not in html
    html = client.get(reverse("monitoring:target_list"), {"region": VILLAGE}).content.decode()
    assert reverse("assistance:village_cards", args=[VILLAGE]) in html
    assert reverse("monitoring:village_poster", args=[VILLAGE]) in html


# -- PDF ------------------------------------------------------------------------------------------
needs_pdf = pytest.mark.skipif(
    browser_path() is None, reason="chromium 未安装（apt-get install -y chromium fonts-noto-cjk）"
)


def _flat(text: str) -> str:
    """PDF text without spaces (the file's text layer names 户, 人, 白 … as such: fanpin.web.pdf)."""
    return re.sub(r"\s+", "", text)


@needs_pdf
def test_card_pdf_holds_the_card_and_no_id_number(world: World) -> None:
    target = _target(world)
    response = client_for(world.users["village"]).get(reverse("assistance:card_pdf", args=[target.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    text = _flat(_pdf_text(response.content))
    expected_texts = [
        f"{term('monitoring')}帮扶明白卡",
        "户主姓名",
        "家庭人口",
        "张明白",
        "小额信贷",
        "医疗保障/医疗救助",
    ]
    for expected in [*expected_texts, "13900001111", "13900002222"]:
        assert expected in text, expected
    for id_number in _id_numbers(target):
        assert id_number not in text
    assert AccessLog.objects.filter(action=AccessLog.Action.EXPORT, row_count=1).count() == 1


@needs_pdf
def test_village_pdf_one_page_per_card_a5(world: World) -> None:
    targets = [_target(world, name=f"户主{i}") for i in range(3)]
    response = client_for(world.users["township"]).get(
        reverse("assistance:village_cards_pdf", args=[VILLAGE]), {"size": "A5"}
    )
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 3
    width_mm = float(reader.pages[0].mediabox.width) * 25.4 / 72
    assert round(width_mm) == 148  # A5
    for i, page in enumerate(reader.pages):
        text = _flat(page.extract_text())
        assert f"户主{i}" in text and "13900001111" in text
        for id_number in _id_numbers(targets[i]):
            assert id_number not in text


def test_pdf_is_refused_by_roles_without_the_right(world: World) -> None:
    target = _target(world)
    dept = user("dept2", Role.DEPT, "520101000000", department=Department.CIVIL_AFFAIRS)
    for u in (world.users["province"], dept):
        assert client_for(u).get(reverse("assistance:card_pdf", args=[target.pk])).status_code == 403


def test_card_contacts_are_people_never_a_token_account(world: World) -> None:
    from fanpin.core.api_tokens import token_create

    target = _target(world)
    world.users["village"].full_name = "孙村官"
    world.users["village"].save()
    token_create(actor=world.users["county"], name="村令牌", role=Role.VILLAGE, region_code=VILLAGE)
    html = client_for(world.users["county"]).get(reverse("assistance:card", args=[target.pk])).content.decode()
    assert "孙村官" in html
    assert "村令牌" not in html and "API：" not in html


def test_health_details_follow_the_province_exactly(world: World, settings: object) -> None:
    target = _target(world)  # a household in province 52
    client = client_for(world.users["county"])
    settings.CARD_SHOWS_HEALTH_DETAILS_PROVINCES = ["5"]  # type: ignore[attr-defined]  # no province's code
    assert "家庭成员健康情况" not in client.get(reverse("assistance:card", args=[target.pk])).content.decode()
    settings.CARD_SHOWS_HEALTH_DETAILS_PROVINCES = ["52"]  # type: ignore[attr-defined]
    assert "家庭成员健康情况" in client.get(reverse("assistance:card", args=[target.pk])).content.decode()


@pytest.mark.parametrize("value", ["5", "520100000000", "520101000000", "5200", "５２"])
def test_a_health_setting_that_is_no_province_stops_the_start(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import runpy

    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setenv("CARD_SHOWS_HEALTH_DETAILS_PROVINCES", f"53,{value}")
    with pytest.raises(ImproperlyConfigured, match="CARD_SHOWS_HEALTH_DETAILS_PROVINCES") as raised:
        runpy.run_path(str(Path("fanpin/settings.py")))
    assert value in str(raised.value) and "省级区划代码" in str(raised.value)


def test_health_setting_reads_province_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    import runpy

    monkeypatch.setenv("CARD_SHOWS_HEALTH_DETAILS_PROVINCES", "53, 520000000000")
    loaded = runpy.run_path(str(Path("fanpin/settings.py")))
    assert loaded["CARD_SHOWS_HEALTH_DETAILS_PROVINCES"] == ["53", "52"]


@pytest.mark.parametrize(
    ("url_name", "what", "rows"),
    [
        ("assistance:card", "帮扶明白卡（单户）网页打印", 1),
        ("assistance:village_cards", "帮扶明白卡（批量）网页打印", 2),
    ],
)
def test_every_card_print_is_in_the_access_log_readably(world: World, url_name: str, what: str, rows: int) -> None:
    targets = [_target(world, name=f"户主{i}") for i in range(2)]
    county = world.users["county"]
    arg = targets[0].pk if url_name == "assistance:card" else VILLAGE
    before = AccessLog.objects.count()
    page = client_for(county).get(reverse(url_name, args=[arg]), REMOTE_ADDR="10.1.2.3")
    assert page.status_code == 200
    assert AccessLog.objects.count() == before + 1
    log = AccessLog.objects.order_by("-id").first()
    assert log is not None and log.actor == county and log.action == AccessLog.Action.EXPORT
    assert log.what == what and "assistance_cards" not in log.what
    assert log.object_id == str(arg) and log.region_code == VILLAGE and log.row_count == rows
    assert log.ip_address == "10.1.2.3"


def test_card_downloads_are_logged_with_target_village_and_address(world: World) -> None:
    from assistance.services.cards import cards_print_record

    target = _target(world)
    county = world.users["county"]
    cards_print_record(
        actor=county, region_code=VILLAGE, cards=1, output="pdf", size="A4", target_id=target.pk, ip_address="10.0.0.9"
    )
    cards_print_record(actor=county, region_code=VILLAGE, cards=5, output="pdf", size="A5", ip_address="10.0.0.9")
    single, batch = AccessLog.objects.order_by("id")[:2]
    assert (single.what, single.object_id, single.row_count, single.ip_address) == (
        "帮扶明白卡（单户）PDF 下载",
        str(target.pk),
        1,
        "10.0.0.9",
    )
    assert (batch.what, batch.object_id, batch.row_count) == ("帮扶明白卡（批量）PDF 下载", VILLAGE, 5)
