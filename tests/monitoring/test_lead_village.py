"""A lead holds its household's village (the scope of leads reads it, so a province's queue counts its
leads without reading every household): every writer copies it, a household moved by an import
takes its leads along, and the migration copied it for the leads already stored."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.db.models import F
from django.test import Client
from django.urls import reverse

from fanpin.core.models import AuditEntry
from fanpin.core.roles import Role
from monitoring.models import ChangeKind, Household, HouseholdChange, Lead, LeadSource, Region, ScreeningRun
from monitoring.services.imports.pipeline import import_run
from monitoring.services.lead_village import counties_lock
from monitoring.services.review_bulk import LeadRequest, leads_raise_or_merge_many
from tests.conftest import World
from tests.factories import HouseholdFactory, IncomeFactory, LeadFactory, region, user
from tests.monitoring.screening_helpers import YEAR, household, screen, setup_lines
from tests.monitoring.xlsx import kind_sheet

pytestmark = pytest.mark.django_db


def _mismatched() -> list[int]:
    return list(Lead.objects.exclude(village_id=F("household__village_id")).values_list("pk", flat=True))


def test_screening_and_the_bulk_sources_write_the_households_village(world: World) -> None:
    setup_lines()
    homes = [household(village=code) for code in ("520101001001", "520101002001", "520102001001")]
    for home in homes:
        IncomeFactory(household=home, year=YEAR, family_size=4, wage_income=Decimal("100.00"))
    screen("520000000000")  # a province: the region-wide (staged) path
    assert Lead.objects.filter(household__in=homes).count() == 3
    Lead.objects.all().delete()
    screen("520101000000")  # a county on its own
    assert Lead.objects.filter(household__in=homes).count() == 2
    other = HouseholdFactory(village_id="520101002001")
    leads_raise_or_merge_many(
        requests=[LeadRequest(other.pk, [{"note": "民政"}])], source=LeadSource.DEPARTMENT_ALERT, actor=None
    )
    assert Lead.objects.filter(household=other).count() == 1
    assert _mismatched() == []
    county = world.users["county"]
    assert set(Lead.objects.for_user(county).values_list("household_id", flat=True)) == {
        homes[0].pk,
        homes[1].pk,
        other.pk,
    }


def test_a_household_moved_by_an_import_takes_its_leads_along(tmp_path: Path, world: World) -> None:
    moving = world.households["520101001001"]
    lead = LeadFactory(household=moving)
    old = LeadFactory(
        household=moving,
        state="REJECTED",
        decided_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
        rejection_reason="收入达标",
    )
    staying = LeadFactory(household=world.households["520101002001"])
    # a 户类型 change proposed earlier and still waiting for the county
    waiting = HouseholdChange.objects.create(
        kind=ChangeKind.TYPE, household=moving, region_code="520101001001", source="IMPORT",
        before={"household_type": moving.household_type, "exit_year": None},
        after={"household_type": "MONITORED", "exit_year": None},
    )  # fmt: skip
    here, there = world.users["county"], user("county-b", Role.COUNTY, "520102000000")
    assert Lead.objects.for_user(here).filter(pk=lead.pk).exists()
    row = {"户编号": moving.household_no, "村级区划代码": "520102001001", "户类型": "一般农户"}
    result = import_run(
        kind="households",
        source=str(kind_sheet(tmp_path / "h.xlsx", "households", [row])),
        user=world.users["province"],
    )
    assert result.ok, result.errors
    assert Household.objects.get(pk=moving.pk).village_id == "520102001001"
    assert _mismatched() == []
    assert set(Lead.objects.filter(pk__in=[lead.pk, old.pk]).values_list("village_id", flat=True)) == {"520102001001"}
    assert Lead.objects.get(pk=staying.pk).village_id == "520101002001"
    assert not Lead.objects.for_user(here).filter(pk__in=[lead.pk, old.pk]).exists()
    assert Lead.objects.for_user(there).filter(pk__in=[lead.pk, old.pk]).count() == 2
    # each moved lead's trail says so: who, from which village to which, by which import
    moves = AuditEntry.objects.filter(object_type="lead", action="move").order_by("object_id")
    assert [(m.object_id, m.actor, m.from_state, m.to_state, m.region_code, m.data) for m in moves] == [
        (str(lead.pk), world.users["province"], lead.state, lead.state, "520102001001",
         {"from_village": "520101001001", "to_village": "520102001001", "import_job": None}),
        (str(old.pk), world.users["province"], "REJECTED", "REJECTED", "520102001001",
         {"from_village": "520101001001", "to_village": "520102001001", "import_job": None}),
    ]  # fmt: skip
    client = Client()
    client.force_login(there)
    page = client.get(reverse("monitoring:lead_detail", args=[lead.pk])).content.decode()
    names = dict(Region.objects.filter(code__in=["520101001001", "520102001001"]).values_list("code", "name"))
    shown = f"农户迁移：{names['520101001001']}（520101001001）→ {names['520102001001']}（520102001001）"
    assert "随农户迁移" in page and shown in page
    # … and so does the change waiting for the county: the household's new county decides it
    waiting.refresh_from_db()
    assert (waiting.region_code, waiting.state) == ("520102001001", "PENDING")
    assert HouseholdChange.objects.for_user(there).filter(pk=waiting.pk).exists()
    assert not HouseholdChange.objects.for_user(here).filter(pk=waiting.pk).exists()
    trail = AuditEntry.objects.get(object_type="household_change", object_id=str(waiting.pk), action="move")
    assert (trail.actor, trail.from_state, trail.to_state, trail.reason) == (
        world.users["province"],
        "PENDING",
        "PENDING",
        shown,
    )
    # an import that changes nothing else leaves the leads as they are
    result = import_run(
        kind="households",
        source=str(kind_sheet(tmp_path / "h2.xlsx", "households", [row])),
        user=world.users["province"],
    )
    assert result.ok and _mismatched() == []
    assert moves.count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_migration_copies_the_village_of_every_stored_lead() -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("monitoring", "0034_campaigns")]
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    try:
        for code in ("520101001001", "520102001001"):
            region(code)  # today's model; the table is the same
        households = old.get_model("monitoring", "Household").objects
        leads = old.get_model("monitoring", "Lead").objects
        at = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        made = {}
        for code in ("520101001001", "520102001001"):
            household = households.create(household_no=f"M{code}", village_id=code, household_type="GENERAL")
            made[code] = leads.create(household=household, state="NEW", year=2025, raised_at=at, sources=["SCREENING"])
        MigrationExecutor(connection).migrate(leaves)
        for code, lead in made.items():
            assert Lead.objects.get(pk=lead.pk).village_id == code
    finally:
        MigrationExecutor(connection).migrate(leaves)
        Lead.objects.all().delete()
        Household.objects.all().delete()


# --- the county lock: a move and a lead being written wait for each other ------------------------


def _hold_county_lock(village: str, *, then: Callable[[], None] | None = None) -> tuple[Any, threading.Event]:
    """A thread that takes the county lock of ``village`` (as a screening write holds it), runs
    ``then`` under it when released, and commits."""
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                counties_lock(village_codes=[village])
                locked.set()
                release.wait(20)
                if then is not None:
                    then()
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    assert locked.wait(20)
    return thread, release


def _in_thread(action: Callable[[], Any]) -> tuple[threading.Event, dict[str, Any]]:
    done, out = threading.Event(), {}

    def run() -> None:
        try:
            out["result"] = action()
        except Exception as exc:  # the outcome is what the test compares
            out["result"] = exc
        finally:
            done.set()
            connections.close_all()

    threading.Thread(target=run).start()
    return done, out


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
def test_a_move_waits_for_the_county_and_finds_the_lead_written_meanwhile(tmp_path: Path, world: World) -> None:
    moving = world.households["520101001001"]

    def raise_lead() -> None:  # a lead written under the lock with the village it read under it
        village = Household.objects.values_list("village_id", flat=True).get(pk=moving.pk)
        LeadFactory(household=moving, village_id=village)

    holder, release = _hold_county_lock("520101001001", then=raise_lead)
    row = {"户编号": moving.household_no, "村级区划代码": "520102001001", "户类型": "一般农户"}
    sheet = kind_sheet(tmp_path / "h.xlsx", "households", [row])
    done, out = _in_thread(lambda: import_run(kind="households", source=str(sheet), user=world.users["province"]))
    assert not done.wait(1.5), out  # the move waits for the county's writer
    release.set()
    holder.join(20)
    assert done.wait(30) and out["result"].ok, out
    assert Lead.objects.get(household=moving).village_id == "520102001001"  # found and taken along
    assert _mismatched() == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
def test_a_source_raising_a_lead_waits_for_the_county_lock(world: World) -> None:
    household = world.households["520101001001"]
    holder, release = _hold_county_lock("520101001001")
    done, out = _in_thread(
        lambda: leads_raise_or_merge_many(
            requests=[LeadRequest(household.pk, [{"note": "民政"}])], source=LeadSource.DEPARTMENT_ALERT, actor=None
        )
    )
    assert not done.wait(1.5), out  # the source waits while screening writes the county
    release.set()
    holder.join(20)
    assert done.wait(30) and not isinstance(out["result"], Exception), out
    assert Lead.objects.get(household=household).village_id == household.village_id


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
def test_a_source_finds_a_household_moved_twice_while_it_took_the_locks(
    tmp_path: Path, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A source reads the household (county A), an import moves it to county B before the source holds
    A's lock, and another import moves it on to county C before the source holds B's: the lead is
    written with C's village, not with the B it read between the two locks."""
    from monitoring.services import lead_village

    region("520103001001")
    moving = world.households["520101001001"]
    moves = iter(["520102001001", "520103001001"])
    real_lock = lead_village.counties_lock

    def move_then_lock(*, village_codes: Any) -> None:
        # the source's locks only (the imports run in threads of their own)
        village = next(moves, None) if threading.current_thread() is threading.main_thread() else None
        if village is not None:  # another import commits this move just before the source locks
            row = {"户编号": moving.household_no, "村级区划代码": village, "户类型": "一般农户"}
            sheet = kind_sheet(tmp_path / f"{village}.xlsx", "households", [row])
            done, out = _in_thread(
                lambda: import_run(kind="households", source=str(sheet), user=world.users["province"])
            )
            assert done.wait(30) and out["result"].ok, out
        real_lock(village_codes=village_codes)

    monkeypatch.setattr(lead_village, "counties_lock", move_then_lock)
    leads_raise_or_merge_many(
        requests=[LeadRequest(moving.pk, [{"note": "民政"}])], source=LeadSource.DEPARTMENT_ALERT, actor=None
    )
    assert Household.objects.get(pk=moving.pk).village_id == "520103001001"
    assert Lead.objects.get(household=moving).village_id == "520103001001"
    assert _mismatched() == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
