"""Issue 16: one ledger of rigid expenditures (SPEC §2).

An expense is household + category + date + amount whatever key (户编号 or 身份证号) or source
(import, department alert, 医保 extract) brought it; for 医疗 in a year a member counts the larger of
the 医保 extract total and its other records, never both.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitoring.models import (
    AlertOrigin,
    AnnualIncome,
    DepartmentAlert,
    Household,
    Lead,
    Member,
    RigidExpenditure,
    ScreeningRule,
)
from monitoring.selectors.screening_sql import RuleSettings, screening_evaluate
from monitoring.services.alerts import alerts_write, medical_settlements_write
from monitoring.services.imports.pipeline import import_run
from tests.conftest import World
from tests.factories import MemberFactory
from tests.monitoring.screening_helpers import COUNTY, screen, setup_lines
from tests.monitoring.xlsx import kind_sheet

pytestmark = pytest.mark.django_db

VILLAGE = "520101001001"
YEAR = 2024


def expense_row(household: Household | None, member: Member | None, **over: Any) -> dict[str, Any]:
    row = {
        "户编号": household.household_no if household else None,
        "身份证号": member.id_number if member else None,
        "支出类别": "医疗",
        "发生日期": "2024-05-01",
        "支出金额": 6000,
        "报销金额": 1000,
        "说明": "住院",
    }
    row.update(over)
    return row


def imported(tmp_path: Path, name: str, rows: list[dict[str, Any]]) -> Any:
    result = import_run(kind="expenditures", source=str(kind_sheet(tmp_path / name, "expenditures", rows)), user=None)
    assert result.ok, result.errors
    return result


def ledger(household: Household) -> list[tuple[Any, ...]]:
    return sorted(
        RigidExpenditure.objects.filter(household=household).values_list(
            "id", "category", "occurred_on", "amount", "reimbursed"
        )
    )


def counted_fen(household: Household, year: int = YEAR) -> tuple[int, tuple[int, int, int]]:
    """Out-of-pocket screening counts for the household in ``year`` (fen), and its 医疗 basis.
    A previous-year income of 0.01 元 makes any spending fire 刚性支出骤增, so the row is returned."""
    AnnualIncome.objects.update_or_create(
        household=household,
        year=year - 1,
        defaults={
            "family_size": 1,
            "wage_income": Decimal("0.01"),
            "business_income": 0,
            "property_income": 0,
            "transfer_income": 0,
        },
    )
    rules = RuleSettings(line=None, spike_ratio=Decimal("1"), drop_ratio=Decimal("0.3"), drop_line_multiple=Decimal(2))
    fired, _counts = screening_evaluate(prefix=household.village_id[:6], year=year, rules=rules)
    for row in fired:
        if row.household_id == household.pk:
            return sum(row.oop_fen.values()), row.medical_basis_fen
    return 0, (0, 0, 0)


# --- one expense, two keys ---------------------------------------------------------------------


def test_reimporting_by_id_number_after_household_number_leaves_the_ledger_unchanged(
    world: World, tmp_path: Path
) -> None:
    hh = world.households[VILLAGE]
    member = hh.members.get()
    rows = [expense_row(hh, None), expense_row(hh, None, 支出类别="教育", 发生日期="2024-09-01", 支出金额=3000)]
    imported(tmp_path, "by-household.xlsx", rows)
    before = ledger(hh)
    by_id = [{**r, "户编号": None, "身份证号": member.id_number} for r in rows]
    second = imported(tmp_path, "by-id.xlsx", by_id)
    assert second.created == 0
    assert ledger(hh) == before  # the same expenses, amounts and reimbursements: nothing added
    # the member who reported them is now recorded on them; a third import changes nothing at all
    assert set(RigidExpenditure.objects.filter(household=hh).values_list("member_id", flat=True)) == {member.pk}
    third = imported(tmp_path, "by-household-again.xlsx", rows)
    assert (third.created, third.updated, third.unchanged) == (0, 0, 2)
    assert ledger(hh) == before


def test_the_same_expense_twice_in_one_file_is_one_expense(world: World, tmp_path: Path) -> None:
    hh = world.households[VILLAGE]
    member = hh.members.get()
    result = imported(tmp_path, "both.xlsx", [expense_row(hh, None), expense_row(None, member)])
    assert result.created == 1
    (row,) = RigidExpenditure.objects.filter(household=hh)
    assert (row.amount, row.member_id, row.source_import) == (Decimal("6000.00"), member.pk, True)


def test_a_doubled_expense_no_longer_fires_expenditure_spike(world: World, tmp_path: Path) -> None:
    """Out-of-pocket 5 000 元 against a previous-year income of 8 000 元: imported once by 户编号 and
    once by 身份证号 it used to count 10 000 元 and fire 刚性支出骤增."""
    setup_lines()
    hh = world.households[VILLAGE]
    member = hh.members.get()
    for year, wage in ((YEAR - 1, "8000"), (YEAR, "100000")):
        AnnualIncome.objects.create(
            household=hh,
            year=year,
            family_size=1,
            wage_income=Decimal(wage),
            business_income=0,
            property_income=0,
            transfer_income=0,
        )
    imported(tmp_path, "a.xlsx", [expense_row(hh, None)])
    imported(tmp_path, "b.xlsx", [expense_row(None, member)])
    screen(COUNTY)
    assert not Lead.objects.filter(household=hh).exists()
    assert counted_fen(hh)[0] == 500000


def test_reimbursed_above_amount_is_still_refused(world: World, tmp_path: Path) -> None:
    hh = world.households[VILLAGE]
    sheet = kind_sheet(tmp_path / "bad.xlsx", "expenditures", [expense_row(hh, None, 报销金额=7000)])
    result = import_run(kind="expenditures", source=str(sheet), user=None)
    assert not result.ok and result.errors[0].message == "报销金额不能大于支出金额。"
    assert not RigidExpenditure.objects.exists()


# --- 医保 extract and the other records ----------------------------------------------------------


def extract_line(member: Member, amount: str, year: int = YEAR) -> None:
    batch = medical_settlements_write(
        user=None, items=[{"id_number": member.id_number, "year": year, "out_of_pocket": Decimal(amount)}]
    )
    assert batch.alert_ids[0] is not None  # at or above the general threshold (20 000 元): in the ledger


def department_alert(member: Member, key: str, amount: str, day: str = "2024-03-14") -> None:
    alerts_write(
        user=None,
        items=[
            {
                "idempotency_key": key,
                "id_number": member.id_number,
                "name": member.name,
                "alert_type": "MEDICAL",
                "alert_date": dt.date.fromisoformat(day),
                "amount": Decimal(amount),
                "department": "卫健",
            }
        ],
    )


def test_an_extract_line_and_a_department_record_count_once_the_larger(world: World, tmp_path: Path) -> None:
    hh = world.households[VILLAGE]
    member = hh.members.get()
    extract_line(member, "30000")
    department_alert(member, "w1", "8000")
    imported(tmp_path, "a.xlsx", [expense_row(None, member, 支出金额=4000, 报销金额=0)])
    assert RigidExpenditure.objects.filter(household=hh).count() == 3  # every record is kept
    # 30 000 (extract) > 8 000 + 4 000 (records): the extract counts, the records are set aside
    assert counted_fen(hh) == (3000000, (3000000, 0, 1200000))

    # The records grow past the extract total: now they count, and the extract is set aside.
    department_alert(member, "w2", "25000", day="2024-08-01")
    assert counted_fen(hh) == (3700000, (0, 3700000, 3000000))


def test_the_extract_of_one_member_does_not_absorb_another_member_records(world: World, tmp_path: Path) -> None:
    hh = world.households[VILLAGE]
    head = hh.members.get()
    spouse = MemberFactory(household=hh, relation="SPOUSE")
    extract_line(head, "30000")
    imported(tmp_path, "a.xlsx", [expense_row(None, spouse, 支出金额=9000, 报销金额=0)])
    assert counted_fen(hh)[0] == 3900000


def test_the_lead_evidence_shows_which_medical_figure_counted(world: World) -> None:
    setup_lines()
    hh = world.households[VILLAGE]
    member = hh.members.get()
    AnnualIncome.objects.create(
        household=hh,
        year=YEAR - 1,
        family_size=1,
        wage_income=Decimal("10000"),
        business_income=0,
        property_income=0,
        transfer_income=0,
    )
    extract_line(member, "30000")
    department_alert(member, "w1", "8000")
    Lead.objects.all().delete()  # the alerts' own lead: screening's evidence is what is looked at
    screen(COUNTY)
    evidence = Lead.objects.get(household=hh).evidence["SCREENING"]["rules"][ScreeningRule.EXPENDITURE_SPIKE]
    assert evidence["out_of_pocket_total"] == "30000.00"
    assert (evidence["medical_extract"], evidence["medical_records"], evidence["medical_set_aside"]) == (
        "30000.00",
        "0.00",
        "8000.00",
    )


def test_the_household_page_shows_the_sources(world: World, tmp_path: Path) -> None:
    from django.test import Client
    from django.urls import reverse

    hh = world.households[VILLAGE]
    member = hh.members.get()
    imported(tmp_path, "a.xlsx", [expense_row(None, member, 支出金额=8000, 报销金额=0, 发生日期="2024-03-14")])
    department_alert(member, "w1", "8000")
    client = Client()
    client.force_login(world.users["county"])
    body = client.get(reverse("monitoring:household_detail", args=[hh.pk])).content.decode()
    assert "登记导入、部门预警" in body and body.count("8,000.00") >= 1


# --- property: never more than the distinct expenses -------------------------------------------

report_st = st.tuples(
    st.sampled_from(["household", "id", "alert", "extract"]),
    st.sampled_from(["MEDICAL", "DISASTER", "EDUCATION"]),
    st.integers(1, 3),  # day of March
    st.sampled_from([Decimal("1000.00"), Decimal("2500.00"), Decimal("21000.00")]),
    st.sampled_from([Decimal("0.00"), Decimal("500.00")]),
    st.integers(0, 1),  # which member
)
CATEGORY_LABELS = {"MEDICAL": "医疗", "DISASTER": "灾害", "EDUCATION": "教育"}


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reports=st.lists(report_st, min_size=1, max_size=8))
def test_out_of_pocket_never_exceeds_the_distinct_expenses(world: World, tmp_path: Path, reports: list) -> None:
    with transaction.atomic():
        hh = world.households[VILLAGE]
        members = [hh.members.get(), MemberFactory(household=hh, relation="SPOUSE")]
        bound: dict[tuple[Any, ...], Decimal] = {}  # distinct expense → the most out-of-pocket reported
        for n, (channel, category, day, amount, reimbursed, who) in enumerate(reports):
            member = members[who]
            occurred = dt.date(YEAR, 3, day)
            if channel in ("household", "id"):
                row = expense_row(
                    hh if channel == "household" else None,
                    member if channel == "id" else None,
                    支出类别=CATEGORY_LABELS[category],
                    发生日期=occurred.isoformat(),
                    支出金额=amount,
                    报销金额=reimbursed,
                )
                imported(tmp_path, f"r{n}.xlsx", [row])
                oop = amount - reimbursed
            elif channel == "alert":
                alerts_write(
                    user=None,
                    items=[
                        {
                            "idempotency_key": f"h{n}",
                            "id_number": member.id_number,
                            "name": member.name,
                            "alert_type": "DISASTER" if category == "DISASTER" else "MEDICAL",
                            "alert_date": occurred,
                            "amount": amount,
                            "department": "应急" if n % 2 else "卫健",
                        }
                    ],
                )
                category, oop = ("DISASTER" if category == "DISASTER" else "MEDICAL"), amount
            else:
                total = Decimal("21000.00") + amount
                medical_settlements_write(
                    user=None, items=[{"id_number": member.id_number, "year": YEAR, "out_of_pocket": total}]
                )
                category, occurred, oop = "MEDICAL", dt.date(YEAR, 12, 31), total
            key = (category, occurred, amount if channel != "extract" else oop)
            bound[key] = max(bound.get(key, Decimal(0)), oop)
        rows = RigidExpenditure.objects.filter(household=hh)
        # one ledger row per distinct expense still reported (a resent extract replaces its total)
        assert rows.count() <= len(bound)
        assert len({(r.category, r.occurred_on, r.amount) for r in rows}) == rows.count()
        fen, _basis = counted_fen(hh)
        assert Decimal(fen) / 100 <= sum(bound.values(), Decimal(0))
        transaction.set_rollback(True)


# --- the migration merges what is already stored -----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_merges_stored_duplicates_keeping_every_source() -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("monitoring", "0016_alert_unit_keys")]
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    region = old.get_model("monitoring", "Region")
    for code, level, parent in (
        ("520000000000", "PROVINCE", None),
        ("520100000000", "CITY", "520000000000"),
        ("520101000000", "COUNTY", "520100000000"),
        ("520101001000", "TOWNSHIP", "520101000000"),
        ("520101001001", "VILLAGE", "520101001000"),
    ):
        region.objects.create(code=code, name=code, level=level, parent_id=parent)
    household = old.get_model("monitoring", "Household").objects.create(
        household_no="M1", village_id="520101001001", household_type="GENERAL"
    )
    member = old.get_model("monitoring", "Member").objects.create(
        household=household,
        name="张三",
        id_number="520101199001011234",
        relation="HEAD",
        health="HEALTHY",
        labor="NORMAL",
    )
    spent = old.get_model("monitoring", "RigidExpenditure").objects
    figures = {"household": household, "category": "MEDICAL", "occurred_on": dt.date(2024, 5, 1)}
    by_household = spent.create(**figures, amount=Decimal("6000.00"), reimbursed=Decimal("1000.00"), note="住院")
    by_alert = spent.create(**figures, member=member, amount=Decimal("6000.00"), note="部门预警：卫健")
    spouse = old.get_model("monitoring", "Member").objects.create(
        household=household,
        name="李四",
        id_number="520101199202021234",
        relation="SPOUSE",
        health="HEALTHY",
        labor="NORMAL",
    )
    spent.create(**figures, member=spouse, amount=Decimal("6000.00"), reimbursed=Decimal("500.00"))
    # another expense (its own figures) stays as it is
    other = spent.create(**{**figures, "category": "EDUCATION"}, amount=Decimal("300.00"))
    old.get_model("monitoring", "DepartmentAlert").objects.create(
        id_number=member.id_number,
        name="张三",
        alert_type="MEDICAL",
        alert_date=dt.date(2024, 5, 1),
        amount=Decimal("6000.00"),
        department="卫健",
        member=member,
        expenditure=by_alert,
        status="MATCHED",
        region_code="520101001001",
    )
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(leaves)
        rows = {r.pk: r for r in RigidExpenditure.objects.all()}
        assert set(rows) == {by_household.pk, other.pk}
        merged = rows[by_household.pk]
        assert (merged.source_import, merged.source_alert, merged.source_extract) == (True, True, False)
        assert (merged.member_id, merged.reimbursed, merged.note) == (member.pk, Decimal("1000.00"), "住院")
        assert DepartmentAlert.objects.get().expenditure_id == by_household.pk
        assert rows[other.pk].source_import and not rows[other.pk].source_alert
        assert not DepartmentAlert.objects.filter(origin=AlertOrigin.MEDICAL_EXTRACT).exists()
    finally:
        MigrationExecutor(connection).migrate(leaves)


# --- the expenditure an alert owns ---------------------------------------------------------------


def test_an_expenditure_the_registry_records_too_is_no_longer_the_alert_s_to_correct(
    world: World, tmp_path: Path
) -> None:
    hh = world.households[VILLAGE]
    member = hh.members.get()
    department_alert(member, "w1", "8000")
    (row,) = RigidExpenditure.objects.filter(household=hh)
    alert = DepartmentAlert.objects.get()
    assert (row.alert_id, row.source_import) == (alert.pk, False)  # only the alert reports it: its own

    imported(tmp_path, "a.xlsx", [expense_row(None, member, 支出金额=8000, 报销金额=0, 发生日期="2024-03-14")])
    row.refresh_from_db()
    assert (row.alert_id, row.source_import, row.source_alert) == (None, True, True)

    # the department corrects its amount: the registry's record stays, the alert records its own
    department_alert(member, "w2", "9000")
    row.refresh_from_db()
    assert (row.amount, row.source_import, row.source_alert, row.alert_id) == (Decimal("8000.00"), True, False, None)
    alert.refresh_from_db()
    assert alert.expenditure is not None and alert.expenditure.amount == Decimal("9000.00")
    assert alert.owned_expenditures.get() == alert.expenditure
    assert RigidExpenditure.objects.filter(household=hh).count() == 2


def test_two_alerts_reporting_one_expense_own_it_neither(world: World) -> None:
    """Two members of one household, the same medical cost on the same day, in one batch: one
    expense with two reporters.  Resent together with one amount corrected, the other member's
    expense is kept (it used to take the corrected amount)."""
    hh = world.households[VILLAGE]
    head = hh.members.get()
    spouse = MemberFactory(household=hh, relation="SPOUSE")

    def both(head_amount: str, keys: tuple[str, str]) -> None:
        alerts_write(
            user=None,
            items=[
                {
                    "idempotency_key": key,
                    "id_number": m.id_number,
                    "name": m.name,
                    "alert_type": "MEDICAL",
                    "alert_date": dt.date(2024, 3, 14),
                    "amount": Decimal(amount),
                    "department": "卫健",
                }
                for key, m, amount in ((keys[0], head, head_amount), (keys[1], spouse, "6000"))
            ],
        )

    both("6000", ("a1", "b1"))
    (shared,) = RigidExpenditure.objects.filter(household=hh)
    assert shared.alert_id is None
    both("7000", ("a2", "b2"))
    by_member = {a.member_id: a.expenditure for a in DepartmentAlert.objects.select_related("expenditure")}
    assert by_member[spouse.pk].pk == shared.pk and by_member[spouse.pk].amount == Decimal("6000.00")
    assert by_member[head.pk].amount == Decimal("7000.00")
    owners = dict(RigidExpenditure.objects.filter(household=hh).values_list("amount", "alert__member_id"))
    assert owners == {Decimal("6000.00"): spouse.pk, Decimal("7000.00"): head.pk}


@pytest.mark.django_db(transaction=True)
def test_the_migration_makes_the_marker_rows_owned_by_their_alert() -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("monitoring", "0021_screening_rule_values")]
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    region = old.get_model("monitoring", "Region")
    for code, level, parent in (
        ("520000000000", "PROVINCE", None),
        ("520100000000", "CITY", "520000000000"),
        ("520101000000", "COUNTY", "520100000000"),
        ("520101001000", "TOWNSHIP", "520101000000"),
        ("520101001001", "VILLAGE", "520101001000"),
    ):
        region.objects.create(code=code, name=code, level=level, parent_id=parent)
    household = old.get_model("monitoring", "Household").objects.create(
        household_no="M1", village_id="520101001001", household_type="GENERAL"
    )
    spent = old.get_model("monitoring", "RigidExpenditure").objects
    alerts = old.get_model("monitoring", "DepartmentAlert").objects
    day = dt.date(2024, 5, 1)
    own = spent.create(
        household=household,
        category="MEDICAL",
        occurred_on=day,
        amount=Decimal("100.00"),
        note="部门预警：卫健",
        source_import=False,
        source_alert=True,
    )
    imported_too = spent.create(
        household=household,
        category="MEDICAL",
        occurred_on=day,
        amount=Decimal("200.00"),
        note="部门预警：卫健",
        source_import=True,
        source_alert=True,
    )
    two = spent.create(
        household=household,
        category="DISASTER",
        occurred_on=day,
        amount=Decimal("300.00"),
        note="部门预警：应急",
        source_import=False,
        source_alert=True,
    )
    made = []
    for n, (expense, department) in enumerate(((own, "卫健"), (imported_too, "卫健"), (two, "应急"), (two, "民政"))):
        made.append(
            alerts.create(
                id_number=f"52010119900101{n:03d}X"[-18:],
                name="张三",
                alert_type="MEDICAL",
                alert_date=day,
                department=department,
                expenditure=expense,
                status="UNMATCHED",
            )
        )
    try:
        MigrationExecutor(connection).migrate(leaves)
        owners = dict(RigidExpenditure.objects.values_list("pk", "alert_id"))
        assert owners == {own.pk: made[0].pk, imported_too.pk: None, two.pk: None}
    finally:
        MigrationExecutor(connection).migrate(leaves)
