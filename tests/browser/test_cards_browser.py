"""帮扶明白卡 in the browser: a village cadre opens a household's card from the target page, prints it
(Chromium's own print to PDF, A4 and A5), then prints the whole village's batch (one card per page)
and downloads the server's PDF; every PDF holds the head's name, every measure and its 帮扶责任人's
phone, and no 身份证号.  The poster page shows its QR code.  Screenshots for the user guide."""

from __future__ import annotations

import datetime as dt
import importlib
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from assistance.models import MeasureStatus
from fanpin.web.pdf import text_fold
from monitoring.models import Member, MonitoringTarget, Region, Relation
from tests.assistance.factories import TargetMeasureFactory, measure
from tests.browser.conftest import login, screenshot
from tests.conftest import World
from tests.factories import HouseholdFactory, MemberFactory, TargetFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
VILLAGE = "520101001001"
A4_POINTS = (595, 842)
A5_POINTS = (420, 595)
MEASURES = [
    ("MICROCREDIT", "小额信贷", "王信贷", "13900001111"),
    ("MEDICAL_ASSISTANCE", "医疗保障/医疗救助", "赵医保", "13900002222"),
    ("PUBLIC_WELFARE_POST", "公益岗位安置", "钱公益", "13900003333"),
]


def _seed_catalogue() -> None:
    """The catalogue comes from a data migration; an earlier transactional test's flush removes it."""
    from django.apps import apps

    importlib.import_module("assistance.migrations.0002_seed_catalogue").seed(apps, None)


def _place_names() -> None:
    """Names as a county has them (the screenshots go into the user guide)."""
    for code, name in [("520101000000", "示范县"), ("520101001000", "城关镇"), (VILLAGE, "新民村")]:
        Region.objects.filter(code=code).update(name=name)


def _household_target(name: str) -> MonitoringTarget:
    household = HouseholdFactory(village_id=VILLAGE)
    MemberFactory(household=household, relation=Relation.HEAD, name=name)
    MemberFactory(household=household, relation=Relation.SPOUSE, health=Member.Health.SERIOUS)
    target = TargetFactory(
        household=household, risk_types=["ILLNESS", "LACK_OF_LABOR"], identified_on=dt.date(2025, 3, 14)
    )
    for code, _label, person, phone in MEASURES:
        TargetMeasureFactory(
            target=target,
            measure=measure(code),
            responsible_name=person,
            responsible_phone=phone,
            status=MeasureStatus.IN_PROGRESS,
            amount=Decimal("50000") if code == "MICROCREDIT" else None,
            amount_kind="LOAN" if code == "MICROCREDIT" else "",
        )
    return target


def _pages(pdf: bytes) -> list[tuple[tuple[int, int], str]]:
    """Each page's size in points and its text without spaces (radicals folded: fanpin.web.pdf)."""
    reader = PdfReader(io.BytesIO(pdf))
    return [
        (
            (round(float(p.mediabox.width)), round(float(p.mediabox.height))),
            re.sub(r"\s+", "", text_fold(p.extract_text() or "")),
        )
        for p in reader.pages
    ]


def _ids(target: MonitoringTarget) -> list[str]:
    return list(target.household.members.values_list("id_number", flat=True))


def _assert_card_text(text: str, name: str, target: MonitoringTarget) -> None:
    assert name in text, name
    for _code, label, person, phone in MEASURES:
        assert label in text and person in text and phone in text, label
    for id_number in _ids(target):
        assert id_number not in text


