"""统计看板 defects found on the demo: levels that disagree (snapshots of different ages), three
different lead counts on one page, a scale ratio of households over persons."""

from __future__ import annotations

import datetime as dt
import io
import re
import zoneinfo
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from assistance.selectors.dashboard import dashboard_figures
from assistance.services.dashboard_refresh import dashboard_refresh
from assistance.services.elimination import elimination_act
from fanpin.core.terms import term
from monitoring.models import LeadState, Relation
from monitoring.services.review import Decision, lead_confirm_direct, lead_raise_or_merge, lead_reject
from monitoring.services.review_bulk import LeadRequest, leads_raise_or_merge_many
from tests.assistance.factories import ProposalFactory
from tests.assistance.helpers import eligible_target
from tests.conftest import World
from tests.factories import HouseholdFactory, LeadFactory, MemberFactory, TargetFactory, income
from tests.monitoring.screening_helpers import household as screening_household
from tests.monitoring.screening_helpers import screen, setup_lines

pytestmark = pytest.mark.django_db
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
VILLAGE = "520101001001"
# the village, its township, county, city and province: what each level's dashboard shows
LEVELS = [VILLAGE, "520101001000", "520101000000", "520100000000", "520000000000"]


@pytest.fixture
def cached(settings: Any) -> None:
    settings.DASHBOARD_CACHE_SECONDS = 3600
    cache.clear()


def kpi(html: str, name: str) -> int:
    found = re.search(rf'data-testid="kpi-{name}">([\d,]+)<', html)
    assert found, name
    return int(found.group(1).replace(",", ""))


def pages(client: Client) -> dict[str, str]:
    out = {}
    for code in LEVELS:
        response = client.get("/dashboard/", {"region": code})
        assert response.status_code == 200
        out[code] = response.content.decode()
    return out


def monitored(client: Client) -> dict[str, int]:
    return {code: kpi(html, "monitored") for code, html in pages(client).items()}


def eliminated(client: Client) -> dict[str, int]:
    return {code: kpi(html, "eliminated") for code, html in pages(client).items()}


def leads(client: Client) -> dict[str, int]:
    return {code: kpi(html, "leads") for code, html in pages(client).items()}


def test_every_level_shows_the_same_count_right_after_a_state_change(
    world: World, cached: None, django_capture_on_commit_callbacks: Any
) -> None:
    """Defect 1: the province and a township showed 监测中 26, their county 25 (snapshots of
    different ages).  After a confirmation every level shows the new count at once, cache on."""
    TargetFactory(household=HouseholdFactory(village_id=VILLAGE), identified_on=timezone.localdate())
    lead = LeadFactory(household=world.households[VILLAGE], year=timezone.localdate().year)
    client = Client()
    client.force_login(world.users["province"])
    assert monitored(client) == dict.fromkeys(LEVELS, 1)  # every level now has a snapshot

    with django_capture_on_commit_callbacks(execute=True):
        lead_confirm_direct(
            lead_id=lead.pk,
            actor=world.users["county"],
            decision=Decision(category="EDGE_AT_RISK", risk_types=["ILLNESS"]),
            reason="突发大病，先帮扶后补手续",
        )
    assert monitored(client) == dict.fromkeys(LEVELS, 2)
    # the county's own user reads the same snapshot as the province's drill-down
    county = Client()
    county.force_login(world.users["county"])
    assert kpi(county.get("/dashboard/").content.decode(), "monitored") == 2


def test_risk_elimination_moves_every_level_at_once(
    world: World, cached: None, django_capture_on_commit_callbacks: Any
) -> None:
    """A target's own state change (风险消除 confirmed by the county) reaches every level at once."""
    target = eligible_target(world.households[VILLAGE], today=timezone.localdate())  # re-checked at 审定
    proposal = ProposalFactory(target=target, state="REVIEWED", proposed_by=world.users["village"])
    client = Client()
    client.force_login(world.users["province"])
    assert (monitored(client), eliminated(client)) == (dict.fromkeys(LEVELS, 1), dict.fromkeys(LEVELS, 0))
    with django_capture_on_commit_callbacks(execute=True):
        elimination_act(actor=world.users["county"], pk=proposal.pk, name="confirm", opinion="收入稳定")
    assert (monitored(client), eliminated(client)) == (dict.fromkeys(LEVELS, 0), dict.fromkeys(LEVELS, 1))


