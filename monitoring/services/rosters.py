"""民政 rosters (SPEC §2.1, §6 ``assistance_roster``): lines of 低保 / 特困 / 低保边缘 / 刚性支出困难
matched by 身份证号 and the member's name within the submitter's scope and upserted by their key
within the submitting unit.

One path for the Excel upload (import kind ``assistance_roster``, a thin adapter) and the API
(``POST /api/v1/assistance-rosters/``).  Matching is the department alerts' rule
(``monitoring.services.alerts.matching.members_match``): a member outside the submitter's scope is
not matched and nothing about it is answered; an unmatched line is kept (未匹配) for the county.  A
line sent again unchanged is "same": nothing written, no audit row.  Every created or changed line
writes an audit row (``assistance_entry``), in one statement for the batch.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from fanpin.core.audit import state_changes_follow
from fanpin.core.locks import named_locks_acquire
from fanpin.core.models import AuditEntry
from fanpin.core.roles import Department, Permission, Role, effective_role, role_can
from monitoring.models import AlertStatus, AssistanceCategory, AssistanceEntry, Member, RosterUnmatchedReason
from monitoring.services.alerts.matching import AlertUnit, MemberRef, members_match
from monitoring.services.bulk import CHUNK, chunks, upsert_actions

MAX_BATCH = 1000
EARLIEST_START = dt.date(2000, 1, 1)
# Plausibility: one person's monthly 救助金额 above 100 000 元 is a typing error (decision record).
MAX_MONTHLY_AMOUNT = Decimal("100000")

# What a resent line may change (a difference makes it an "update"); the key is fixed.
ROSTER_FIELDS = ["name", "end_date", "monthly_amount", "member_id", "status", "unmatched_reason", "region_code"]
RosterKey = tuple[str, str, str, dt.date]  # scope_code, 身份证号, 救助类别, 开始日期


@dataclass
class RosterLine:
    """One roster line: its sheet row (or place in an API batch) and its cleaned values
    (id_number, name, category, start_date, end_date, monthly_amount)."""

    number: int
    values: dict[str, Any]
    member: MemberRef | None = None
    name_differs: bool = False  # its 身份证号 is a member's in scope, but the name is not that member's
    from_sheet: bool = False  # ``number`` is a sheet row (an upload or a command's file), kept as its source


@dataclass
class RosterBatch:
    actions: list[str] = field(default_factory=list)  # per line: create / update / same
    ids: list[int | None] = field(default_factory=list)  # per line (None in a dry run's new lines)
    statuses: list[str] = field(default_factory=list)  # per line: MATCHED / UNMATCHED
    villages: list[str | None] = field(default_factory=list)  # per line: the matched household's village

    @property
    def matched(self) -> int:
        return sum(s == AlertStatus.MATCHED for s in self.statuses)

    @property
    def unmatched(self) -> int:
        return sum(s == AlertStatus.UNMATCHED for s in self.statuses)


def roster_refusal(*, user: Any | None) -> str:
    """Who may send 民政 rosters: 民政 department users, and those who import registry data (county
    staff, administrators; a command without user).  A Chinese refusal, or ``""``."""
    if user is None:
        return ""
    role = effective_role(user)
    if role_can(role, Permission.IMPORT_DATA):
        return ""
    if role == Role.DEPT and getattr(user, "department", "") == Department.CIVIL_AFFAIRS:
        return ""
    return "只有民政部门和县级乡村振兴部门可以报送民政救助名单。"


def roster_line_error(values: dict[str, Any]) -> tuple[str, str] | None:
    """(field, Chinese reason) when a line's dates do not hold together, else None."""
    start, end = values["start_date"], values.get("end_date")
    if start < EARLIEST_START:
        return "start_date", f"开始日期不能早于 {EARLIEST_START.isoformat()}。"
    if start > timezone.localdate() + dt.timedelta(days=366):
        return "start_date", "开始日期不能晚于一年以后。"
    if end is not None and end < start:
        return "end_date", "结束日期不能早于开始日期。"
    amount = values.get("monthly_amount")
    if amount is not None and amount > MAX_MONTHLY_AMOUNT:
        return "monthly_amount", f"月救助金额不能超过 {MAX_MONTHLY_AMOUNT:,} 元，请核对。"
    return None


