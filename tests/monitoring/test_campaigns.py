"""回头看 / 信息采集 campaigns (issue 18 part 7): selection, set-based start, completion by a visit
and by an import, closing, completion figures, export, scoping and audit rows."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from fanpin.core.models import AuditEntry
from fanpin.core.scoping import ObjectOutOfScope
from fanpin.core.workflow import TransitionNotAllowed
from monitoring.models import (
    CalendarDay,
    Campaign,
    CampaignSelection,
    CampaignState,
    CampaignTask,
    Household,
    HouseholdType,
    ProcedureLimit,
    ProcedureStep,
    TaskDoneVia,
    TaskState,
)
from monitoring.selectors.campaigns import (
    campaign_completion,
    campaign_due_default,
    campaign_is_overdue,
    campaign_selection_households,
    campaign_tasks_for_home,
)
from monitoring.services.campaigns import (
    CampaignInput,
    campaign_close,
    campaign_start,
    campaign_tasks_complete,
)
from monitoring.services.imports.pipeline import import_run
from monitoring.services.visits import VisitInput, visit_record
from tests.conftest import World
from tests.factories import HouseholdFactory, MonitoringLineFactory, TargetFactory, income, region
from tests.monitoring.xlsx import kind_sheet

COUNTY = "520101000000"
V1, V2, V3 = "520101001001", "520101001002", "520101002001"
TODAY = dt.date(2026, 3, 2)  # a Monday


def _input(**over: object) -> CampaignInput:
    data: dict[str, object] = {
        "county_code": COUNTY,
        "kind": "REVISIT",
        "name": "2026 年回头看",
        "year": 2026,
        "selection": CampaignSelection.ALL_TARGETS,
        "started_on": TODAY,
    }
    data.update(over)
    return CampaignInput(**data)  # type: ignore[arg-type]


def _hh(village: str, **kw: object) -> Household:
    household: Household = HouseholdFactory(village=region(village), **kw)  # type: ignore[assignment]
    return household


# -- selection ------------------------------------------------------------------------------------


def test_all_targets_picks_active_targets_of_the_county_only(world: World) -> None:
    active = _hh(V1)
    TargetFactory(household=active)
    eliminated = _hh(V2)
    TargetFactory(
        household=eliminated, status="ELIMINATED", eliminated_on=dt.date(2025, 1, 1), elimination_method="NATURAL"
    )
    elsewhere = _hh("520102001001")
    TargetFactory(household=elsewhere)
    picked = set(campaign_selection_households(county_code=COUNTY, selection=CampaignSelection.ALL_TARGETS))
    assert picked == {active}


def test_exited_of_chosen_villages(world: World) -> None:
    a = _hh(V1, household_type=HouseholdType.EXITED, exit_year=2018)
    _hh(V1, household_type=HouseholdType.EDGE)
    _hh(V2, household_type=HouseholdType.EXITED, exit_year=2019)  # a village not chosen
    c = _hh(V3, household_type=HouseholdType.EXITED, exit_year=2016)
    _hh("520102001001", household_type=HouseholdType.EXITED, exit_year=2016)  # another county, even if named
    picked = set(
        campaign_selection_households(
            county_code=COUNTY,
            selection=CampaignSelection.EXITED_IN_VILLAGES,
            villages=[V1, V3, "520102001001"],
        )
    )
    assert picked == {a, c}


def test_near_line_strictly_below_k_times_the_line_of_the_latest_year(world: World) -> None:
    MonitoringLineFactory(year=2024, line=Decimal("7000.00"))
    MonitoringLineFactory(year=2025, line=Decimal("8000.00"))
    below = _hh(V1)
    income(below, 2025, "11999.99", size=3)  # 1.5 × 8000 = 12000
    at = _hh(V1)
    income(at, 2025, "12000.00", size=2)  # exactly k × line: not picked (as LOW_INCOME, strictly below)
    recovered = _hh(V1)
    income(recovered, 2024, "5000.00")  # low in 2024 but its latest year (2025) is above
    income(recovered, 2025, "20000.00")
    old_only = _hh(V2)
    income(old_only, 2024, "10499.99")  # latest is 2024: 1.5 × 7000 = 10500
    no_income = _hh(V2)
    picked = set(
        campaign_selection_households(
            county_code=COUNTY, selection=CampaignSelection.NEAR_LINE, line_factor=Decimal("1.5"), year=2026
        )
    )
    assert picked == {below, old_only}
    assert at not in picked and recovered not in picked and no_income not in picked
    # k = 2 takes the one at 1.5 × line too
    picked2 = set(
        campaign_selection_households(
            county_code=COUNTY, selection=CampaignSelection.NEAR_LINE, line_factor=Decimal("2"), year=2026
        )
    )
    assert at in picked2


def test_near_line_uses_the_provinces_own_line(world: World) -> None:
    MonitoringLineFactory(year=2025, line=Decimal("7000.00"))
    MonitoringLineFactory(year=2025, line=Decimal("9000.00"), province=region("520000000000"))
    hh = _hh(V1)
    income(hh, 2025, "12000.00")  # < 1.5 × 9000 (13500), ≥ 1.5 × 7000 (10500)
    picked = set(campaign_selection_households(county_code=COUNTY, selection=CampaignSelection.NEAR_LINE, year=2026))
    assert picked == {hh}


# -- start ----------------------------------------------------------------------------------------


# The start (due date given), whatever the number of households: the service's savepoint, the county,
# the villages, the name, the campaign's savepoint/INSERT/release, the tasks' INSERT … SELECT, the
# task count's UPDATE, the villages' count, the audit row, the release.
START_QUERIES = 12


def test_start_writes_one_task_per_household_in_a_fixed_number_of_queries(
    world: World, django_assert_num_queries: object
) -> None:
    Household.objects.bulk_create(
        [
            Household(household_no=f"X{i:05d}", village_id=(V1, V2, V3)[i % 3], household_type="EXITED", exit_year=2018)
            for i in range(500)
        ]
    )
    county = world.users["county"]
    with django_assert_num_queries(START_QUERIES):  # type: ignore[operator]
        campaign = campaign_start(
            actor=county,
            data=_input(selection=CampaignSelection.EXITED_IN_VILLAGES, villages=[V1, V2, V3], due_on=TODAY),
        )
    assert campaign.task_count == 500
    tasks = CampaignTask.objects.filter(campaign=campaign)
    assert tasks.count() == 500
    assert set(tasks.values_list("village_code", flat=True)) == {V1, V2, V3}
    assert not tasks.exclude(state=TaskState.OPEN).exists()
    audit = AuditEntry.objects.get(object_type="campaign", action="start")
    assert audit.object_id == str(campaign.pk) and audit.region_code == COUNTY
    assert audit.data["tasks"] == 500 and audit.data["villages_with_tasks"] == 3
    assert audit.actor == county and audit.to_state == CampaignState.OPEN


def test_start_queries_do_not_grow_with_households(world: World, django_assert_num_queries: object) -> None:
    Household.objects.bulk_create(
        [Household(household_no=f"Y{i:05d}", village_id=V1, household_type="EXITED", exit_year=2018) for i in range(5)]
    )
    with django_assert_num_queries(START_QUERIES):  # type: ignore[operator]
        campaign_start(
            actor=world.users["county"],
            data=_input(selection=CampaignSelection.EXITED_IN_VILLAGES, villages=[V1], due_on=TODAY),
        )


def test_double_submit_returns_the_started_campaign(world: World) -> None:
    _hh(V1, household_type=HouseholdType.EXITED, exit_year=2018)
    token = uuid.uuid4()
    data = _input(selection=CampaignSelection.EXITED_IN_VILLAGES, villages=[V1], client_uuid=token)
    first = campaign_start(actor=world.users["county"], data=data)
    second = campaign_start(actor=world.users["county"], data=data)
    assert first.pk == second.pk
    assert Campaign.objects.count() == 1 and CampaignTask.objects.count() == 1
    assert AuditEntry.objects.filter(object_type="campaign", action="start").count() == 1
    # another form (new token) with the same name is refused by name
    with pytest.raises(ValidationError) as exc:
        campaign_start(
            actor=world.users["county"], data=_input(selection=CampaignSelection.EXITED_IN_VILLAGES, villages=[V1])
        )
    assert "name" in exc.value.message_dict


def test_due_default_is_the_provinces_campaign_limit_in_working_days(world: World) -> None:
    # 20 working days from Monday 2026-03-02 (no stored holidays) → Monday 2026-03-30
    assert campaign_due_default(county_code=COUNTY, started_on=TODAY) == dt.date(2026, 3, 30)
    ProcedureLimit.objects.create(province_code="520000000000", step=ProcedureStep.CAMPAIGN, days=10, unit="CALENDAR")
    assert campaign_due_default(county_code=COUNTY, started_on=TODAY) == dt.date(2026, 3, 12)
    campaign = campaign_start(actor=world.users["county"], data=_input())
    assert campaign.due_on == dt.date(2026, 3, 12)


@pytest.mark.parametrize(
    ("started_on", "due_on", "field"),
    [
        (dt.date(9999, 12, 30), None, "started_on"),  # was a 500 (the calendar's margin overflowed)
        (dt.date(2001, 1, 1), None, "started_on"),  # not in the campaign's year (2026) or the next
        (dt.date(2028, 1, 1), None, "started_on"),
        (TODAY, dt.date(2027, 3, 4), "due_on"),  # more than a year
    ],
)
def test_odd_dates_are_refused_by_field(world: World, started_on: dt.date, due_on: dt.date | None, field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        campaign_start(actor=world.users["county"], data=_input(started_on=started_on, due_on=due_on))
    assert field in exc.value.message_dict
    assert not Campaign.objects.exists()


def test_due_default_across_the_holiday_and_a_tiaoxiu_weekend(world: World) -> None:
    """国庆 2026: 1–7 October off, Sunday 27 September and Saturday 10 October worked (调休).
    3 working days from Friday 25 September: 27 (调休 Sunday), 28, 29 → due Tuesday 29 September;
    3 from Wednesday 30 September: 8, 9, 10 (调休 Saturday) → due Saturday 10 October; the campaign
    is overdue from the day after its due day only."""
    for n in range(7):
        CalendarDay.objects.create(day=dt.date(2026, 10, 1) + dt.timedelta(days=n), kind="HOLIDAY", name="国庆节")
    for day in (dt.date(2026, 9, 27), dt.date(2026, 10, 10)):
        CalendarDay.objects.create(day=day, kind="WORKDAY", name="调休上班")
    ProcedureLimit.objects.create(province_code="520000000000", step=ProcedureStep.CAMPAIGN, days=3, unit="WORKING")
    assert campaign_due_default(county_code=COUNTY, started_on=dt.date(2026, 9, 25)) == dt.date(2026, 9, 29)
    due = campaign_due_default(county_code=COUNTY, started_on=dt.date(2026, 9, 30))
    assert due == dt.date(2026, 10, 10)
    campaign = campaign_start(actor=world.users["county"], data=_input(started_on=dt.date(2026, 9, 30), due_on=None))
    assert campaign.due_on == due
    assert not campaign_is_overdue(campaign, today=dt.date(2026, 10, 9))
    assert not campaign_is_overdue(campaign, today=due)
    assert campaign_is_overdue(campaign, today=dt.date(2026, 10, 11))


@pytest.mark.parametrize("role", ["province", "city", "township", "village", "dept"])
def test_only_county_and_admin_start(world: World, role: str) -> None:
    with pytest.raises(PermissionDenied):
        campaign_start(actor=world.users[role], data=_input())


def test_admin_starts_for_a_county_they_choose_and_county_only_its_own(world: World) -> None:
    campaign = campaign_start(actor=world.users["admin"], data=_input(county_code="520102000000"))
    assert campaign.county_id == "520102000000"
    with pytest.raises(ValidationError) as exc:
        campaign_start(actor=world.users["county"], data=_input(county_code="520102000000"))
    assert "county" in exc.value.message_dict


def test_bad_input_names_the_field_and_writes_nothing(world: World) -> None:
    with pytest.raises(ValidationError) as exc:
        campaign_start(
            actor=world.users["county"],
            data=_input(
                selection=CampaignSelection.EXITED_IN_VILLAGES, villages=[], due_on=TODAY - dt.timedelta(days=1)
            ),
        )
    assert set(exc.value.message_dict) == {"villages", "due_on"}
    with pytest.raises(ValidationError) as exc:
        campaign_start(
            actor=world.users["county"], data=_input(selection=CampaignSelection.NEAR_LINE, line_factor=Decimal("9"))
        )
    assert "line_factor" in exc.value.message_dict
    assert not Campaign.objects.exists()


# -- completion -----------------------------------------------------------------------------------


def _campaign_over(world: World, households: list[Household], **over: object) -> Campaign:
    villages = sorted({h.village_id for h in households})
    for h in households:
        if h.household_type != HouseholdType.EXITED:
            Household.objects.filter(pk=h.pk).update(household_type=HouseholdType.EXITED, exit_year=2018)
    return campaign_start(
        actor=world.users["county"],
        data=_input(selection=CampaignSelection.EXITED_IN_VILLAGES, villages=villages, **over),
    )


def test_a_visit_after_the_start_completes_the_task(world: World) -> None:
    hh = world.households[V1]
    campaign = _campaign_over(world, [hh])
    village = world.users["village"]
    early = visit_record(
        actor=village, data=VisitInput(household_id=hh.pk, visited_on=TODAY - dt.timedelta(days=1), visitors="张")
    )
    task = CampaignTask.objects.get(campaign=campaign)
    assert task.state == TaskState.OPEN  # a visit dated before the campaign does not count
    outcome = visit_record(actor=village, data=VisitInput(household_id=hh.pk, visited_on=TODAY, visitors="张"))
    task.refresh_from_db()
    assert task.state == TaskState.DONE and task.done_via == TaskDoneVia.VISIT
    assert task.visit_id == outcome.visit.pk and task.done_on == TODAY and task.done_by == village
    assert early.visit.pk != outcome.visit.pk
    audit = AuditEntry.objects.get(object_type="campaign", action="tasks_done")
    assert audit.data["via"] == "VISIT" and audit.data["tasks"] == 1 and audit.data["households"] == [hh.pk]
    # a second visit changes nothing (idempotent: the first completion stays)
    visit_record(
        actor=village, data=VisitInput(household_id=hh.pk, visited_on=TODAY + dt.timedelta(days=2), visitors="张")
    )
    task.refresh_from_db()
    assert task.visit_id == outcome.visit.pk and task.done_on == TODAY
    assert AuditEntry.objects.filter(object_type="campaign", action="tasks_done").count() == 1


def test_an_import_that_changes_the_household_completes_it(tmp_path: Path, world: World) -> None:
    hh, other = world.households[V1], world.households[V2]
    campaign = _campaign_over(world, [hh, other], started_on=dt.date(2026, 1, 1))
    path = kind_sheet(
        tmp_path / "incomes.xlsx",
        "incomes",
        [
            {
                "户编号": hh.household_no,
                "年度": 2025,
                "家庭人口数": 2,
                "工资性收入": 12000,
                "生产经营净收入": 0,
                "财产净收入": 0,
                "转移净收入": 0,
            }
        ],
    )
    result = import_run(kind="incomes", source=str(path), user=world.users["county"], dry_run=True)
    assert result.ok and CampaignTask.objects.filter(state=TaskState.DONE).count() == 0  # a dry run writes nothing
    result = import_run(kind="incomes", source=str(path), user=world.users["county"], dry_run=False)
    assert result.ok, result.errors
    done = CampaignTask.objects.get(campaign=campaign, household=hh)
    assert done.state == TaskState.DONE and done.done_via == TaskDoneVia.DATA_UPDATE and done.visit_id is None
    assert done.done_by == world.users["county"]
    assert CampaignTask.objects.get(campaign=campaign, household=other).state == TaskState.OPEN
    # the same file again changes nothing: no row written, no completion, no audit row
    import_run(kind="incomes", source=str(path), user=world.users["county"], dry_run=False)
    assert AuditEntry.objects.filter(object_type="campaign", action="tasks_done").count() == 1


def test_a_household_import_by_the_system_completes_with_no_actor(tmp_path: Path, world: World) -> None:
    hh = world.households[V1]
    campaign = _campaign_over(world, [hh], started_on=dt.date(2026, 1, 1))
    hh.refresh_from_db()
    path = kind_sheet(
        tmp_path / "households.xlsx",
        "households",
        [{"户编号": hh.household_no, "村级区划代码": V1, "户类型": "脱贫户", "脱贫年度": 2018, "住址": "新地址 1 号"}],
    )
    result = import_run(kind="households", source=str(path), user=None, dry_run=False)
    assert result.ok, result.errors
    task = CampaignTask.objects.get(campaign=campaign)
    assert task.state == TaskState.DONE and task.done_by is None and task.done_via == TaskDoneVia.DATA_UPDATE
    audit = AuditEntry.objects.get(object_type="campaign", action="tasks_done")
    assert audit.actor is None


def test_completion_in_batches_is_set_based(world: World, django_assert_max_num_queries: object) -> None:
    Household.objects.bulk_create(
        [
            Household(household_no=f"Z{i:05d}", village_id=V1, household_type="EXITED", exit_year=2018)
            for i in range(500)
        ]
    )
    campaign = campaign_start(
        actor=world.users["county"], data=_input(selection=CampaignSelection.EXITED_IN_VILLAGES, villages=[V1])
    )
    ids = list(Household.objects.filter(household_no__startswith="Z").values_list("id", flat=True))
    with django_assert_max_num_queries(8):  # type: ignore[operator]
        n = campaign_tasks_complete(household_ids=ids, via=TaskDoneVia.DATA_UPDATE, on=TODAY, actor=None)
    assert n == 500
    assert not CampaignTask.objects.filter(campaign=campaign, state=TaskState.OPEN).exists()


def test_closing_is_audited_and_stops_completion(world: World) -> None:
    hh = world.households[V1]
    campaign = _campaign_over(world, [hh])
    county = world.users["county"]
    with pytest.raises(PermissionDenied):
        campaign_close(actor=world.users["township"], campaign_id=campaign.pk, today=TODAY)
    closed = campaign_close(actor=county, campaign_id=campaign.pk, today=TODAY, reason="年度结束")
    assert closed.state == CampaignState.CLOSED and closed.closed_on == TODAY and closed.closed_by == county
    audit = AuditEntry.objects.get(object_type="campaign", action="close")
    assert (audit.from_state, audit.to_state, audit.reason) == ("OPEN", "CLOSED", "年度结束")
    assert audit.data == {"tasks": 1, "open_tasks": 1}
    with pytest.raises(TransitionNotAllowed):
        campaign_close(actor=county, campaign_id=campaign.pk, today=TODAY)
    visit_record(actor=world.users["village"], data=VisitInput(household_id=hh.pk, visited_on=TODAY, visitors="张"))
    assert CampaignTask.objects.get(campaign=campaign).state == TaskState.OPEN
    with pytest.raises(ObjectOutOfScope):
        campaign_close(actor=world.users["admin"], campaign_id=10**6, today=TODAY)


# -- figures, pages, export, scoping ----------------------------------------------------------------


def _three_villages(world: World) -> tuple[Campaign, list[Household]]:
    extra = [_hh(V1), _hh(V1), _hh(V2), _hh(V3)]
    households = [world.households[V1], *extra]
    campaign = _campaign_over(world, households, due_on=TODAY + dt.timedelta(days=5))
    campaign_tasks_complete(household_ids=[households[0].pk, households[3].pk], via="VISIT", on=TODAY, actor=None)
    return campaign, households


def test_completion_per_village_and_township(world: World, django_assert_max_num_queries: object) -> None:
    campaign, _ = _three_villages(world)
    with django_assert_max_num_queries(2):  # type: ignore[operator]
        c = campaign_completion(user=world.users["county"], campaign=campaign, today=TODAY)
    assert (c.total.total, c.total.done, c.total.overdue) == (5, 2, 0)
    t1, t2 = c.townships
    assert t1.code == "520101001000" and (t1.total, t1.done) == (4, 2)
    assert [(v.code, v.total, v.done, str(v.percent)) for v in t1.villages] == [(V1, 3, 1, "33.3"), (V2, 1, 1, "100.0")]
    assert t2.code == "520101002000" and (t2.total, t2.done, str(t2.percent)) == (1, 0, "0.0")
    late = campaign_completion(user=world.users["county"], campaign=campaign, today=TODAY + dt.timedelta(days=6))
    assert late.overdue_now and late.total.overdue == 3 and late.townships[0].overdue == 2
    on_due_day = campaign_completion(user=world.users["county"], campaign=campaign, today=TODAY + dt.timedelta(days=5))
    assert on_due_day.total.overdue == 0
    # a township sees only its villages
    own = campaign_completion(user=world.users["township"], campaign=campaign, today=TODAY)
    assert [t.code for t in own.townships] == ["520101001000"] and own.total.total == 4


def test_pages_for_the_county(world: World) -> None:
    campaign, households = _three_villages(world)
    client = world.client_for("county")
    listing = client.get(reverse("monitoring:campaigns"))
    assert listing.status_code == 200 and campaign.name in listing.content.decode()
    assert reverse("monitoring:campaign_start") in listing.content.decode()
    page = client.get(reverse("monitoring:campaign", args=[campaign.pk]))
    body = page.content.decode()
    assert (
        page.status_code == 200
        and "33.3%" in body
        and reverse("monitoring:campaign_village", args=[campaign.pk, V1]) in body
    )
    village_page = client.get(reverse("monitoring:campaign_village", args=[campaign.pk, V1]))
    assert village_page.status_code == 200
    assert village_page.content.decode().count('data-testid="task-row"') == 3
    assert f"{reverse('monitoring:visit_new')}?household={households[1].pk}" in village_page.content.decode()
    assert client.get(reverse("monitoring:campaign_start")).status_code == 200


def test_start_form_creates_and_a_resend_does_not_duplicate(world: World) -> None:
    _hh(V1, household_type=HouseholdType.EXITED, exit_year=2018)
    client = world.client_for("county")
    token = str(uuid.uuid4())
    form = {
        "kind": "REVISIT",
        "name": "春季回头看",
        "year": "2026",
        "selection": "EXITED_IN_VILLAGES",
        "villages": f"{V1}，{V2}",
        "line_factor": "1.5",
        "started_on": "2026-03-02",
        "due_on": "",
        "client_uuid": token,
    }
    first = client.post(reverse("monitoring:campaign_start"), form)
    campaign = Campaign.objects.get()
    assert first.status_code == 302 and first["Location"] == reverse("monitoring:campaign", args=[campaign.pk])
    client.post(reverse("monitoring:campaign_start"), form)
    assert Campaign.objects.count() == 1 and campaign.villages == [V1, V2]
    bad = client.post(
        reverse("monitoring:campaign_start"), {**form, "client_uuid": str(uuid.uuid4()), "villages": "999"}
    )
    assert bad.status_code == 200 and "村级区划代码 999 不存在" in bad.content.decode()


def test_scoping(world: World) -> None:
    campaign, _ = _three_villages(world)
    other = campaign_start(actor=world.users["admin"], data=_input(county_code="520102000000", name="邻县回头看"))
    county = world.client_for("county")
    assert county.get(reverse("monitoring:campaign", args=[other.pk])).status_code == 404
    assert county.get(reverse("monitoring:campaign_xlsx", args=[other.pk])).status_code == 404
    assert county.get(reverse("monitoring:campaign_village", args=[other.pk, "520102001001"])).status_code == 404
    assert county.post(reverse("monitoring:campaign_close", args=[other.pk])).status_code == 404
    assert other.name not in county.get(reverse("monitoring:campaigns")).content.decode()
    # the city sees both, the other province none
    city = world.client_for("city")
    body = city.get(reverse("monitoring:campaigns")).content.decode()
    assert campaign.name in body and other.name in body
    # the village sees only its own village's tasks
    village = world.client_for("village")
    assert village.get(reverse("monitoring:campaign_village", args=[campaign.pk, V1])).status_code == 200
    assert village.get(reverse("monitoring:campaign_village", args=[campaign.pk, V2])).status_code == 404
    page = village.get(reverse("monitoring:campaign", args=[campaign.pk])).content.decode()
    assert page.count('data-testid="village-row"') == 1
    assert village.get(reverse("monitoring:campaign_start")).status_code == 403
    assert village.post(reverse("monitoring:campaign_close", args=[campaign.pk])).status_code == 403
    assert world.client_for("dept").get(reverse("monitoring:campaigns")).status_code == 403


def test_cadre_home_shows_open_tasks(world: World) -> None:
    campaign, households = _three_villages(world)
    items = campaign_tasks_for_home(user=world.users["village"], today=TODAY)
    assert len(items) == 1 and items[0].open == 2 and items[0].total == 3
    assert {t.household_id for t in items[0].tasks} == {households[1].pk, households[2].pk}
    body = world.client_for("village").get(reverse("monitoring:cadre_home")).content.decode()
    assert 'data-testid="cadre-campaigns"' in body
    assert reverse("monitoring:campaign_village", args=[campaign.pk, V1]) in body
    campaign_close(actor=world.users["county"], campaign_id=campaign.pk, today=TODAY)
    assert campaign_tasks_for_home(user=world.users["village"], today=TODAY) == []


def test_export_has_completion_and_task_rows_and_is_audited(world: World) -> None:
    campaign, households = _three_villages(world)
    Household.objects.filter(pk=households[1].pk).update(household_no="=HYPERLINK(1)")
    response = world.client_for("county").get(reverse("monitoring:campaign_xlsx", args=[campaign.pk]))
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.content))
    summary, tasks = wb["完成情况"], wb["农户任务"]
    rows = list(summary.iter_rows(values_only=True))
    assert rows[1][:4] == ("乡镇", "村", "区划代码", "任务户数")
    # the view counts with today's date: the campaign's due date (2026-03-07) is past, open tasks are 逾期
    assert ("区划520101001000", "村001001", V1, 3, 1, 2, 33.3, 2) in rows
    assert rows[-1][:7] == ("合计", None, None, 5, 2, 3, 40.0)
    task_rows = list(tasks.iter_rows(values_only=True))
    assert task_rows[0] == ("户编号", "户主姓名", "村", "乡镇", "状态", "完成日期", "完成方式")
    assert len(task_rows) == 6
    assert "'=HYPERLINK(1)" in [r[0] for r in task_rows]  # a formula is written as text
    head = next(r for r in task_rows if r[0] == world.households[V1].household_no)
    assert head[1] == "户主001001" and head[4] == "已完成" and head[6] == "走访"
    assert sorted(r[4] for r in task_rows[1:]).count("逾期未完成") == 3  # open past the due date: as the page says
    # no 身份证号 or phone anywhere in the file
    text = " ".join(str(c) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for c in r if c)
    assert "13812345678" not in text
    audit = AuditEntry.objects.get(object_type="export", object_id="campaign")
    assert audit.data["rows"] == 5 and audit.data["campaign"] == campaign.pk
    assert world.client_for("township").get(reverse("monitoring:campaign_xlsx", args=[campaign.pk])).status_code == 403


def test_export_shows_stored_ooxml_escapes_as_they_are(world: World) -> None:
    """A stored ``_x003D_…`` is written so that Excel and python-calamine show it as it is stored,
    not decoded to ``=HYPERLINK(…)`` (openpyxl writes text unescaped)."""
    from python_calamine import CalamineWorkbook

    from monitoring.models import Member, Region

    campaign, households = _three_villages(world)
    Household.objects.filter(pk=households[1].pk).update(household_no='_x003D_HYPERLINK("http://evil")')
    Member.objects.filter(household=households[0], relation="HEAD").update(name="_x0041_")
    Region.objects.filter(code=V3).update(name="a_x005F_b")
    response = world.client_for("county").get(reverse("monitoring:campaign_xlsx", args=[campaign.pk]))
    assert response.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    tasks = book.get_sheet_by_name("农户任务").to_python()
    summary = book.get_sheet_by_name("完成情况").to_python()
    assert '_x003D_HYPERLINK("http://evil")' in [r[0] for r in tasks]
    assert next(r for r in tasks if r[0] == households[0].household_no)[1] == "_x0041_"
    assert "a_x005F_b" in [r[2] for r in tasks] and "a_x005F_b" in [r[1] for r in summary]
    assert not any(str(c).startswith("=") for rows in (tasks, summary) for r in rows for c in r)


def test_a_household_change_accepted_by_the_county_completes_it(tmp_path: Path, world: World) -> None:
    from monitoring.models import HouseholdChange
    from monitoring.services.household_changes import household_change_accept

    hh = world.households[V1]
    TargetFactory(household=hh)
    campaign = campaign_start(actor=world.users["county"], data=_input(started_on=dt.date(2026, 1, 1)))
    path = kind_sheet(
        tmp_path / "households.xlsx",
        "households",
        [{"户编号": hh.household_no, "村级区划代码": V1, "户类型": "脱贫户", "脱贫年度": 2019, "联系电话": hh.phone}],
    )
    result = import_run(kind="households", source=str(path), user=world.users["county"], dry_run=False)
    assert result.ok and result.extra.get("changes_pending") == 1
    task = CampaignTask.objects.get(campaign=campaign)
    assert task.state == TaskState.OPEN  # a change waiting for the county changed nothing yet
    household_change_accept(actor=world.users["county"], change_id=HouseholdChange.objects.get().pk)
    task.refresh_from_db()
    assert task.state == TaskState.DONE and task.done_via == TaskDoneVia.DATA_UPDATE
    assert task.done_by == world.users["county"]


@pytest.mark.parametrize(
    ("role", "where"), [("county", "nav"), ("province", "home"), ("city", "home"), ("township", "home")]
)
def test_the_list_is_reached_by_a_link(world: World, role: str, where: str) -> None:
    client = world.client_for(role)
    body = client.get(reverse("home")).content.decode()
    link = f'href="{reverse("monitoring:campaigns")}"'
    assert link in body
    if where == "home":
        assert 'data-testid="home-campaigns"' in body


def test_all_targets_takes_targets_confirmed_through_the_workflow(world: World) -> None:
    from monitoring.services.review import lead_confirm_direct
    from tests.monitoring.review_helpers import decision, lead_in

    lead = lead_in(world.households[V2])
    lead_confirm_direct(lead_id=lead.pk, actor=world.users["county"], decision=decision(), reason="情况紧急")
    campaign = campaign_start(actor=world.users["county"], data=_input())
    assert list(CampaignTask.objects.filter(campaign=campaign).values_list("household_id", "village_code")) == [
        (world.households[V2].pk, V2)
    ]
