"""The set-based screening (the stage, ``monitoring.selectors.screening_sql``) against the one
definition of each thing it encodes in SQL:

* the texts a lead is written from — the evidence of each fired rule, the suggested category and
  risk types — against the declarations computed in Python (``Evidence``, ``category_suggest``,
  ``risk_types_suggest``), on random figures;
* its decisions — target, open lead, rejection, new lead, and "the open lead already says this" —
  against ``lead_decide``: the same random households, leads, targets and rejections screened by the
  set-based path and by the Python path (``lead_decide`` per household) must leave the same leads;
* a second run with nothing changed writes no lead row and no audit row.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fanpin.core.models import AuditEntry, User
from fanpin.core.roles import Role
from monitoring.models import Lead, RunStatus, ScreeningRun
from monitoring.models.screening_rules import (
    BASE_FIGURES,
    EXPENDITURE_COLUMNS,
    MEMBER_ABLE,
    MEMBER_ANY,
    MEMBER_DISABLED,
    MEMBER_ILL,
    RuleSettings,
    category_suggest,
    risk_types_suggest,
    screening_rules,
)
from monitoring.selectors.screening_sql import stage_digest, stage_digest_params, stage_texts
from monitoring.services.review import lead_raise_or_merge, lead_reject
from monitoring.services.screening import screening_run_create, screening_run_execute
from tests.factories import ExpenditureFactory, LeadFactory, TargetFactory, income, user
from tests.monitoring.screening_helpers import (
    COUNTY,
    OTHER_COUNTY_VILLAGE,
    VILLAGE,
    YEAR,
    household,
    screen,
    setup_lines,
    together_must_succeed,
)

PROVINCE = "520000000000"
OTHER_COUNTY = "520102000000"

pytestmark = pytest.mark.django_db

CODES = [rule.code for rule in screening_rules()]
FLAGS = [f"{kind}_{rule.key}" for rule in screening_rules() for kind in ("f", "m")]


# -- the texts ------------------------------------------------------------------------------------
fen = st.one_of(st.none(), st.integers(-5_000_000, 5_000_000), st.sampled_from([0, -1, 1, -99, 99, 100, -100]))
amount = st.integers(0, 8_000_000)
row_st = st.fixed_dictionaries(
    {
        "htype": st.sampled_from(["GENERAL", "EDGE", "EXITED"]),
        "c_size": st.one_of(st.none(), st.integers(1, 7)),
        "c_total": fen,
        "p_size": st.one_of(st.none(), st.integers(1, 7)),
        "p_total": fen,
        **{column: st.one_of(amount, st.just(0)) for _code, column in EXPENDITURE_COLUMNS},
        "xm_extract": st.one_of(st.just(0), amount),
        "xm_records": st.one_of(st.just(0), amount),
        "xm_set_aside": st.one_of(st.just(0), amount),
        "fired": st.lists(st.sampled_from(CODES), min_size=1, unique=True),
        "mflags": st.sets(st.sampled_from([MEMBER_ILL, MEMBER_DISABLED, MEMBER_ABLE, MEMBER_ANY])).map(sum),
    }
)
settings_st = st.builds(
    lambda line, spike, drop, multiple: RuleSettings(
        line=line, values={"spike_ratio": spike, "drop_ratio": drop, "drop_line_multiple": multiple}
    ),
    st.one_of(st.none(), st.sampled_from([Decimal("7000.00"), Decimal("8700.00"), Decimal("6999.99")])),
    st.sampled_from([Decimal("1"), Decimal("1.0000"), Decimal("0.5")]),
    st.sampled_from([Decimal("0.3000"), Decimal("0.25")]),
    st.sampled_from([Decimal("2"), Decimal("2.0000")]),
)


def _rendered(rows: list[dict[str, Any]], rules: RuleSettings) -> list[tuple[Any, ...]]:
    """(hid, rules fired, evidence, category, risk types, digest) of each row, rendered by the SQL of
    the stage over a temporary table holding the rows."""
    figures = [name for name in BASE_FIGURES if name != "x_total"]
    columns = ["hid", "htype", "x_total", *figures, *FLAGS, "mflags"]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE h8_texts (hid INTEGER, htype VARCHAR(12), "
            + ", ".join(f"{name} BIGINT" for name in columns[2:])
            + ")"
        )
        for hid, row in enumerate(rows):
            values = {
                "hid": hid,
                "htype": row["htype"],
                "x_total": sum(row[column] for _code, column in EXPENDITURE_COLUMNS),
                **{name: row[name] for name in figures},
                **{f"f_{r.key}": int(r.code in row["fired"]) for r in screening_rules()},
                **{f"m_{r.key}": 0 for r in screening_rules()},
                "mflags": row["mflags"],
            }
            cursor.execute(
                f"INSERT INTO h8_texts ({', '.join(columns)}) VALUES ({', '.join(f'%({c})s' for c in columns)})",
                values,
            )
        col = lambda name: f"s.{name}"  # noqa: E731
        cursor.execute(
            f"SELECT s.hid, {', '.join(stage_texts(col).values())}, {stage_digest(col)} FROM h8_texts s ORDER BY s.hid",
            stage_digest_params(year=YEAR, rules=rules),
        )
        rendered = cursor.fetchall()
        transaction.set_rollback(True)
    return rendered


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row_st, min_size=1, max_size=6), rules=settings_st)
def test_texts_rendered_in_sql_equal_the_declarations(rows: list[dict[str, Any]], rules: RuleSettings) -> None:
    for (hid, rules_fired, evidence, category, risk_types, _digest), row in zip(
        _rendered(rows, rules), rows, strict=True
    ):
        fired = [code for code in CODES if code in row["fired"]]
        f = {**row, "x_total": sum(row[column] for _code, column in EXPENDITURE_COLUMNS)}
        assert json.loads(rules_fired) == fired
        assert json.loads(evidence) == {r.code: r.evidence(f, rules) for r in screening_rules() if r.code in fired}
        assert category == category_suggest(household_type=row["htype"], rules_fired=fired)
        oop = {code: row[column] for code, column in EXPENDITURE_COLUMNS}
        assert json.loads(risk_types) == risk_types_suggest(oop_fen=oop, member_flags=row["mflags"]), hid


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), rules=settings_st)
def test_the_digest_changes_whenever_the_texts_do(data: st.DataObject, rules: RuleSettings) -> None:
    """An open lead carrying the household's digest is not written again: so two rows with one
    digest must give the same texts (a row and the same row with one input changed)."""
    row = data.draw(row_st)
    changed = {
        **row,
        **data.draw(
            row_st.map(lambda other: {key: other[key] for key in other}).flatmap(
                lambda other: st.sampled_from(sorted(other)).map(lambda key: {key: other[key]})
            )
        ),
    }
    (_, *texts_a, digest_a), (_, *texts_b, digest_b) = _rendered([row, changed], rules)
    if digest_a == digest_b:
        assert texts_a == texts_b


# -- the decisions --------------------------------------------------------------------------------
HISTORIES = [
    "nothing",
    "screened",
    "screened_then_changed",
    "screened_then_visited",
    "rejected",
    "rejected_then_spent",
    "visit_lead",
    "target",
]
money = st.sampled_from(["300.00", "5000.00", "6999.99", "7000.00", "9500.00", "20000.00"])
scenario_st = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["GENERAL", "EDGE", "EXITED"]),
        "health": st.sampled_from(["HEALTHY", "CHRONIC", "DISABLED"]),
        "labor": st.sampled_from(["NORMAL", "WEAK"]),
        "current": st.one_of(st.none(), money),
        "previous": st.one_of(st.none(), money),
        "expenses": st.lists(
            st.tuples(st.sampled_from(["MEDICAL", "EDUCATION", "DISASTER"]), st.sampled_from([500, 30000])), max_size=2
        ),
        "before": st.sampled_from(HISTORIES),
        # two counties of the province: their runs are written together (``staged_counties_write``)
        "village": st.sampled_from([VILLAGE, OTHER_COUNTY_VILLAGE]),
    }
)
AFTER_A_SCREENING = {"screened", "screened_then_changed", "screened_then_visited", "rejected", "rejected_then_spent"}


def _household(s: dict[str, Any]) -> Any:
    hh = household(village=s["village"], kind=s["kind"], labor=s["labor"], health=s["health"])
    for year, per_capita in ((YEAR, s["current"]), (YEAR - 1, s["previous"])):
        if per_capita is not None:
            income(hh, year, per_capita, size=2)
    for i, (category, yuan) in enumerate(s["expenses"]):
        ExpenditureFactory(household=hh, category=category, occurred_on=dt.date(YEAR, 3 + i, 1), amount=Decimal(yuan))
    return hh


def _leads_and_summary(run: ScreeningRun) -> tuple[list[tuple[Any, ...]], dict[str, Any], int]:
    """The leads as a user sees them (the screening evidence's run left out: an unchanged lead keeps
    the run that wrote it), the run's counts, and the number of lead audit rows."""
    leads = []
    for lead in Lead.objects.order_by("household_id", "id"):
        evidence = json.loads(json.dumps(lead.evidence))
        if isinstance(evidence.get("SCREENING"), dict):
            evidence["SCREENING"].pop("run", None)
        leads.append(
            (
                lead.household_id,
                lead.state,
                lead.sources,
                lead.rules_fired,
                evidence,
                lead.suggested_category,
                lead.suggested_risk_types,
                lead.year,
            )
        )
    summary = {key: run.summary[key] for key in ("households", "fired", "rules", "leads")}
    return leads, summary, AuditEntry.objects.filter(object_type="lead").count()


