"""The rigid expenditure a 大额医疗支出 / 受灾 alert with an amount records (SPEC §6), in the one
ledger (``monitoring.services.ledger``).

An expense already recorded (a registry row, another department's or the system's alert) is
linked and records this source, never doubled.  A resent alert keeps its expenditure: when the
department corrects the amount or date, the expenditure the alert owns (``RigidExpenditure.alert``:
it is its only reporter) is corrected; when the alert no longer carries one (amount removed,
member no longer matched), the expenditure it owns is deleted.  Expenditures others report too are
never changed; ``ledger_sources_refresh`` then sets the sources and the owner of every row touched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from monitoring.models import AlertOrigin, AlertType, DepartmentAlert, ExpenditureCategory, RigidExpenditure
from monitoring.services.alerts.matching import AlertKey, AlertLine, alert_key
from monitoring.services.bulk import CHUNK
from monitoring.services.ledger import expenditure_key

ALERT_EXPENDITURE = {AlertType.MEDICAL: ExpenditureCategory.MEDICAL, AlertType.DISASTER: ExpenditureCategory.DISASTER}
ALERT_EXPENDITURE_NOTE = "部门预警："  # the 说明 of an expenditure an alert records, before 来源部门

Figures = tuple[Any, ...]  # expenditure_key


@dataclass
class ExpenditurePlan:
    """What a batch of alerts does to the ledger (by sheet row / batch place)."""

    found: dict[int, int | None] = field(default_factory=dict)  # row → the expenditure its alert links
    to_fix: list[RigidExpenditure] = field(default_factory=list)  # owned rows taking corrected figures
    to_drop: set[int] = field(default_factory=set)  # owned rows no longer reported
    to_create: dict[Figures, RigidExpenditure] = field(default_factory=dict)
    touched: set[int] = field(default_factory=set)  # ledger rows whose sources may have changed


def alert_expenditures_write(
    *, lines: list[AlertLine], existing: Mapping[AlertKey, Mapping[str, Any]], counts: dict[str, int], dry_run: bool
) -> ExpenditurePlan:
    """Link (and, unless ``dry_run``, record, correct or delete) the expenditure of each line;
    ``existing``: the stored alerts of the lines' keys.  ``plan.found`` gives each line's
    expenditure (None in a dry run for one not recorded yet)."""
    wanted = _wanted(lines)
    prior = {
        line.number: (existing[k]["id"], existing[k]["expenditure_id"])
        for line in lines
        if (k := alert_key(line.values)) in existing and existing[k]["expenditure_id"]
    }
    plan = ExpenditurePlan(touched={pk for _alert, pk in prior.values()})
    by_figures = _ledger_by_figures(wanted)
    _plan_resent(plan, prior, _owned(prior), wanted, by_figures)
    _plan_new(plan, wanted, by_figures)
    counts["expenditures_created"] += len(plan.to_create)
    if plan.to_fix:
        counts["expenditures_corrected"] = counts.get("expenditures_corrected", 0) + len(plan.to_fix)
    if plan.to_drop:
        counts["expenditures_removed"] = counts.get("expenditures_removed", 0) + len(plan.to_drop)
    if not dry_run:
        _apply(plan, wanted, by_figures)
    plan.touched.update(pk for pk in plan.found.values() if pk is not None)
    return plan


def _wanted(lines: list[AlertLine]) -> dict[int, RigidExpenditure]:
    """The expenditure each line reports: a matched 大额医疗支出 / 受灾 alert with an amount."""
    wanted: dict[int, RigidExpenditure] = {}
    for line in lines:
        v, member = line.values, line.member
        if member and v["alert_type"] in ALERT_EXPENDITURE and v.get("amount") is not None:
            extract = alert_key(v)[5] == AlertOrigin.MEDICAL_EXTRACT
            wanted[line.number] = RigidExpenditure(
                household_id=member[1],
                member_id=member[0],
                category=ALERT_EXPENDITURE[v["alert_type"]],
                occurred_on=v["alert_date"],
                amount=v["amount"],
                note=f"{ALERT_EXPENDITURE_NOTE}{v['department']}"[:200],
                source_import=False,
                source_alert=not extract,
                source_extract=extract,
            )
    return wanted


def _owned(prior: dict[int, tuple[int, int]]) -> dict[int, tuple[int, Figures]]:
    """Of the expenditures the stored alerts link, those an alert of the batch owns: their owner
    and figures."""
    return {
        pk: (owner, expenditure_key({"household_id": h, "category": c, "occurred_on": d, "amount": a}))
        for pk, owner, h, c, d, a in RigidExpenditure.objects.filter(
            pk__in={pk for _alert, pk in prior.values()}, alert_id__in={alert for alert, _pk in prior.values()}
        ).values_list("id", "alert_id", "household_id", "category", "occurred_on", "amount")
    }


def _ledger_by_figures(wanted: dict[int, RigidExpenditure]) -> dict[Figures, int]:
    """The ledger rows of these households in the alerts' categories (registry rows, other
    alerts), by figures: one query."""
    if not wanted:
        return {}
    return {
        expenditure_key(e): e["id"]
        for e in RigidExpenditure.objects.filter(
            household_id__in={obj.household_id for obj in wanted.values()},
            category__in=set(ALERT_EXPENDITURE.values()),
        ).values("id", "household_id", "category", "occurred_on", "amount")
    }


def _plan_resent(
    plan: ExpenditurePlan,
    prior: dict[int, tuple[int, int]],
    owned: dict[int, tuple[int, Figures]],
    wanted: dict[int, RigidExpenditure],
    by_figures: dict[Figures, int],
) -> None:
    """A resent alert and the expenditure it owns: kept, corrected in place, given up for a row
    already recording the corrected figures, or dropped when the alert no longer reports one.
    The lines it settles leave ``wanted``."""
    for number, (alert, pk) in prior.items():
        owner, owned_figures = owned.get(pk, (None, None))
        if owner != alert:  # another alert or the registry reports it too: never changed here
            continue
        obj = wanted.pop(number, None)
        if obj is None:  # the alert no longer carries an expenditure
            plan.to_drop.add(pk)
            continue
        figures = expenditure_key(vars(obj))
        other = by_figures.get(figures)
        if owned_figures == figures:
            plan.found[number] = pk
        elif other is not None and other != pk:
            # the corrected figures are already recorded (e.g. by the registry): use that row
            plan.found[number] = other
            plan.to_drop.add(pk)
        else:
            obj.pk = pk
            plan.to_fix.append(obj)
            plan.found[number] = pk
            by_figures[figures] = pk


def _plan_new(plan: ExpenditurePlan, wanted: dict[int, RigidExpenditure], by_figures: dict[Figures, int]) -> None:
    """The lines left: link the row of the same figures, or record one (once per figures)."""
    for number, obj in wanted.items():
        figures = expenditure_key(vars(obj))
        if figures not in by_figures:
            plan.to_create.setdefault(figures, obj)
        plan.found[number] = by_figures.get(figures)


def _apply(plan: ExpenditurePlan, wanted: dict[int, RigidExpenditure], by_figures: dict[Figures, int]) -> None:
    if plan.to_create:
        # Another unit's batch (its own lock) may record the same expense meanwhile: the ledger's
        # key keeps one row, and both alerts link it.
        RigidExpenditure.objects.bulk_create(list(plan.to_create.values()), batch_size=CHUNK, ignore_conflicts=True)
        for e in RigidExpenditure.objects.filter(
            household_id__in={f[0] for f in plan.to_create}, category__in={f[1] for f in plan.to_create}
        ).values("id", "household_id", "category", "occurred_on", "amount"):
            if expenditure_key(e) in plan.to_create:
                by_figures[expenditure_key(e)] = e["id"]
        for number, obj in wanted.items():
            plan.found[number] = by_figures.get(expenditure_key(vars(obj)))
    if plan.to_drop:  # first, so that a corrected row may take over figures a dropped one had
        # the alert row lets go of it first (the alert upsert then sets its expenditure)
        DepartmentAlert.objects.filter(expenditure_id__in=plan.to_drop).update(expenditure=None)
        RigidExpenditure.objects.filter(pk__in=plan.to_drop).delete()
    if plan.to_fix:
        fields = ["household_id", "member_id", "occurred_on", "amount", "note"]
        RigidExpenditure.objects.bulk_update(plan.to_fix, fields, batch_size=500)
