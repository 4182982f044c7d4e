"""Screening of county runs (SPEC §4), the half of ``monitoring.services.screening`` that writes:
the region's stage, batches of counties, one county's leads, the gather of a parent run.

* ``screening_counties_execute`` — screen a batch of county runs (``screening_county_batches``:
  ten counties of a province, or one county run alone) in one transaction (a province commits ten
  times, not a hundred: at 1 M households the commits were a fifth of a first run): the counties of
  a province's or city's batch from its stage in one set of statements, with their runs' results
  and audit rows (``staged_counties_write``, in a savepoint); when that fails, county by county, a
  fixed number of queries each, in a savepoint each — a county that fails is rolled back to its
  savepoint, left as it was and its run marked 失败.  Idempotent: a finished run is left alone, a run whose worker
  died is simply done again.  ``screening_county_execute`` is the batch of one.
The gather of a parent run is ``monitoring.services.screening_gather``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from fanpin.core.audit import audit_record, state_changes_follow
from fanpin.core.models import AuditEntry
from monitoring.models import Region, RunStatus, ScreeningRun
from monitoring.models.screening_rules import RuleSettings, screening_rules
from monitoring.selectors.screening import rule_settings_for
from monitoring.selectors.screening_sql import (
    RuleCounts,
    evidence_in_sql,
    screening_evaluate,
    screening_stage_create,
    screening_stage_drop,
    screening_stage_exists,
    screening_stages,
)
from monitoring.services.lead_village import counties_lock
from monitoring.services.screening_gather import leads_statistics, screening_run_gather, stage_name
from monitoring.services.screening_leads import OUTCOMES, LeadOutcome, leads_write
from monitoring.services.screening_staged import staged_counties_write, staged_leads_write, staged_unchanged_counties

logger = logging.getLogger(__name__)


def _rule_summary(counts: RuleCounts, per_rule: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Per rule code: fired, the lead outcomes, and 数据缺失 (SPEC 4.1)."""
    empty = dict.fromkeys(OUTCOMES, 0)
    return {
        rule.code: {
            "fired": counts.fired.get(rule.code, 0),
            **per_rule.get(rule.code, empty),
            "missing": counts.missing.get(rule.code, 0),
        }
        for rule in screening_rules()
    }


def _mark_unfinished(run_ids: list[int], **fields: Any) -> int:
    """Update the runs only while they are unfinished (a duplicate delivery must not reopen one)."""
    return ScreeningRun.objects.filter(pk__in=run_ids, finished_at__isnull=True).update(**fields)


def _settings_dump(rules: RuleSettings) -> dict[str, Any]:
    return {
        "line": str(rules.line) if rules.line is not None else None,
        "values": {name: str(value) for name, value in rules.values.items()},
    }


def _settings_load(data: dict[str, Any]) -> RuleSettings:
    line = data.get("line")
    return RuleSettings(
        line=Decimal(line) if line is not None else None,
        values={name: Decimal(value) for name, value in (data.get("values") or {}).items()},
    )


def _parent_stage(run: ScreeningRun) -> tuple[str, RuleSettings] | None:
    """The stage of the county's parent run — the whole region evaluated in one statement (see
    ``monitoring.selectors.screening_sql``) — and the settings it was evaluated with (kept in the
    parent's summary, so every county writes with them).  Made by the first of the counties to get
    here, in its own transaction (the parent's row lock makes the others wait for it, then read it).
    ``None`` when the county evaluates itself: no parent, rules whose evidence is computed in Python,
    or a parent that is finished (a late redelivery)."""
    if run.parent_id is None or not evidence_in_sql():
        return None
    table = stage_name(run.parent_id)
    settings = ((run.parent.summary if run.parent else None) or {}).get("settings")
    if settings is not None and screening_stage_exists(table):
        return table, _settings_load(settings)
    try:
        with transaction.atomic():
            parent = ScreeningRun.objects.select_for_update().select_related("region").get(pk=run.parent_id)
            settings = (parent.summary or {}).get("settings")
            if settings is not None and screening_stage_exists(table):
                return table, _settings_load(settings)
            if parent.is_finished:
                return None
            _stages_of_finished_runs_drop()
            region = parent.region
            rules = rule_settings_for(county_code=region.code, year=parent.year)
            prefix = region.code[: 2 if region.level == Region.Level.PROVINCE else 4]
            screening_stage_drop(table)  # a stage without its settings is unfinished work of a failed attempt
            screening_stage_create(table=table, prefix=prefix, year=parent.year, rules=rules, shared=True)
            ScreeningRun.objects.filter(pk=parent.pk).update(
                summary={**(parent.summary or {}), "settings": _settings_dump(rules)}
            )
    except DatabaseError:
        logger.warning("screening run %s: no stage for the region, the county evaluates itself", run.pk, exc_info=True)
        return None
    _unchanged_counties_finish(parent=parent, table=table, rules=rules)
    return table, rules