def _screened(*, python: bool, together: bool = True) -> tuple[list[tuple[Any, ...]], dict[str, Any], int]:
    with transaction.atomic():
        if python:  # the Python path: every fired household through lead_decide, county by county
            with mock.patch("monitoring.services.screening_counties.evidence_in_sql", return_value=False):
                result = _leads_and_summary(screen(PROVINCE))
        else:  # the province's stage; a batch's counties written together, or one by one (its fallback)
            written = together_must_succeed if together else (lambda runs, stage: False)
            with mock.patch("monitoring.services.screening_counties._counties_write_together", written):
                result = _leads_and_summary(screen(PROVINCE))
        transaction.set_rollback(True)
    return result


EVERY_CASE = [  # one household of each kind of earlier history, each firing a rule
    {
        "kind": kind,
        "health": health,
        "labor": labor,
        "current": "300.00",
        "previous": previous,
        "expenses": [("MEDICAL", 30000)],
        "before": before,
        "village": VILLAGE if i % 2 else OTHER_COUNTY_VILLAGE,
    }
    for i, ((kind, health, labor, previous), before) in enumerate(
        zip(
            [
                ("GENERAL", "HEALTHY", "NORMAL", None),
                ("EXITED", "CHRONIC", "NORMAL", "9500.00"),
                ("EDGE", "DISABLED", "WEAK", "20000.00"),
                ("GENERAL", "HEALTHY", "WEAK", "300.00"),
                ("GENERAL", "CHRONIC", "NORMAL", None),
                ("EDGE", "HEALTHY", "NORMAL", "9500.00"),
                ("EXITED", "HEALTHY", "WEAK", None),
                ("GENERAL", "DISABLED", "NORMAL", "20000.00"),
            ],
            HISTORIES,
            strict=True,
        )
    )
]


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenarios=st.lists(scenario_st, min_size=1, max_size=5), together=st.booleans())
@example(scenarios=EVERY_CASE, together=True)
@example(scenarios=EVERY_CASE, together=False)
def test_set_based_decisions_equal_lead_decide(scenarios: list[dict[str, Any]], together: bool) -> None:
    with transaction.atomic():
        setup_lines()
        setup_lines(year=YEAR - 1)
        counties = {
            code: User.objects.filter(username=f"county-staged-{code}").first()
            or user(f"county-staged-{code}", Role.COUNTY, code)
            for code in (COUNTY, OTHER_COUNTY)
        }
        earlier = [(s, _household(s)) for s in scenarios if s["before"] in AFTER_A_SCREENING]
        if earlier:
            screen(PROVINCE)  # the set-based path wrote these leads, with their digests
        for s, hh in earlier:
            lead = Lead.objects.filter(household=hh).first()
            if s["before"] == "screened_then_changed":
                hh.incomes.update(wage_income=Decimal("800.00"))
                ExpenditureFactory(household=hh, category="ACCIDENT", occurred_on=dt.date(YEAR, 9, 1))
            elif s["before"] == "screened_then_visited":
                lead_raise_or_merge(
                    household_id=hh.pk,
                    source="VISIT",
                    evidence={"note": "走访发现"},
                    year=YEAR,
                    suggested_risk_types=["HOUSING", "ILLNESS"],
                )
            elif s["before"] in ("rejected", "rejected_then_spent") and lead is not None:
                lead_reject(lead_id=lead.pk, reason="经核实收入已恢复", actor=counties[hh.village_id[:6] + "000000"])
                if s["before"] == "rejected_then_spent":
                    ExpenditureFactory(household=hh, category="MEDICAL", occurred_on=dt.date(YEAR, 11, 1))
        for s in scenarios:
            if s["before"] in AFTER_A_SCREENING:
                continue
            hh = _household(s)
            if s["before"] == "visit_lead":
                LeadFactory(
                    household=hh,
                    year=YEAR,
                    sources=["VISIT"],
                    rules_fired=[],
                    evidence={"VISIT": [{"note": "走访发现", "at": "2024-05-01T08:00:00+08:00"}]},
                    suggested_risk_types=["HOUSING"],
                    suggested_category="SUDDEN_HARDSHIP",
                )
            elif s["before"] == "target":
                TargetFactory(household=hh)

        assert _screened(python=False, together=together) == _screened(python=True)
        transaction.set_rollback(True)