_NAME_SPACES = re.compile(r"\s+")
_NAME_DOTS = str.maketrans(dict.fromkeys("•・‧∙⋅", "·"))


def name_key(name: str) -> str:
    """A name as compared with the registered member's: NFKC, no spaces, one kind of middle dot."""
    return _NAME_SPACES.sub("", unicodedata.normalize("NFKC", name or "")).translate(_NAME_DOTS)


def _names_check(lines: list[RosterLine]) -> None:
    """A line whose 身份证号 matched but whose name is not the member's is not matched (a typo in
    the number must not give 低保 to another family): kept 未匹配 with 姓名与身份证号不符."""
    ids = {line.member[0] for line in lines if line.member}
    names: dict[int, str] = {}
    for part in chunks(sorted(ids)):
        names.update(Member.objects.filter(pk__in=part).values_list("pk", "name"))
    for line in lines:
        if line.member and name_key(names.get(line.member[0], "")) != name_key(line.values["name"]):
            line.member, line.name_differs = None, True


def roster_key(values: dict[str, Any], unit: AlertUnit) -> RosterKey:
    return (unit.region, values["id_number"], values["category"], values["start_date"])


@transaction.atomic
def rosters_submit(*, user: Any, items: list[dict[str, Any]]) -> RosterBatch:
    """The API's batch (validated items, ≤ ``MAX_BATCH``): checked, matched and written."""
    refusal = roster_refusal(user=user)
    if refusal:
        raise PermissionDenied(refusal)
    if len(items) > MAX_BATCH:
        raise ValidationError(f"每批最多 {MAX_BATCH} 条。")
    lines = [RosterLine(n, dict(item)) for n, item in enumerate(items, start=1)]
    wrong = [(line.number, roster_line_error(line.values)) for line in lines]
    messages = [f"第 {n} 条：{error[1]}" for n, error in wrong if error]
    if messages:
        raise ValidationError(messages)
    return rosters_write(user=user, lines=lines, dry_run=False)


@transaction.atomic
def rosters_write(
    *, user: Any | None, lines: list[RosterLine], dry_run: bool, job_id: int | None = None
) -> RosterBatch:
    """Match ``lines`` (checked) within the user's scope and upsert them by their key within the
    submitting unit; ``dry_run`` writes nothing.  ``job_id``: the upload whose rows these are (kept
    as each written line's source)."""
    unit = AlertUnit.of(user)
    if unit.prefix is None:
        raise PermissionDenied("您的账号没有所属行政区划，不能导入数据。")
    # one unit's batches one at a time (the same list sent twice at once writes it once)
    named_locks_acquire(names=[f"rosters:{unit.region}"])
    # a member whose death or removal the county accepted matches no roster line (未匹配)
    members = members_match(id_numbers=[line.values["id_number"] for line in lines], unit=unit, departed=False)
    for line in lines:
        line.member = members.get(line.values["id_number"])
    _names_check(lines)
    keys = [roster_key(line.values, unit) for line in lines]
    existing = _entries_by_key(keys=keys, unit=unit)
    objs = [_entry_of(line, unit=unit, job_id=job_id) for line in lines]
    actions, new, changed = upsert_actions(objs, existing, keys, ROSTER_FIELDS)
    if not dry_run:
        _entries_save(new, changed, existing, unit=unit)
        _audit(new, changed, existing, actor=user)
        existing = _entries_by_key(keys=keys, unit=unit) if new else existing
    return RosterBatch(
        actions=actions,
        ids=[(existing.get(k) or {}).get("id") for k in keys],
        statuses=[obj.status for obj in objs],
        villages=[line.member[2] if line.member else None for line in lines],
    )