def _unchanged_counties_finish(*, parent: ScreeningRun, table: str, rules: RuleSettings) -> None:
    """Finish, in one transaction, the counties of the run where it writes nothing (every fired
    household's open lead already says what screening would write): their runs get their summaries
    and audit rows as if each had run alone, and their tasks then find them finished.  Counties
    another worker holds are left to it; the others are locked (in code order) while this runs."""
    with transaction.atomic():
        pending = dict(parent.children.filter(finished_at__isnull=True).values_list("region_id", "pk"))
        locked = list(
            Region.objects.select_for_update(skip_locked=True)
            .filter(code__in=pending)
            .order_by("code")
            .values_list("code", flat=True)
        )
        runs = {
            child.region_id: child
            for child in ScreeningRun.objects.filter(
                pk__in=[pending[code] for code in locked], finished_at__isnull=True
            )
        }
        unchanged = staged_unchanged_counties(
            table=table, counties=[code[:6] for code in runs], year=parent.year, rules=rules
        )
        now = timezone.now()
        finished = []
        for code, child in sorted(runs.items()):
            if code[:6] not in unchanged:
                continue
            outcome, counts = unchanged[code[:6]]
            _county_finished(child, counts=counts, outcome=outcome, rules=rules, now=now)
            finished.append(child)
        _runs_finished_save(finished)
    if finished and not parent.children.filter(finished_at__isnull=True).exists():
        screening_run_gather(run_id=parent.pk)  # nothing left to write: the run is done now


def _runs_finished_save(runs: list[ScreeningRun]) -> None:
    """Save county runs ``_county_finished`` set, and write the audit rows ``audit_record`` would
    (one INSERT; their followers told once)."""
    if not runs:
        return
    for run in runs:  # an UPDATE each: ``bulk_update``'s CASE per field cost three times as much to build
        ScreeningRun.objects.filter(pk=run.pk).update(**{name: getattr(run, name) for name in _FINISHED_FIELDS})
    state_changes_follow(object_type="screening_run", region_codes=[run.region_id for run in runs])
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                actor_id=run.started_by_id,
                object_type="screening_run",
                object_id=str(run.pk),
                region_code=run.region_id,
                action="screen",
                to_state=RunStatus.SUCCEEDED,
                data={"year": run.year, "leads": run.summary["leads"]},
            )
            for run in runs
        ]
    )


_FINISHED_FIELDS = [
    "status",
    "started_at",
    "finished_at",
    "counties_done",
    "households",
    "leads_raised",
    "leads_refreshed",
    "summary",
    "error",
]


def _county_finished(
    run: ScreeningRun, *, counts: RuleCounts, outcome: LeadOutcome, rules: RuleSettings, now: Any
) -> None:
    """Set the fields of a county run that finished (not saved)."""
    run.status = RunStatus.SUCCEEDED
    run.started_at = run.started_at or now
    run.finished_at = now
    run.counties_done = 1
    run.households = counts.households
    run.leads_raised = outcome.totals["raised"]
    run.leads_refreshed = outcome.totals["refreshed"]
    run.summary = {
        "households": counts.households,
        "fired": counts.any_fired,
        "line": str(rules.line) if rules.line is not None else None,
        "rules": _rule_summary(counts, outcome.per_rule),
        "leads": outcome.totals,
    }
    run.error = "" if rules.line is not None else f"未设置 {run.year} 年监测标准：收入类规则计为数据缺失。"


def _county_audit(run: ScreeningRun, *, outcome_totals: dict[str, int]) -> None:
    audit_record(
        actor=run.started_by,
        object_type="screening_run",
        object_id=run.pk,
        region_code=run.region_id,
        action="screen",
        to_state=RunStatus.SUCCEEDED,
        data={"year": run.year, "leads": outcome_totals},
    )