# -- nothing changed, nothing written -------------------------------------------------------------
def _lead_rows() -> dict[int, Any]:
    """Each lead's row version: PostgreSQL's xmin (changes with any write of the row); elsewhere
    the columns a screening write sets."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT id, CAST(xmin AS TEXT) FROM monitoring_lead")
        else:
            cursor.execute("SELECT id, refreshed_at, last_run_id, evidence, screening_digest FROM monitoring_lead")
        return {row[0]: row[1:] for row in cursor.fetchall()}


def _writes_to_leads(queries: list[dict[str, Any]]) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if "monitoring_lead" in q["sql"]
        and q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "WITH"))
    ]


def test_a_second_run_with_nothing_changed_writes_no_lead_and_no_audit_row() -> None:
    setup_lines()
    for kind, per_capita in (("GENERAL", "5000.00"), ("EXITED", "100.00"), ("EDGE", "6999.99")):
        hh = household(kind=kind)
        income(hh, YEAR, per_capita, size=2)
        income(hh, YEAR - 1, "20000.00", size=2)
    ExpenditureFactory(household=hh, category="MEDICAL", occurred_on=dt.date(YEAR, 3, 1), amount=Decimal("50000"))
    first = screen()
    assert first.leads_raised == 3
    before, audit_before = _lead_rows(), AuditEntry.objects.filter(object_type="lead").count()

    with CaptureQueriesContext(connection) as queries:
        second = screen()
    assert second.status == RunStatus.SUCCEEDED
    assert second.summary["leads"] == {"raised": 0, "refreshed": 3, "skipped_target": 0, "skipped_rejected": 0}
    assert _writes_to_leads(queries.captured_queries) == []
    assert _lead_rows() == before
    assert AuditEntry.objects.filter(object_type="lead").count() == audit_before


def test_a_province_run_with_nothing_changed_finishes_its_counties_together_and_writes_no_lead() -> None:
    setup_lines()
    for village in ("520101001001", "520102001001", "520102001002"):
        income(household(village=village), YEAR, "100.00")
    first = screening_run_execute(
        run_id=screening_run_create(region_code="520000000000", year=YEAR, trigger="COMMAND").pk
    )
    assert (first.status, first.leads_raised) == (RunStatus.SUCCEEDED, 3)
    before, audit_before = _lead_rows(), AuditEntry.objects.filter(object_type="lead").count()
    run = screening_run_create(region_code="520000000000", year=YEAR, trigger="COMMAND")
    with CaptureQueriesContext(connection) as queries:
        run = screening_run_execute(run_id=run.pk)
    assert (run.status, run.leads_raised, run.leads_refreshed) == (RunStatus.SUCCEEDED, 0, 3)
    assert sorted(run.children.values_list("status", "leads_refreshed")) == [("SUCCEEDED", 1), ("SUCCEEDED", 2)]
    # every county has its own audit row of the run, as when it runs alone
    assert (
        AuditEntry.objects.filter(
            object_type="screening_run", object_id__in=[str(c.pk) for c in run.children.all()]
        ).count()
        == 2
    )
    assert _writes_to_leads(queries.captured_queries) == []
    assert _lead_rows() == before
    assert AuditEntry.objects.filter(object_type="lead").count() == audit_before
    assert run.summary["settings"]["line"] == "7000.00"  # what the province was evaluated with


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL planner setting")
def test_the_region_wide_evaluation_is_planned_without_nested_loops() -> None:
    """Right after a bulk load (no planner statistics yet) PostgreSQL expected a few dozen households
    and joined a province's incomes by nested loops: 157 s instead of 0.4 s for 100 000 households
    (docs/benchmarks.md, session 9).  The region-wide statement runs with nested loops off, and only it."""
    setup_lines()
    for village in ("520101001001", "520102001001", "520102001002"):
        income(household(village=village), YEAR, "100.00")
    with CaptureQueriesContext(connection) as queries:
        run = screening_run_execute(
            run_id=screening_run_create(region_code="520000000000", year=YEAR, trigger="COMMAND").pk
        )
    assert (run.status, run.leads_raised) == (RunStatus.SUCCEEDED, 3)
    sqls = [" ".join(q["sql"].split()) for q in queries.captured_queries]
    stage = next(i for i, sql in enumerate(sqls) if re.match(r"CREATE UNLOGGED TABLE screening_stage_\d+ AS ", sql))
    assert sqls[stage - 1] == "SET LOCAL enable_nestloop = off"
    assert sqls[stage + 1] == "SET LOCAL enable_nestloop = on"
    assert sqls.count("SET LOCAL enable_nestloop = off") == 1
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_nestloop")
        assert cursor.fetchone()[0] == "on"
