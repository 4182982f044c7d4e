"""Each role's home page lists its own 待办 counts, each linking to exactly the list it counts."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from assistance.models import ProposalState
from assistance.selectors.todo import home_todo
from monitoring.models import (
    AlertOrigin,
    AlertStatus,
    AlertType,
    Application,
    AssistanceEntry,
    ChangeKind,
    ChangeSource,
    ChangeState,
    DepartmentAlert,
    FollowUp,
    HouseholdChange,
    LeadState,
)
from tests.assistance.factories import ProposalFactory, TargetMeasureFactory
from tests.assistance.helpers import eligible_target
from tests.assistance.test_elimination_workflow import steps_done
from tests.conftest import World
from tests.factories import HouseholdFactory, LeadFactory, TargetFactory, VisitFactory

pytestmark = pytest.mark.django_db

INSIDE = ["520101001001", "520101001002", "520101002001"]  # county 520101 (township 001 has the first two)
OUTSIDE = ["520102001001", "520201001001", "530101001001"]

EXPECTED = {
    "village": ["to_verify", "visits_due", "proposable", "proposals_village"],
    "township": ["to_review", "proposals"],
    "county": [
        "to_confirm",
        "overdue",
        "followups_overdue",
        "followups_review",
        "unassisted",
        "proposals",
        "applications",
        "alerts",
        "rosters",
        "household_changes",
    ],
    "admin": [
        "to_confirm",
        "overdue",
        "followups_overdue",
        "followups_review",
        "unassisted",
        "proposals",
        "applications",
        "alerts",
        "rosters",
        "household_changes",
    ],
    "dept": ["alerts_submitted", "alerts"],
    "province": ["overdue", "unassisted"],
    "city": ["overdue", "unassisted"],
}


def _busy(world: World) -> None:
    """Work at every step, in and out of county 520101, some of it overdue."""
    today = timezone.localdate()
    long_ago = timezone.now() - dt.timedelta(days=40)
    for n, code in enumerate(INSIDE + OUTSIDE):
        hh = lambda code=code: HouseholdFactory(village_id=code)  # noqa: E731
        LeadFactory(household=hh(), state=LeadState.NEW)
        LeadFactory(household=hh(), state=LeadState.NEW, raised_at=long_ago)
        # verified, 公示 ended yesterday (reviewable) / still running / none recorded (reviewable)
        LeadFactory(
            household=hh(),
            state=LeadState.VERIFIED,
            publicity_start=today - dt.timedelta(days=6),
            publicity_end=today - dt.timedelta(days=1),
        )
        LeadFactory(
            household=hh(), state=LeadState.VERIFIED, publicity_start=today - dt.timedelta(days=2), publicity_end=today
        )
        LeadFactory(household=hh(), state=LeadState.VERIFIED, raised_at=long_ago)
        LeadFactory(household=hh(), state=LeadState.REVIEWED, raised_at=long_ago)
        LeadFactory(household=hh(), state=LeadState.CONFIRMED, raised_at=long_ago, decided_at=long_ago)  # done
        # unassisted, due a visit; confirmed directly 60 days ago: its 绿色通道补办 is overdue
        old_target = TargetFactory(household=hh(), identified_on=today - dt.timedelta(days=60))
        FollowUp.objects.create(
            target=old_target, opened_on=old_target.identified_on, opened_at=long_ago, owes_home_check=True
        )
        # a 补办 whose 民主评议 disagreed: back to the county (visited, with a measure: nothing else due)
        reviewed_home = hh()
        VisitFactory(household=reviewed_home, visited_on=today - dt.timedelta(days=2))
        reviewed_target = TargetFactory(household=reviewed_home, identified_on=today - dt.timedelta(days=30))
        TargetMeasureFactory(target=reviewed_target)
        FollowUp.objects.create(
            target=reviewed_target,
            opened_on=today - dt.timedelta(days=30),
            opened_at=long_ago,
            owes_appraisal=True,
            appraisal_on=today - dt.timedelta(days=3),
            appraisal_outcome="DISAGREED",
            appraisal_recorded_at=timezone.now(),
            state="DONE",
            completed_at=timezone.now(),
            county_review=True,
            county_review_reason="民主评议不同意纳入，请县级复核。",
        )
        eligible_target(hh(), today=today, with_line=code == INSIDE[0])
        # 风险消除: in the first village the 入户核实 is still to record (the village's), elsewhere
        # the 公示 has ended (the township's); and one reviewed (the county's)
        steps = {} if n == 0 else steps_done(today)
        ProposalFactory(target=TargetFactory(household=hh()), proposed_by=world.users["village"], **steps)
        ProposalFactory(
            target=TargetFactory(household=hh()),
            proposed_by=world.users["village"],
            state=ProposalState.REVIEWED,
            **steps_done(today),
        )
        Application.objects.create(
            receipt_no=f"SB{code}",
            channel="PUBLIC",
            status="PENDING_MATCH",
            village_id=code,
            reason="ILLNESS",
            description="生病",
        )
        for i, status in enumerate([AlertStatus.UNMATCHED, AlertStatus.UNMATCHED, AlertStatus.MATCHED]):
            DepartmentAlert.objects.create(
                idempotency_key=f"k-{code}-{i}",
                id_number=f"52010119800517{n}{i}0X",
                name="某人",
                alert_type=AlertType.MEDICAL,
                alert_date=dt.date(2025, 3, 14),
                amount=Decimal("23456.00"),
                department="医保",
                scope_code="520101000000",  # submitted by the county's 医保 unit (the dept user's)
                origin=AlertOrigin.DEPARTMENT,
                status=status,
                member=world.households[code].members.get() if status == AlertStatus.MATCHED else None,
                region_code=code,
            )
        # a 民政 roster line sent by the county's 民政 unit that matched no one (the county checks it)
        for i, status in enumerate([AlertStatus.UNMATCHED]):
            AssistanceEntry.objects.create(
                id_number=f"52010119800517{n}{i}1X",
                name="某人",
                category="SUBSISTENCE",
                start_date=dt.date(2026, 1, 1),
                monthly_amount=Decimal("450.00"),
                status=status,
                member=world.households[code].members.get() if status == AlertStatus.MATCHED else None,
                region_code=code,
                scope_code="520101000000",
            )
        # a pending 户类型 change of the village's household, and one already decided (not counted)
        home = world.households[code]
        HouseholdChange.objects.create(
            kind=ChangeKind.TYPE, household=home, region_code=code, source=ChangeSource.IMPORT, after={"x": 1}
        )
        HouseholdChange.objects.create(
            kind=ChangeKind.TYPE,
            household=HouseholdFactory(village_id=code),
            region_code=code,
            source=ChangeSource.IMPORT,
            state=ChangeState.ACCEPTED,
            decided_at=timezone.now(),
        )


def _listed(client: Client, url: str) -> int:
    """How many rows the page at ``url`` lists (the list the 待办 figure links to)."""
    path, _, anchor = url.partition("#")
    html = client.get(path).content.decode()
    if anchor == "due-title":  # the cadre home's 待走访 section
        section = html[html.index('id="due-title"') :]
        section = section[: section.index("</section>")]
        return section.count('<li class="list-group-item')
    if 'data-testid="change-list"' in html:  # 农户变更审核: one card per change
        return html.count('data-testid="change-card"')
    for testid in (
        "lead-table",
        "proposal-table",
        "candidate-table",
        "unassisted-table",
        "application-table",
        "alert-table",
        "roster-table",
        "followup-table",
    ):
        if f'data-testid="{testid}"' in html and (testid != "proposal-table" or "step=" in path):
            if testid == "candidate-table" and "proposable=1" not in path:
                continue
            table = html[html.index(f'data-testid="{testid}"') :]
            body = table[table.index("<tbody>") : table.index("</tbody>")]
            return len(re.findall(r"<tr[\s>]", body))
    return 0  # an empty list shows its empty state instead of a table


@pytest.mark.parametrize("username", list(EXPECTED))
def test_todo_counts_equal_the_lists_they_link_to(world: World, username: str) -> None:
    _busy(world)
    client = Client()
    client.force_login(world.users[username])
    landing = client.get("/", follow=True)
    html = landing.content.decode()
    links = re.findall(
        r'href="([^"]+)" data-testid="todo-(\w+)">.*?data-testid="todo-count">([\d,]+)<', html, flags=re.S
    )
    assert [key for _, key, _ in links] == EXPECTED[username]
    for url, key, count in links:
        url = url.replace("&amp;", "&")
        shown = int(count.replace(",", ""))
        assert shown > 0, key  # the world has work at every step
        assert _listed(client, url) == shown, (key, url)


def test_todo_figures_per_role(world: World) -> None:
    """The figures themselves, for the county and its township and village (out-of-scope work not counted)."""
    _busy(world)
    figures = {
        name: {i.key: i.count for i in home_todo(user=world.users[name])} for name in ("village", "township", "county")
    }
    # village 520101001001 (the eligible target was visited last week: not due)
    assert figures["village"]["to_verify"] == 2
    assert figures["village"]["visits_due"] == 9  # 6 open leads' households + 3 targets never visited
    assert figures["village"]["proposable"] == 1
    assert figures["village"]["proposals_village"] == 1  # the one without its 入户核实
    # township 520101001: two villages × (公示 ended + none recorded); 风险消除: the second village's
    assert figures["township"] == {"to_review": 4, "proposals": 1}
    # county 520101: three villages
    county = figures["county"]
    # unassisted: per village the target of 60 days and the two proposals' targets have no measure
    assert (county["to_confirm"], county["overdue"], county["unassisted"]) == (3, 9, 9)
    assert (county["proposals"], county["applications"], county["alerts"]) == (3, 3, 6)


# one query per figure (the lead figures in one); the village's 风险消除 criteria in five, plus one per province
# (the overdue 绿色通道补办: its limits, the calendar and the count)
# village: the 风险消除 candidates judge income and spending by the declared rules and look for new
# risks (issue 18): 8 more reads, the same for any number of targets, and one for their 绿色通道补办
QUERIES = {"village": 18, "township": 2, "county": 11, "admin": 11, "dept": 1, "province": 2, "city": 2}


@pytest.mark.parametrize("username", list(EXPECTED))
def test_todo_reads_a_fixed_number_of_queries(world: World, username: str, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    _busy(world)
    with django_assert_max_num_queries(QUERIES[username]):
        home_todo(user=world.users[username])
    for code in INSIDE + OUTSIDE:  # more of everything: not one query more
        for _ in range(3):
            eligible_target(HouseholdFactory(village_id=code), today=timezone.localdate(), with_line=False)
            LeadFactory(household=HouseholdFactory(village_id=code), state=LeadState.REVIEWED)
    with django_assert_max_num_queries(QUERIES[username]):
        home_todo(user=world.users[username])


# the whole landing page (session, user, navigation badge, overview counts, 待办; the village's 村级工作台)
PAGE_QUERIES = {"village": 33, "township": 8, "county": 17, "admin": 15, "dept": 4, "province": 7, "city": 7}


@pytest.mark.parametrize("username", list(EXPECTED))
def test_landing_page_queries_are_pinned(world: World, username: str, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    _busy(world)
    for code in INSIDE:
        for _ in range(3):
            eligible_target(HouseholdFactory(village_id=code), today=timezone.localdate(), with_line=False)
    client = Client()
    client.force_login(world.users[username])
    with django_assert_max_num_queries(PAGE_QUERIES[username]):
        assert client.get("/", follow=True).status_code == 200


def test_lead_queue_parameters_give_exactly_that_list(world: World) -> None:
    """The queue's GET parameters the 待办 links use: state, overdue and 公示 filters combine."""
    _busy(world)
    client = Client()
    client.force_login(world.users["county"])

    def rows(query: str) -> int:
        html = client.get(f"/monitoring/leads/?{query}").content.decode()
        return html.count('data-testid="lead-row"')

    # per village of the county: VERIFIED ×3 (one raised 40 days ago), REVIEWED ×1 (old), NEW ×2 (one old)
    assert rows("state=VERIFIED") == 9
    assert rows("state=VERIFIED&overdue=1") == 3
    assert rows("state=VERIFIED&publicity=ENDED") == 6  # ended yesterday, or none recorded
    assert rows("state=VERIFIED&publicity=ONGOING") == 3  # ends today: not yet reviewable
    assert rows("state=ALL&overdue=1") == 9  # open ones only: the old CONFIRMED lead is not overdue
    assert rows("state=NEW&overdue=1") == 3