def _stages_of_finished_runs_drop() -> None:
    """Stages left behind by runs that finished without their gather (a lost worker)."""
    stages = {table: int(table.rsplit("_", 1)[1]) for table in screening_stages()}
    unfinished = set(
        ScreeningRun.objects.filter(pk__in=stages.values(), finished_at__isnull=True).values_list("pk", flat=True)
    )
    for table, run_id in stages.items():
        if run_id not in unfinished:
            screening_stage_drop(table)


def screening_county_batches(*, run: ScreeningRun) -> list[list[int]]:
    """The unfinished county runs of ``run`` in batches of ``SCREENING_COUNTIES_PER_TASK`` (code
    order): each batch is written in one transaction (``screening_counties_execute``), so a province
    of 100 counties commits about ten times, not a hundred.  A county run alone is its own batch."""
    if not run.children.exists():
        return [] if run.is_finished else [[run.pk]]
    size = max(1, int(getattr(settings, "SCREENING_COUNTIES_PER_TASK", 10)))
    pending = list(run.children.filter(finished_at__isnull=True).order_by("region_id").values_list("pk", flat=True))
    return [pending[start : start + size] for start in range(0, len(pending), size)]


def screening_county_execute(*, run_id: int) -> ScreeningRun:
    """Screen the county of one county run (a batch of one, see ``screening_counties_execute``)."""
    return screening_counties_execute(run_ids=[run_id])[0]


def screening_counties_execute(*, run_ids: Sequence[int]) -> list[ScreeningRun]:
    """Screen the counties of these county runs (see the module doc), in code order and in one
    transaction under their counties' locks: together in a savepoint, or (a county alone, or when
    that failed) each county in a savepoint of its own, so a county that fails is marked 失败 with
    its error and the others are written.  Never raises for a failed
    county, so a province-wide gather still happens.  Runs already finished are left alone.
    Returns the runs as they are afterwards, in the order of ``run_ids``."""
    runs = {run.pk: run for run in ScreeningRun.objects.select_related("region", "parent").filter(pk__in=run_ids)}
    if len(runs) < len(set(run_ids)):
        raise ScreeningRun.DoesNotExist(f"筛查批次 {sorted(set(run_ids) - set(runs))} 不存在。")
    if any(run.region.level != Region.Level.COUNTY for run in runs.values()):
        raise ValidationError("只有县级批次可以直接执行。")
    todo = sorted((run for run in runs.values() if not run.is_finished), key=lambda run: run.region_id)
    by_parent: dict[int | None, list[ScreeningRun]] = {}
    for run in todo:
        by_parent.setdefault(run.parent_id, []).append(run)
    worked: set[int] = set()  # parents some of whose counties this call wrote
    for parent_id, group in by_parent.items():
        started = timezone.now()
        if _mark_unfinished([run.pk for run in group], status=RunStatus.RUNNING, started_at=started):
            for run in group:
                run.started_at = started
            _counties_write(group)
            worked.add(parent_id or 0)
    after = {run.pk: run for run in ScreeningRun.objects.filter(pk__in=run_ids)}
    for parent_id in worked - {0}:
        if not ScreeningRun.objects.filter(parent_id=parent_id, finished_at=None).exists():
            screening_run_gather(run_id=parent_id)  # the last counties: the run is done (the chord finds it so)
    return [after[pk] for pk in run_ids if pk in after]


def _counties_write(runs: list[ScreeningRun]) -> None:
    """The counties of ``runs`` (children of one parent, or one run alone) in one transaction."""
    failed: dict[int, str] = {}
    try:
        stage = _parent_stage(runs[0])
        with transaction.atomic():
            # Serialise runs of one county: the second waits, then refreshes what the first wrote
            # (and a households import moving one of its households waits too: counties_lock).
            counties_lock(village_codes=[run.region_id for run in runs])
            done = set(  # the same runs, delivered twice, are done
                ScreeningRun.objects.filter(pk__in=[run.pk for run in runs], finished_at__isnull=False).values_list(
                    "pk", flat=True
                )
            )
            todo = [run for run in runs if run.pk not in done]
            if not (stage is not None and len(todo) > 1 and _counties_write_together(todo, stage)):
                for run in todo:
                    try:
                        # a savepoint per county when there are several (one county alone needs none)
                        with transaction.atomic(savepoint=len(runs) > 1):
                            _county_write(run, stage)
                    except Exception as exc:
                        logger.exception("screening run %s (%s) failed", run.pk, run.region_id)
                        failed[run.pk] = f"筛查失败：{exc}"
            if transaction.get_rollback():
                # a county's savepoint could not be rolled back (the connection was lost) or a county
                # alone failed: the whole transaction is rolled back, the counties written before too
                raise _BatchRolledBack
            if runs[0].parent_id is None:  # a county run of its own: its leads are the whole run's
                written = [run for run in runs if run.pk not in failed and run.pk not in done]
                leads_statistics(raised=sum(run.leads_raised for run in written))
                if transaction.get_rollback():  # its savepoint could not be rolled back (connection lost)
                    raise _BatchRolledBack
    except _BatchRolledBack as exc:
        logger.error("screening runs %s rolled back: %s", [run.pk for run in runs], failed)
        others = str(exc) or "筛查失败：同批次另一县出错，整批未写入，请重新筛查。"
        failed = {run.pk: failed.get(run.pk, others) for run in runs}
    except Exception as exc:
        logger.exception("screening runs %s failed", [run.pk for run in runs])
        failed = {run.pk: f"筛查失败：{exc}" for run in runs}  # nothing of the batch was written
    for run_id, error in failed.items():
        _mark_unfinished([run_id], status=RunStatus.FAILED, finished_at=timezone.now(), error=error[:2000])