def test_screening_from_an_older_stage_writes_no_lead_outside_its_county(
    tmp_path: Path, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A province run stages county A's household; an import moves it to county B before A's step
    holds A's lock, and another import moves it on to county C (locking B and C, not A) while A's
    step is writing: A's step must not write a lead for a household outside A (it would keep B's
    village, seen by B and not by C)."""
    from monitoring.services import screening_counties

    setup_lines()
    region("520103001001")
    moving = household(village="520101001001")
    IncomeFactory(household=moving, year=YEAR, family_size=4, wage_income=Decimal("100.00"))

    def move(village: str) -> None:  # another import, in its own transaction, committed
        row = {"户编号": moving.household_no, "村级区划代码": village, "户类型": "一般农户"}
        sheet = kind_sheet(tmp_path / f"{village}.xlsx", "households", [row])
        done, out = _in_thread(lambda: import_run(kind="households", source=str(sheet), user=world.users["province"]))
        assert done.wait(30) and out["result"].ok, out

    moves = {"520101000000": "520102001001"}
    real_lock = screening_counties.counties_lock

    def move_then_lock(*, village_codes: Any) -> None:
        village = moves.pop(next(iter(village_codes)), None)
        if village is not None:
            move(village)
        real_lock(village_codes=village_codes)

    second: list[tuple[threading.Event, dict[str, Any]]] = []
    waited: list[bool] = []
    written: list[str] = []

    def second_import_meanwhile() -> None:
        if Household.objects.filter(pk=moving.pk, village_id="520102001001").exists() and not second:
            # the second import starts while the step writes; since session 12 a step holds the
            # locks of its whole batch of counties (B and C too), so the import waits for the step's
            # commit (waiting for it here, as before, only timed out after 30 s: flaky under load)
            row = {"户编号": moving.household_no, "村级区划代码": "520103001001", "户类型": "一般农户"}
            sheet = kind_sheet(tmp_path / "520103001001.xlsx", "households", [row])
            second.append(
                _in_thread(lambda: import_run(kind="households", source=str(sheet), user=world.users["province"]))
            )
            waited.append(not second[0][0].wait(1))  # it waits for the county locks the step holds
            # what the step has written so far (its own transaction): no lead of the moved household
            written.extend(Lead.objects.filter(household=moving).values_list("village_id", flat=True))

    def then_second_import(write: Any) -> Any:
        """The step's writer (a county alone, or a batch together), then the second import."""

        def wrapper(**kwargs: Any) -> Any:
            result = write(**kwargs)
            second_import_meanwhile()
            return result

        return wrapper

    monkeypatch.setattr(screening_counties, "counties_lock", move_then_lock)
    for writer in ("staged_leads_write", "staged_counties_write"):
        monkeypatch.setattr(screening_counties, writer, then_second_import(getattr(screening_counties, writer)))
    screen("520000000000")
    assert second, "the second import never started"
    assert (waited, written) == ([True], [])
    assert ScreeningRun.objects.get(region_id="520000000000").status == "SUCCEEDED"
    done, out = second[0]
    assert done.wait(30) and out["result"].ok, out
    assert Household.objects.get(pk=moving.pk).village_id == "520103001001"
    assert _mismatched() == []  # no lead of the household outside C (the stale step wrote none)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