def test_cadre_prints_a_card_and_the_village_batch(page, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    _seed_catalogue()
    _place_names()
    target = _household_target("张明白")
    others = [_household_target(name) for name in ("李大山", "王小河")]
    login(page, live_server, "village")

    # from the target page to its card
    page.goto(f"{live_server.url}/monitoring/targets/{target.pk}/")
    page.get_by_role("link", name="打印明白卡").click()
    page.wait_for_url(f"{live_server.url}/assistance/targets/{target.pk}/card/")
    card = page.get_by_test_id("card")
    expect(card).to_have_count(1)
    expect(card.get_by_test_id("card-head-name")).to_have_text("张明白")
    expect(card.get_by_test_id("card-measures")).to_contain_text("13900003333")
    page.set_viewport_size({"width": 1000, "height": 1300})
    screenshot(page, "card-a4.png")

    # the 打印 button opens the browser's print dialog
    page.evaluate("() => { window.print = function () { window.__printed = (window.__printed || 0) + 1; }; }")
    page.get_by_role("button", name="打印").click()
    assert page.evaluate("window.__printed") == 1

    # the browser prints it on one A4 page, toolbar left out
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="打印")).to_be_hidden()
    pages = _pages(page.pdf(prefer_css_page_size=True, print_background=True))
    assert len(pages) == 1 and pages[0][0] == A4_POINTS
    _assert_card_text(pages[0][1], "张明白", target)
    assert "打印" not in pages[0][1].replace("打印日期", "")  # no toolbar on paper

    # A5: the same card on one A5 page
    page.emulate_media(media="screen")
    page.get_by_test_id("size-a5").click()
    page.wait_for_url(re.compile(r"size=A5$"))
    page.emulate_media(media="print")
    pages = _pages(page.pdf(prefer_css_page_size=True))
    assert len(pages) == 1 and pages[0][0] == A5_POINTS
    _assert_card_text(pages[0][1], "张明白", target)
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 700, "height": 1000})
    screenshot(page, "card-a5.png")

    # the village's batch: from the target list, one card per page
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/monitoring/targets/")
    page.get_by_test_id("card-villages-link").click()
    screenshot(page, "card-villages.png")
    page.get_by_test_id(f"batch-{VILLAGE}").click()
    expect(page.get_by_test_id("card")).to_have_count(3)
    page.emulate_media(media="print")
    pages = _pages(page.pdf(prefer_css_page_size=True))
    assert len(pages) == 3 and all(size == A4_POINTS for size, _text in pages)
    # one page per household, in the order of 户编号
    in_order = sorted(
        [("张明白", target), ("李大山", others[0]), ("王小河", others[1])], key=lambda nt: nt[1].household.household_no
    )
    for (_size, text), (name, t) in zip(pages, in_order, strict=True):
        _assert_card_text(text, name, t)
    page.emulate_media(media="screen")

    # the server's PDF of the batch: a download, same three cards
    with page.expect_download() as download_info:
        page.get_by_test_id("cards-pdf").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    pages = _pages(Path(download.path()).read_bytes())
    assert len(pages) == 3
    for (_size, text), (name, t) in zip(pages, in_order, strict=True):
        _assert_card_text(text, name, t)


def test_village_poster_page(page, live_server, world: World) -> None:  # type: ignore[no-untyped-def]
    _place_names()
    user = world.users["village"]
    user.full_name, user.phone = "孙村官", "13700007777"
    user.save()
    login(page, live_server, "village")
    page.goto(f"{live_server.url}/assistance/cards/")
    page.get_by_test_id(f"poster-{VILLAGE}").click()
    qr = page.get_by_test_id("poster-qr")
    expect(qr.locator("svg")).to_be_visible()
    assert qr.get_attribute("data-url") == f"{live_server.url}/report/?village={VILLAGE}&source=poster"
    box = qr.locator("svg").bounding_box()
    assert box is not None and box["width"] > 300  # big enough to scan from a noticeboard
    expect(page.get_by_test_id("poster")).to_contain_text("可以直接找村干部：孙村官 13700007777")
    expect(page.get_by_test_id("poster")).to_contain_text("示范县城关镇新民村")
    page.set_viewport_size({"width": 1000, "height": 1300})
    screenshot(page, "village-poster.png")

    # the QR code's address opens the self-report page with the village chosen
    page.goto(qr.get_attribute("data-url"))
    expect(page.get_by_label("所在村")).to_have_value(VILLAGE)
    expect(page.get_by_test_id("poster-qr")).to_have_count(0)