def _counties_write_together(runs: list[ScreeningRun], stage: tuple[str, RuleSettings]) -> bool:
    """Write the counties of ``runs`` (children of one parent, locked) from the parent's stage in one
    set of statements (``staged_counties_write``), in a savepoint: their leads, results and audit
    rows.  False when that failed and was rolled back (the caller then writes county by county, so
    that a county that cannot be written fails alone)."""
    table, rules = stage
    if len({run.started_by_id for run in runs}) > 1:  # the audit rows name one actor
        return False
    try:
        with transaction.atomic():
            now = timezone.now()
            written = staged_counties_write(
                table=table,
                runs={run.region_id[:6]: run.pk for run in runs},
                year=runs[0].year,
                rules=rules,
                now=now,
                actor_id=runs[0].started_by_id,
            )
            finished = timezone.now()  # after the writes, as a county written alone
            for run in runs:
                outcome, counts = written[run.region_id[:6]]
                _county_finished(run, counts=counts, outcome=outcome, rules=rules, now=finished)
            _runs_finished_save(runs)
    except Exception:
        # an error, not a warning: every batch written county by county costs the batch's work twice
        logger.exception("screening runs %s: writing them together failed, county by county", [run.pk for run in runs])
        if transaction.get_rollback():  # the savepoint could not be rolled back (the connection was lost)
            raise _BatchRolledBack("筛查失败：写入本批次时数据库连接中断，整批未写入，请重新筛查。") from None
        return False
    return True


class _BatchRolledBack(Exception):
    """The batch's transaction is marked for rollback: nothing of it will be written."""


def _county_write(run: ScreeningRun, stage: tuple[str, RuleSettings] | None) -> None:
    """Screen one county run inside the caller's transaction, its county locked: the leads, the
    run's result and its audit row."""
    prefix = run.region_id[:6]
    if stage is not None:
        table, rules = stage
    else:
        table = stage_name(run.pk)
        rules = rule_settings_for(county_code=run.region_id, year=run.year)
    if stage is not None or evidence_in_sql():
        # set-based: the leads of the county from the stage (its parent's, or its own)
        own = stage is None
        if own:
            screening_stage_create(table=table, prefix=prefix, year=run.year, rules=rules, shared=False)
        outcome, counts = staged_leads_write(
            table=table,
            prefix=prefix,
            year=run.year,
            run_id=run.pk,
            rules=rules,
            now=timezone.now(),
            actor_id=run.started_by_id,
        )
        if own:
            screening_stage_drop(table)
    else:
        # a rule computes its evidence in Python: the fired rows go through Python
        fired, counts = screening_evaluate(prefix=prefix, year=run.year, rules=rules)
        outcome = leads_write(
            prefix=prefix,
            year=run.year,
            run_id=run.pk,
            fired=fired,
            rules=rules,
            now=timezone.now(),
            id_range=(counts.lo_id, counts.hi_id),
            actor_id=run.started_by_id,
        )
    _county_finished(run, counts=counts, outcome=outcome, rules=rules, now=timezone.now())
    ScreeningRun.objects.filter(pk=run.pk).update(
        **{name: getattr(run, name) for name in _FINISHED_FIELDS if name != "started_at"}
    )
    _county_audit(run, outcome_totals=outcome.totals)