def test_an_import_moving_a_household_another_import_just_moved_waits_for_its_county(
    tmp_path: Path, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import reads a household in county A and means to move it to B; before it locks A and B
    another import moves it to C, and a source writes a lead there (under C's lock, not yet
    committed).  The first import must wait for C's lock and take that lead along to B."""
    from monitoring.services.imports.kinds import registry as kinds  # the households kind takes the locks

    region("520103001001")
    moving = world.households["520101001001"]
    real_lock = kinds.counties_lock
    writer: dict[str, Any] = {}

    def write_lead_in_c() -> None:
        with transaction.atomic():
            counties_lock(village_codes=["520103001001"])
            village = Household.objects.values_list("village_id", flat=True).get(pk=moving.pk)
            LeadFactory(household=moving, village_id=village)
            writer["written"].set()
            writer["release"].wait(3)  # commits after 3 s, or when the test lets it

    def move_first_then_lock(*, village_codes: Any) -> None:
        if not writer:
            writer["started"] = True  # the other import (below) locks as it always does
            row = {"户编号": moving.household_no, "村级区划代码": "520103001001", "户类型": "一般农户"}
            sheet = kind_sheet(tmp_path / "c.xlsx", "households", [row])
            done, out = _in_thread(
                lambda: import_run(kind="households", source=str(sheet), user=world.users["province"])
            )
            assert done.wait(30) and out["result"].ok, out
            writer.update(written=threading.Event(), release=threading.Event())
            writer["done"], _ = _in_thread(write_lead_in_c)
            assert writer["written"].wait(20)
        real_lock(village_codes=village_codes)

    monkeypatch.setattr(kinds, "counties_lock", move_first_then_lock)
    row = {"户编号": moving.household_no, "村级区划代码": "520102001001", "户类型": "一般农户"}
    result = import_run(
        kind="households",
        source=str(kind_sheet(tmp_path / "b.xlsx", "households", [row])),
        user=world.users["province"],
    )
    writer["release"].set()
    assert writer["done"].wait(20)
    assert result.ok, result.errors
    assert Household.objects.get(pk=moving.pk).village_id == "520102001001"
    assert _mismatched() == []