def _entries_by_key(*, keys: list[RosterKey], unit: AlertUnit) -> dict[RosterKey, dict[str, Any]]:
    wanted = set(keys)
    found: dict[RosterKey, dict[str, Any]] = {}
    columns = ("id", "scope_code", "id_number", "category", "start_date", *ROSTER_FIELDS)
    for part in chunks(sorted({k[1] for k in wanted})):
        for v in AssistanceEntry.objects.filter(scope_code=unit.region, id_number__in=part).values(*columns):
            k = (v["scope_code"], v["id_number"], v["category"], v["start_date"])
            if k in wanted:
                found[k] = v
    return found


def _entry_of(line: RosterLine, *, unit: AlertUnit, job_id: int | None) -> AssistanceEntry:
    v, member = line.values, line.member
    amount = v.get("monthly_amount")
    return AssistanceEntry(
        id_number=v["id_number"],
        name=v["name"],
        category=v["category"],
        start_date=v["start_date"],
        end_date=v.get("end_date"),
        monthly_amount=None if amount is None else Decimal(amount).quantize(Decimal("0.01")),
        member_id=member[0] if member else None,
        status=AlertStatus.MATCHED if member else AlertStatus.UNMATCHED,
        unmatched_reason=RosterUnmatchedReason.NAME_MISMATCH if line.name_differs else RosterUnmatchedReason.NONE,
        region_code=member[2] if member else unit.region,
        scope_code=unit.region,
        submitted_by_id=getattr(unit.user, "pk", None),
        source_job_id=job_id,
        source_row=line.number if job_id is not None or line.from_sheet else None,
    )


def _entries_save(
    new: list[AssistanceEntry],
    changed: list[AssistanceEntry],
    existing: dict[RosterKey, dict[str, Any]],
    *,
    unit: AlertUnit,
) -> None:
    now = timezone.now()
    for obj in new + changed:
        obj.created_at = obj.updated_at = now
    if new:
        AssistanceEntry.objects.bulk_create(new, batch_size=CHUNK)
    if changed:
        for obj in changed:
            obj.pk = existing[(unit.region, obj.id_number, obj.category, obj.start_date)]["id"]
        AssistanceEntry.objects.bulk_update(
            changed,
            [*ROSTER_FIELDS, "submitted_by_id", "source_job_id", "source_row", "updated_at"],
            batch_size=500,
        )


def _state(category: str, status: str, end: dt.date | None) -> str:
    label = AssistanceCategory(category).label
    ended = f"，至 {end.isoformat()}" if end else ""
    return f"{label}（{AlertStatus(status).label}{ended}）"


def _audit(
    new: list[AssistanceEntry],
    changed: list[AssistanceEntry],
    existing: dict[RosterKey, dict[str, Any]],
    *,
    actor: Any | None,
) -> None:
    """One audit row per created or changed line (its status, dates and amount), in one statement;
    the followers (dashboard snapshots) are told once for the batch."""
    actor_id = getattr(actor, "pk", None)
    entries: list[AuditEntry] = []
    for action, objs in (("roster_create", new), ("roster_update", changed)):
        for obj in objs:
            old = existing.get((obj.scope_code, obj.id_number, obj.category, obj.start_date))
            entries.append(
                AuditEntry(
                    actor_id=actor_id,
                    object_type="assistance_entry",
                    object_id=str(obj.pk or (old or {}).get("id") or ""),
                    region_code=obj.region_code,
                    action=action,
                    from_state="" if old is None else _state(obj.category, old["status"], old["end_date"]),
                    to_state=_state(obj.category, obj.status, obj.end_date),
                    data={
                        "start_date": obj.start_date.isoformat(),
                        "end_date": obj.end_date.isoformat() if obj.end_date else None,
                        "monthly_amount": None if obj.monthly_amount is None else str(obj.monthly_amount),
                        "member_id": obj.member_id,
                    },
                )
            )
    if entries:
        AuditEntry.objects.bulk_create(entries, batch_size=1000)
        state_changes_follow(
            object_type="assistance_entry", region_codes=sorted({e.region_code for e in entries if e.region_code})
        )