def test_rollback_changes_nothing_and_lead_sources_refresh_every_level(
    world: World, cached: None, django_capture_on_commit_callbacks: Any
) -> None:
    """A self-report (one lead, through ``lead_raise_or_merge``) and a batch of department alerts
    (the bulk writer) move the 线索 card of every level at once; a refused change moves nothing."""
    year = timezone.localdate().year
    client = Client()
    client.force_login(world.users["province"])
    assert leads(client) == dict.fromkeys(LEVELS, 0)
    with django_capture_on_commit_callbacks(execute=True):
        lead_raise_or_merge(household_id=world.households[VILLAGE].pk, source="SELF_APPLICATION", evidence={})
    assert leads(client) == dict.fromkeys(LEVELS, 1)

    other = HouseholdFactory(village_id=VILLAGE)
    MemberFactory(household=other, relation=Relation.HEAD)
    with django_capture_on_commit_callbacks(execute=True):
        leads_raise_or_merge_many(
            requests=[LeadRequest(other.pk, [{"alert": 1}])], source="DEPARTMENT_ALERT", year=year
        )
    assert leads(client) == dict.fromkeys(LEVELS, 2)

    open_lead = world.households[VILLAGE].leads.get()
    with pytest.raises(ValidationError), django_capture_on_commit_callbacks(execute=True) as callbacks:
        lead_reject(lead_id=open_lead.pk, actor=world.users["county"], reason="")  # a reason is required
    assert callbacks == []
    assert leads(client) == dict.fromkeys(LEVELS, 2)


def test_screening_of_last_year_run_now_reaches_every_level(
    world: World, cached: None, django_capture_on_commit_callbacks: Any
) -> None:
    """The screening's set-based writer (no ``audit_record`` per lead) expires the county's
    dashboards too; its leads (assessment year = last year, raised now) are this year's leads on
    the card and in the source chart of every level."""
    last_year = timezone.localdate().year - 1
    setup_lines(year=last_year)
    poor = screening_household(village=VILLAGE)
    income(poor, last_year, Decimal("1000.00"))  # far below the line
    client = Client()
    client.force_login(world.users["province"])
    assert leads(client) == dict.fromkeys(LEVELS, 0)
    with django_capture_on_commit_callbacks(execute=True):
        screen(year=last_year)
    assert leads(client) == dict.fromkeys(LEVELS, 1)
    html = client.get("/dashboard/", {"region": VILLAGE}).content.decode()
    assert re.search(r"<th scope=\"row\">系统筛查</th>\s*<td class=\"text-end\">1</td>", html)


def test_refresh_task_recomputes_the_region_and_its_ancestors(world: World, cached: None) -> None:
    """The task enqueued on commit computes the snapshots ahead of the readers (idempotent)."""
    TargetFactory(household=world.households[VILLAGE], identified_on=timezone.localdate())
    today = timezone.localdate()
    # village, township, county, city, province and the whole country
    assert dashboard_refresh(region_codes=[VILLAGE], today=today) == 6
    assert dashboard_refresh(region_codes=[VILLAGE], today=today) == 6  # again: cache hits
    admin = world.users["admin"]
    with mock.patch("assistance.selectors.dashboard._figures", side_effect=AssertionError("not cached")):
        for code in [*LEVELS, ""]:
            assert dashboard_figures(user=admin, region_code=code, year=today.year, today=today).kpis["monitored"] == 1


