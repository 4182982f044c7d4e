"""What departments send: 部门预警, 医保 settlement extracts and 民政 rosters."""

from __future__ import annotations

from monitoring.models import (
    AlertStatus,
    DepartmentAlert,
    ImportJobAlert,
)
from monitoring.services.alerts.dates import settlement_year_error
from monitoring.services.alerts.matching import (
    AlertLine,
    AlertUnit,
    LineError,
    alert_department_error,
    alert_key,
    alerts_by_key,
    alerts_match,
)
from monitoring.services.alerts.medical import medical_settlements_write, medical_submit_refusal
from monitoring.services.alerts.writing import alerts_store
from monitoring.services.bulk import CHUNK
from monitoring.services.imports.kinds.base import KindHandler
from monitoring.services.imports.rows import ImportContext, Row
from monitoring.services.rosters import RosterLine, roster_line_error, roster_refusal, rosters_write

# --- alerts --------------------------------------------------------------------------------


class AlertsHandler(KindHandler):
    """Rows of a department's alert sheet, matched and written by ``monitoring.services.alerts``
    — the same code as ``POST /api/v1/alerts/``."""

    kind = "alerts"

    def __init__(self, ctx: ImportContext) -> None:
        super().__init__(ctx)
        self.unit = AlertUnit.of(ctx.user)

    def touched_villages(self, row: Row) -> list[str]:
        member = row.refs.get("member")
        return [str(member[2])] if member else []

    def check_row(self, row: Row) -> bool:
        wrong = alert_department_error(line=AlertLine(row.number, row.values), unit=self.unit)
        if wrong is not None:
            self.line_error(wrong)
            return False
        return True

    def check_batch(self, rows: list[Row]) -> None:
        lines = [AlertLine(r.number, r.values) for r in rows]
        for error in alerts_match(lines=lines, unit=self.unit):
            self.line_error(error)
        for row, line in zip(rows, lines, strict=True):
            row.refs["member"] = line.member

    def write_batch(self, rows: list[Row], *, dry_run: bool) -> list[str]:
        lines = [AlertLine(r.number, r.values, r.refs["member"]) for r in rows]
        actions = alerts_store(lines=lines, unit=self.unit, counts=self.ctx.extra, dry_run=dry_run)
        if not dry_run and self.ctx.job_id is not None:
            keys = [alert_key(r.values) for r in rows]
            ids = {k: v["id"] for k, v in alerts_by_key(keys=keys, columns=()).items()}
            job_alerts_link(self.ctx.job_id, [(r.number, ids[k]) for r, k in zip(rows, keys, strict=True)])
        return actions

    def line_error(self, error: LineError) -> None:
        header = self.ctx.spec.column(error.field).header
        self.ctx.error(error.number, header, error.value, error.message)


def job_alerts_link(job_id: int, rows: list[tuple[int, int]]) -> None:
    """Record (row number, alert id) pairs as submitted by the job (a resent row is linked again)."""
    ImportJobAlert.objects.bulk_create(
        [ImportJobAlert(job_id=job_id, alert_id=alert_id, row=number) for number, alert_id in rows],
        ignore_conflicts=True,
        batch_size=CHUNK,
    )


# --- 医保 settlement extracts -----------------------------------------------------------------


class MedicalHandler(KindHandler):
    """Lines of a 医保 extract: stored, and judged against the thresholds by
    ``monitoring.services.alerts.medical`` — the same code as ``POST /api/v1/medical-settlements/``."""

    kind = "medical"

    def authorize(self) -> str:
        return super().authorize() or medical_submit_refusal(user=self.ctx.user)

    def check_row(self, row: Row) -> bool:
        wrong_year = settlement_year_error(row.values["year"])
        if wrong_year:
            self.err(row, "year", wrong_year)
            return False
        return True

    def write_batch(self, rows: list[Row], *, dry_run: bool) -> list[str]:
        items = [
            {"id_number": r.values["id_number"], "year": r.values["year"], "out_of_pocket": r.values["out_of_pocket"]}
            for r in rows
        ]
        batch = medical_settlements_write(user=self.ctx.user, items=items, dry_run=dry_run)
        # the households whose expenditure an alert of this batch recorded (for screening afterwards)
        villages = dict(
            DepartmentAlert.objects.filter(
                pk__in=[pk for pk in batch.alert_ids if pk is not None], status=AlertStatus.MATCHED
            ).values_list("pk", "region_code")
        )
        for r, pk in zip(rows, batch.alert_ids, strict=True):
            r.refs["village_code"] = villages.get(pk) if pk is not None else None
        extra = self.ctx.extra
        for name, value in (
            ("settlements_matched", batch.matched),
            ("settlements_alerted", batch.alerted),
            ("alerts_new", batch.new_alerts),
        ):
            extra[name] = extra.get(name, 0) + value
        if not dry_run and self.ctx.job_id is not None:
            job_alerts_link(
                self.ctx.job_id,
                [(r.number, pk) for r, pk in zip(rows, batch.alert_ids, strict=True) if pk is not None],
            )
        return batch.actions


# --- 民政 rosters ---------------------------------------------------------------------------


class AssistanceRosterHandler(KindHandler):
    """Rows of a 民政 roster, matched and written by ``monitoring.services.rosters`` — the same code
    as ``POST /api/v1/assistance-rosters/``."""

    kind = "assistance_roster"

    def authorize(self) -> str:
        return super().authorize() or roster_refusal(user=self.ctx.user)

    def check_row(self, row: Row) -> bool:
        wrong = roster_line_error(row.values)
        if wrong is not None:
            self.err(row, wrong[0], wrong[1])
            return False
        return True

    def write_batch(self, rows: list[Row], *, dry_run: bool) -> list[str]:
        lines = [RosterLine(r.number, r.values, from_sheet=True) for r in rows]
        batch = rosters_write(user=self.ctx.user, lines=lines, dry_run=dry_run, job_id=self.ctx.job_id)
        extra = self.ctx.extra
        extra["roster_matched"] = extra.get("roster_matched", 0) + batch.matched
        extra["roster_unmatched"] = extra.get("roster_unmatched", 0) + batch.unmatched
        return batch.actions
