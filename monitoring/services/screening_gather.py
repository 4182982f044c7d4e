"""The gather of a screening run (SPEC §4): its county runs' results summed into the parent, which
finishes when they all have; and the name of the region's stage the county runs share
(``monitoring.services.screening_counties``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from fanpin.core.db import tables_analyze
from monitoring.models import Lead, RunStatus, ScreeningRun
from monitoring.models.screening_rules import screening_rules
from monitoring.selectors.screening_sql import screening_stage_drop, screening_stage_exists
from monitoring.services.screening_leads import OUTCOMES

RULE_COUNT_KEYS = ("fired", *OUTCOMES, "missing")


def stage_name(run_id: int) -> str:
    """The table of the region's stage of run ``run_id`` (see ``screening_sql.screening_stage_create``)."""
    return f"screening_stage_{int(run_id)}"


def leads_statistics(*, raised: int) -> None:
    """Planner statistics for the lead table after a run that raised many leads (a province's first
    run: 140 000 into an empty table), in the transaction that marks the run done (the gather's, a
    county run's own): without them the province's lead queue took 460 ms instead of
    42 ms until autoanalyze came (docs/decisions/2026-12-03-bulk-load-statistics.md).  Not the audit
    table: its pages read one object's rows or a page of the newest, whatever it holds.  Nor the
    leads' evidence (``tables_analyze``'s ``skip``): nothing filters on it."""
    tables_analyze(models=[Lead], rows_added=raised, skip=[Lead._meta.get_field("evidence")])


def _sum_summaries(children: Iterable[ScreeningRun]) -> dict[str, Any]:
    total: dict[str, Any] = {
        "households": 0,
        "fired": 0,
        "rules": {rule.code: dict.fromkeys(RULE_COUNT_KEYS, 0) for rule in screening_rules()},
        "leads": dict.fromkeys(OUTCOMES, 0),
    }
    for child in children:
        s = child.summary or {}
        total["households"] += s.get("households", 0)
        total["fired"] += s.get("fired", 0)
        for rule, values in s.get("rules", {}).items():
            counted = total["rules"].setdefault(rule, dict.fromkeys(RULE_COUNT_KEYS, 0))
            for key, value in values.items():
                counted[key] = counted.get(key, 0) + value
        for key, value in s.get("leads", {}).items():
            total["leads"][key] += value
    return total


@transaction.atomic
def screening_run_gather(*, run_id: int) -> ScreeningRun:
    """Sum the finished child runs into the parent; the parent finishes when all children have."""
    run = ScreeningRun.objects.select_for_update().get(pk=run_id)
    children = list(run.children.order_by("region_id"))
    if not children:
        return run
    finished = [c for c in children if c.is_finished]
    failed = [c for c in finished if c.status == RunStatus.FAILED]
    summary = _sum_summaries(c for c in finished if c.status == RunStatus.SUCCEEDED)
    summary["failed_counties"] = [c.region_id for c in failed]
    if "settings" in (run.summary or {}):  # what the region was evaluated with (``_parent_stage``)
        summary["settings"] = run.summary["settings"]
    run.summary = summary
    run.counties_done = len(finished)
    run.households = summary["households"]
    run.leads_raised = summary["leads"]["raised"]
    run.leads_refreshed = summary["leads"]["refreshed"]
    fields = ["summary", "counties_done", "households", "leads_raised", "leads_refreshed"]
    if run.started_at is None:
        run.started_at = min((c.started_at for c in children if c.started_at), default=timezone.now())
        fields.append("started_at")
    if len(finished) == len(children) and not run.is_finished:
        if screening_stage_exists(stage_name(run.pk)):
            screening_stage_drop(stage_name(run.pk))
        leads_statistics(raised=run.leads_raised)
        run.status = RunStatus.FAILED if failed else RunStatus.SUCCEEDED
        run.finished_at = timezone.now()
        run.error = f"{len(failed)} 个县筛查失败：{'、'.join(c.region_id for c in failed)}" if failed else ""
        fields += ["status", "finished_at", "error"]
    elif run.status == RunStatus.PENDING:
        run.status = RunStatus.RUNNING
        fields.append("status")
    run.save(update_fields=fields)
    return run