def test_one_refresh_per_commit_however_many_changes(
    world: World, cached: None, django_capture_on_commit_callbacks: Any
) -> None:
    """A bulk decision changes many leads in one transaction: the refresh task is enqueued once,
    after the commit, with the villages; nothing is enqueued for a transaction that rolls back."""
    leads_ = [LeadFactory(household=HouseholdFactory(village_id=v)) for v in (VILLAGE, VILLAGE, "520101002001")]
    with mock.patch("assistance.tasks.dashboard_refresh_task.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            for lead in leads_:
                lead_reject(lead_id=lead.pk, actor=world.users["county"], reason="收入达标")
        delay.assert_called_once_with([VILLAGE, "520101002001"])
        delay.reset_mock()
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            lead_raise_or_merge(household_id=world.households[VILLAGE].pk, source="VISIT", evidence={})
            raise RuntimeError("回滚")
        assert callbacks == [] and not delay.called


def test_page_says_when_the_figures_were_read(world: World, cached: None) -> None:
    """「数据更新于 HH:MM」 in Beijing time: the snapshot's time, not the time of the request."""
    client = Client()
    client.force_login(world.users["county"])
    # a minute ago, in the same Beijing day as the requests (the snapshot is keyed by that day): just
    # after midnight, Beijing time, a minute ago was yesterday (CI once ran at 00:00 and failed)
    now = timezone.now().replace(second=0, microsecond=0)
    midnight = timezone.localtime(now).replace(hour=0, minute=0)
    read_at = max(now - dt.timedelta(minutes=1), midnight)
    shown = f"数据更新于 {timezone.localtime(read_at):%H:%M}"
    with mock.patch("assistance.selectors.dashboard.timezone.now", return_value=read_at):
        first = client.get("/dashboard/").content.decode()
    assert shown in first
    later = client.get("/dashboard/").content.decode()  # the snapshot, read later
    assert shown in later


def test_leads_of_the_year_are_one_set_on_the_whole_page(world: World) -> None:
    """Defect 2: the 「2026年线索」 card said 3, the source chart 0 系统筛查 and the trend ≈ 300 in
    December.  On demo-like data — a screening of assessment year 2025 run in December 2026, a
    self-report of 2026, a lead of the night of New Year — the card, the regions table, the source
    and state charts, the monthly trend and the .xlsx all count the same leads."""
    hh = world.households
    for _ in range(3):  # the screening of 2025, run on 1 December 2026
        LeadFactory(
            household=HouseholdFactory(village_id=VILLAGE), year=2025, raised_at=dt.datetime(2026, 12, 1, 9, tzinfo=TZ)
        )
    LeadFactory(
        household=hh["520101002001"],
        year=2026,
        sources=["SELF_APPLICATION"],
        raised_at=dt.datetime(2026, 3, 5, 10, tzinfo=TZ),
        state=LeadState.VERIFIED,
    )
    # 00:30 on 1 January in Beijing is still 31 December in UTC: a lead of 2026, month 1
    LeadFactory(household=hh["520102001001"], year=2025, raised_at=dt.datetime(2026, 1, 1, 0, 30, tzinfo=TZ))
    # 23:30 on 31 December 2025 in Beijing: not a lead of 2026
    LeadFactory(household=hh["520201001001"], year=2026, raised_at=dt.datetime(2025, 12, 31, 23, 30, tzinfo=TZ))

    d = dashboard_figures(
        user=world.users["province"],
        region_code="",
        year=2026,
        today=dt.date(2026, 12, 3),
        now=dt.datetime(2026, 12, 3, 12, tzinfo=TZ),
    )
    card = d.kpis["leads"]
    sources = {row[0]: row[1] for row in d.tables["lead_sources"].rows}
    trend = {row[0]: row[3] for row in d.tables["trend"].rows}
    assert card == 5
    assert sum(sources.values()) == card and sources["系统筛查"] == 4 and sources["农户申报"] == 1
    assert sum(row[1] for row in d.tables["lead_states"].rows) == card
    assert sum(trend.values()) == card and trend["12月"] == 3 and trend["1月"] == 1 and trend["3月"] == 1
    assert sum(row[8] for row in d.tables["regions"].rows) == card

    client = Client()
    client.force_login(world.users["province"])
    with mock.patch("assistance.views.dashboard.timezone.localdate", return_value=dt.date(2026, 12, 3)):
        page = client.get("/dashboard/", {"year": 2026}).content.decode()
        workbook = client.get("/dashboard/trend.xlsx", {"year": 2026}).content
    assert kpi(page, "leads") == card
    sheet = load_workbook(io.BytesIO(workbook)).active
    months = [row for row in sheet.iter_rows(values_only=True) if row and str(row[0]).endswith("月")]
    assert sum(row[3] for row in months) == card


def test_scale_ratio_is_persons_over_persons_and_says_so(world: World) -> None:
    """Defect 3: 监测比例 divided target households by persons.  Now target persons (members of the
    active target households) ÷ 建档立卡人口 (members of 脱贫户 households), labelled on the page."""
    exited = HouseholdFactory(village_id=VILLAGE, exited=True)
    MemberFactory(household=exited, relation=Relation.HEAD)
    MemberFactory.create_batch(9, household=exited)  # 10 registered persons
    target = HouseholdFactory(village_id=VILLAGE)
    MemberFactory(household=target, relation=Relation.HEAD)
    MemberFactory(household=target)  # a target household of 2 persons
    TargetFactory(household=target)
    d = dashboard_figures(
        user=world.users["county"], region_code="", year=2026, today=dt.date(2026, 12, 3), now=timezone.now()
    )
    scale = d.tables["scale"]
    row = dict(zip(scale.columns, scale.rows[0], strict=True))
    assert (
        row[f"{term('target')}（户）"] == 1
        and row[f"{term('target')}人数（人）"] == 2
        and row["建档立卡人口（人）"] == 10
    )
    assert str(row["监测比例（%）"]) == "20.00"  # 2 persons ÷ 10 persons, not 1 household ÷ 10 persons
    client = Client()
    client.force_login(world.users["county"])
    assert f"监测比例 = {term('target')}人数 ÷ 建档立卡人口" in client.get("/dashboard/").content.decode()
