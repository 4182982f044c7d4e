"""Writes of the 回头看 / 信息采集 campaigns (SPEC §5.6).

* ``campaign_start``: the county (or an administrator, for a county they choose) starts a campaign;
  its tasks are written by one ``INSERT … SELECT`` from the selection's queryset, and the start is
  audited once with the counts.  The form's one-time ``client_uuid`` makes a double submit answer
  the campaign already started.
* ``campaign_tasks_complete``: a visit (``visit_record``) or a data update (an import that changed the
  household) completes the household's open tasks of open campaigns started on or before that day —
  one UPDATE per batch of households, one audit row per campaign touched; idempotent (a task done
  stays done, with its first completion).
* ``campaign_close``: the county closes a campaign (audited); its open tasks stay open, no longer
  completed by visits or updates.  Closing twice is refused with the day it closed (the page asks
  for the confirmation before it posts: ``monitoring.views.campaigns.campaign_close_view``).
* ``campaign_export``: completion per township and village and the task rows, audited.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone
from openpyxl import Workbook

from fanpin.core.audit import audit_record, export_record
from fanpin.core.regions import RegionLevel
from fanpin.core.roles import Role, effective_role
from fanpin.core.scoping import ObjectOutOfScope, user_region_prefix
from fanpin.core.workflow import TransitionNotAllowed
from fanpin.core.xlsx import sheet_append, sheet_filter, sheet_header
from monitoring.models import (
    Campaign,
    CampaignKind,
    CampaignSelection,
    CampaignState,
    CampaignTask,
    Household,
    Region,
    TaskDoneVia,
    TaskState,
    Visit,
)
from monitoring.selectors.campaigns import (
    DEFAULT_LINE_FACTOR,
    campaign_completion,
    campaign_due_default,
    campaign_export_tasks,
    campaign_for_user,
    campaign_selection_households,
)

BATCH = 500  # households per completion UPDATE (the IN list)
AUDIT_HOUSEHOLDS = 50  # household ids kept in a completion's audit row


def campaign_may_start(user: Any) -> bool:
    """County staff start and close campaigns of their county; administrators for a county they
    choose.  Leaders above the county only watch (docs/decisions/2026-12-04-campaigns.md)."""
    return effective_role(user) in (Role.COUNTY, Role.ADMIN) and user_region_prefix(user) is not None


LONGEST = dt.timedelta(days=366)


@dataclass
class CampaignInput:
    county_code: str
    kind: str
    name: str
    year: int
    selection: str
    started_on: dt.date
    villages: list[str] = field(default_factory=list)
    # townships whose every village is chosen (the picker's per-township 全选, which works without
    # JavaScript): added to ``villages`` by the start
    townships: list[str] = field(default_factory=list)
    line_factor: Decimal | None = None
    due_on: dt.date | None = None
    client_uuid: uuid.UUID | None = None


def _county(*, actor: Any, code: str) -> Region:
    """The county of the campaign: the user's own, or (administrators) one within their region."""
    prefix = user_region_prefix(actor)
    county = Region.objects.filter(code=code, level=RegionLevel.COUNTY).first()
    if county is None or prefix is None or len(prefix) > 6 or not code.startswith(prefix):
        raise ValidationError({"county": "请选择您管辖范围内的县。"})
    return county


def _clean(data: CampaignInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.kind not in CampaignKind.values:
        errors["kind"] = "请选择活动类型（回头看或信息采集）。"
    name = data.name.strip()
    if not name:
        errors["name"] = "请填写活动名称。"
    elif len(name) > 80:
        errors["name"] = "活动名称不能超过 80 个字。"
    if not 2000 <= data.year <= 2100:
        errors["year"] = "年度应在 2000–2100 之间。"
    if data.selection not in CampaignSelection.values:
        errors["selection"] = "请选择农户范围。"
    if data.selection == CampaignSelection.EXITED_IN_VILLAGES and not data.villages and not data.townships:
        errors["villages"] = "选择“所选村的全部脱贫户”时请至少选择一个村。"
    if data.selection == CampaignSelection.NEAR_LINE:
        factor = _line_factor(data)
        if not Decimal("1") <= factor <= Decimal("5") or factor != factor.quantize(Decimal("0.01")):
            errors["line_factor"] = "监测标准倍数应在 1.00–5.00 之间，最多两位小数。"
    if data.started_on > timezone.localdate() + LONGEST:
        errors["started_on"] = "开始日期不能晚于一年以后。"
    elif "year" not in errors and data.started_on.year not in (data.year, data.year + 1):
        errors["started_on"] = f"开始日期应在 {data.year} 年或 {data.year + 1} 年（活动的年度为 {data.year} 年）。"
    if data.due_on is not None and data.due_on < data.started_on:
        errors["due_on"] = "完成期限不能早于开始日期。"
    elif data.due_on is not None and data.due_on > data.started_on + LONGEST:
        errors["due_on"] = "完成期限不能超过开始日期后一年。"
    return errors


MAX_CHOSEN = 5000  # codes a start may name (a county has at most a few hundred villages)


def _villages_checked(*, county: Region, codes: Iterable[str], townships: Iterable[str] = ()) -> list[str]:
    """The chosen villages of the county, each township chosen whole adding all its villages;
    any code that is not a village (or township) of the county is refused, naming it."""
    codes = sorted({c.strip() for c in codes if c and c.strip()})
    township_codes = sorted({c.strip() for c in townships if c and c.strip()})
    if len(codes) + len(township_codes) > MAX_CHOSEN:
        raise ValidationError({"villages": f"所选的村过多（最多 {MAX_CHOSEN} 个），请按乡镇选择。"})
    inside = Region.objects.filter(code__startswith=county.code[:6])
    if township_codes:
        found_townships = set(
            inside.filter(code__in=township_codes, level=RegionLevel.TOWNSHIP).values_list("code", flat=True)
        )
        missing = [c for c in township_codes if c not in found_townships]
        if missing:
            names = "、".join(missing[:5])
            message = f"乡镇区划代码 {names} 不存在或不属于{county.name}，请在列表中勾选本县的乡镇。"
            raise ValidationError({"villages": message})
    found = set(inside.filter(code__in=codes, level=RegionLevel.VILLAGE).values_list("code", flat=True))
    missing = [c for c in codes if c not in found]
    if missing:
        names = "、".join(missing[:5])
        message = f"村级区划代码 {names} 不存在或不属于{county.name}，请在列表中勾选本县的村。"
        raise ValidationError({"villages": message})
    if township_codes:
        whole = Region.objects.filter(level=RegionLevel.VILLAGE, parent_id__in=township_codes)
        found.update(whole.values_list("code", flat=True))
    return sorted(found)


def _tasks_insert(*, campaign: Campaign, households: Any) -> int:
    """One INSERT … SELECT: a task per selected household, with its village code."""
    select_sql, params = households.order_by().values("id", "village_id").query.sql_with_params()
    table = CampaignTask._meta.db_table
    columns = "campaign_id, household_id, village_code, state, done_on, done_via, visit_id, done_by_id"
    sql = (
        f"INSERT INTO {table} ({columns}) "  # noqa: S608  # nosec B608
        f"SELECT %s, s.id, s.village_id, %s, NULL, '', NULL, NULL FROM ({select_sql}) s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [campaign.pk, TaskState.OPEN.value, *params])
        return max(cursor.rowcount, 0)


SUBMITTED_ONCE = "submitted_once"  # the code of campaign_start's refusal of a changed form (a new client_uuid)


def _line_factor(data: CampaignInput) -> Decimal:
    """The factor of the range 人均收入低于监测标准一定倍数 (the default when none was typed)."""
    return data.line_factor if data.line_factor is not None else DEFAULT_LINE_FACTOR


def _same_submission(campaign: Campaign, data: CampaignInput) -> bool:
    """Whether ``data`` is the very form that started ``campaign`` arriving again (a double
    submit), not the same page changed after going back to it in the browser."""
    asked = (data.kind, data.name.strip(), data.year, data.selection, data.started_on)
    if asked != (campaign.kind, campaign.name, campaign.year, campaign.selection, campaign.started_on):
        return False
    if data.due_on is not None and data.due_on != campaign.due_on:
        return False
    if data.selection == CampaignSelection.NEAR_LINE:
        return _line_factor(data) == campaign.line_factor
    if data.selection == CampaignSelection.EXITED_IN_VILLAGES:
        try:
            villages = _villages_checked(county=campaign.county, codes=data.villages, townships=data.townships)
        except ValidationError:
            return False
        return sorted(villages) == sorted(campaign.villages)
    return True


@transaction.atomic
def campaign_start(*, actor: Any, data: CampaignInput) -> Campaign:
    """Start a campaign and write its tasks (a fixed number of queries whatever the households)."""
    if not campaign_may_start(actor):
        raise PermissionDenied("只有县级乡村振兴部门可以发起回头看或信息采集。")
    if data.client_uuid is not None:
        existing = Campaign.objects.filter(client_uuid=data.client_uuid).first()
        if existing is not None:  # a double submit: the campaign is already started
            if not Campaign.objects.for_user(actor).filter(pk=existing.pk).exists():
                raise ObjectOutOfScope("活动")
            if not _same_submission(existing, data):  # the page gone back to and changed
                raise ValidationError(
                    f"这张表单已发起过活动“{existing.name}”，不会再按改过的内容发起。"
                    "页面已换成一张新表单：核对后再提交，即发起另一个活动。",
                    code=SUBMITTED_ONCE,
                )
            return existing
    errors = _clean(data)
    try:
        county = _county(actor=actor, code=data.county_code)
    except ValidationError as exc:  # every field's error at once
        raise ValidationError({**errors, **exc.message_dict}) from None
    if errors:
        raise ValidationError(errors)
    villages: list[str] = []
    if data.selection == CampaignSelection.EXITED_IN_VILLAGES:
        villages = _villages_checked(county=county, codes=data.villages, townships=data.townships)
        if not villages:
            raise ValidationError({"villages": "所选乡镇下没有村，请至少选择一个村。"})
    factor = None
    if data.selection == CampaignSelection.NEAR_LINE:
        factor = _line_factor(data)
    name = data.name.strip()
    if Campaign.objects.filter(county=county, year=data.year, name=name).exists():
        raise ValidationError({"name": f"{county.name} {data.year} 年已有名为“{name}”的活动，请换一个名称。"})
    due_on = data.due_on or campaign_due_default(county_code=county.code, started_on=data.started_on)
    campaign = Campaign(
        county=county,
        kind=data.kind,
        name=name,
        year=data.year,
        selection=data.selection,
        villages=villages,
        line_factor=factor,
        started_on=data.started_on,
        due_on=due_on,
        created_by=actor,
        client_uuid=data.client_uuid,
    )
    try:
        with transaction.atomic():
            campaign.save()
    except IntegrityError:  # the same form arrived twice at once: the first one wins
        existing = Campaign.objects.filter(client_uuid=data.client_uuid).first() if data.client_uuid else None
        if existing is None:
            raise ValidationError({"name": "同名活动已存在，请换一个名称。"}) from None
        return existing
    households = campaign_selection_households(
        county_code=county.code, selection=data.selection, villages=villages, line_factor=factor, year=data.year
    )
    campaign.task_count = _tasks_insert(campaign=campaign, households=households)
    campaign.save(update_fields=["task_count"])
    villages_with_tasks = CampaignTask.objects.filter(campaign=campaign).values("village_code").distinct().count()
    audit_record(
        actor=actor,
        object_type="campaign",
        object_id=campaign.pk,
        region_code=county.code,
        action="start",
        to_state=CampaignState.OPEN,
        data={
            "kind": campaign.kind,
            "name": campaign.name,
            "year": campaign.year,
            "selection": campaign.selection,
            "villages": villages,
            "line_factor": str(factor) if factor is not None else None,
            "started_on": campaign.started_on.isoformat(),
            "due_on": campaign.due_on.isoformat(),
            "tasks": campaign.task_count,
            "villages_with_tasks": villages_with_tasks,
        },
    )
    return campaign


@transaction.atomic
def campaign_close(*, actor: Any, campaign_id: int, today: dt.date, reason: str = "") -> Campaign:
    if not campaign_may_start(actor):
        raise PermissionDenied("只有县级乡村振兴部门可以结束活动。")
    campaign = campaign_for_user(user=actor, pk=campaign_id)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.state != CampaignState.OPEN:
        day = campaign.closed_on
        closed = f"于 {day.year}年{day.month}月{day.day}日 " if day else ""
        raise TransitionNotAllowed(f"活动“{campaign.name}”已{closed}结束，无需再次结束。")
    open_tasks = CampaignTask.objects.filter(campaign=campaign, state=TaskState.OPEN).count()
    campaign.state, campaign.closed_on, campaign.closed_by = CampaignState.CLOSED, today, actor
    campaign.save(update_fields=["state", "closed_on", "closed_by"])
    audit_record(
        actor=actor,
        object_type="campaign",
        object_id=campaign.pk,
        region_code=campaign.county_id,
        action="close",
        from_state=CampaignState.OPEN,
        to_state=CampaignState.CLOSED,
        reason=reason.strip()[:200],
        data={"tasks": campaign.task_count, "open_tasks": open_tasks},
    )
    return campaign


# -- completion -------------------------------------------------------------------------------------


def campaign_tasks_complete(
    *,
    household_ids: Iterable[int],
    via: str,
    on: dt.date,
    actor: Any | None,
    visit: Visit | None = None,
) -> int:
    """Complete the open tasks of these households in open campaigns started on or before ``on``.

    Two queries per batch of ``BATCH`` households (the per-campaign counts for the audit, the
    UPDATE), one audit row per campaign touched; nothing when no campaign is open.  Idempotent.
    """
    ids = sorted({int(i) for i in household_ids if i is not None})
    if not ids or not Campaign.objects.filter(state=CampaignState.OPEN, started_on__lte=on).exists():
        return 0
    done_by = actor if actor is not None and getattr(actor, "pk", None) else None
    touched: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), BATCH):
        part = ids[start : start + BATCH]
        tasks = CampaignTask.objects.filter(
            household_id__in=part,
            state=TaskState.OPEN,
            campaign__state=CampaignState.OPEN,
            campaign__started_on__lte=on,
        )
        for row in tasks.order_by().values("campaign_id", "campaign__county_id").annotate(n=Count("id")):
            entry = touched.setdefault(row["campaign_id"], {"county": row["campaign__county_id"], "n": 0, "ids": []})
            entry["n"] += row["n"]
        if touched:
            affected = list(tasks.values_list("campaign_id", "household_id")[: AUDIT_HOUSEHOLDS * 4])
            for campaign_id, household_id in affected:
                kept = touched[campaign_id]["ids"]
                if len(kept) < AUDIT_HOUSEHOLDS:
                    kept.append(household_id)
            tasks.update(
                state=TaskState.DONE,
                done_on=on,
                done_via=via,
                visit=visit if via == TaskDoneVia.VISIT else None,
                done_by=done_by,
            )
    total = 0
    for campaign_id, entry in sorted(touched.items()):
        total += entry["n"]
        audit_record(
            actor=done_by,
            object_type="campaign",
            object_id=campaign_id,
            region_code=entry["county"],
            action="tasks_done",
            from_state=TaskState.OPEN,
            to_state=TaskState.DONE,
            data={
                "via": via,
                "tasks": entry["n"],
                "households": entry["ids"],
                "visit": visit.pk if visit is not None else None,
                "on": on.isoformat(),
            },
        )
    return total


def campaign_tasks_complete_by_visit(*, visit: Visit, actor: Any) -> int:
    """Called by ``visit_record`` in its transaction: the visit's household's open tasks are done
    when the visit's date is on or after the campaign's start."""
    return campaign_tasks_complete(
        household_ids=[visit.household_id], via=TaskDoneVia.VISIT, on=visit.visited_on, actor=actor, visit=visit
    )


# The import kinds that change a household's own data (registry, members, incomes, expenditures);
# department alerts and 民政 rosters are others' records about it, not an update of the registry.
DATA_UPDATE_KINDS = frozenset({"households", "members", "incomes", "expenditures"})


def campaign_tasks_complete_by_import(
    *, kind: str, household_ids: Iterable[int], household_nos: Iterable[str], actor: Any | None, on: dt.date
) -> int:
    """Called once by the import's write pass (in its transaction) with the households whose rows
    were created or updated: their open tasks are done by 数据更新."""
    if kind not in DATA_UPDATE_KINDS:
        return 0
    ids = {int(i) for i in household_ids if i is not None}
    nos = sorted({str(n) for n in household_nos if n})
    if not Campaign.objects.filter(state=CampaignState.OPEN, started_on__lte=on).exists():
        return 0
    for start in range(0, len(nos), BATCH):
        ids.update(Household.objects.filter(household_no__in=nos[start : start + BATCH]).values_list("id", flat=True))
    return campaign_tasks_complete(household_ids=ids, via=TaskDoneVia.DATA_UPDATE, on=on, actor=actor)


# -- export -----------------------------------------------------------------------------------------

COMPLETION_HEADERS = ["乡镇", "村", "区划代码", "任务户数", "已完成", "未完成", "完成率（%）", "逾期"]
TASK_HEADERS = ["户编号", "户主姓名", "村", "乡镇", "状态", "完成日期", "完成方式"]


def campaign_export(*, user: Any, campaign_id: int, output: IO[bytes] | str, today: dt.date) -> int:
    """Completion per township and village, then the task rows (户编号, 户主姓名, 村, 状态 — no
    身份证号 or phone at all), in the user's scope; every text cell safe; audited with the row count.
    Returns the number of task rows."""
    campaign = campaign_for_user(user=user, pk=campaign_id)
    completion = campaign_completion(user=user, campaign=campaign, today=today)
    names = {v.code: (v.name, t.name) for t in completion.townships for v in t.villages}
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("完成情况")
    header_row = sheet_header(
        ws, COMPLETION_HEADERS, [14, 14, 14, 10, 10, 10, 12, 8], title=f"{campaign.county.name} {campaign}"
    )
    rows = header_row
    for township in completion.townships:
        for village in township.villages:
            sheet_append(
                ws,
                [
                    township.name,
                    village.name,
                    village.code,
                    village.total,
                    village.done,
                    village.open,
                    float(village.percent),
                    village.overdue,
                ],
            )
            rows += 1
        sheet_append(
            ws,
            [
                f"{township.name}小计",
                "",
                township.code,
                township.total,
                township.done,
                township.open,
                float(township.percent),
                township.overdue,
            ],
        )
        rows += 1
    total = completion.total
    sheet_append(ws, ["合计", "", "", total.total, total.done, total.open, float(total.percent), total.overdue])
    sheet_filter(ws, columns=len(COMPLETION_HEADERS), last_row=rows + 1, header_row=header_row)
    tasks_ws = wb.create_sheet("农户任务")
    sheet_header(tasks_ws, TASK_HEADERS, [18, 10, 14, 14, 8, 12, 10])
    states, vias = dict(TaskState.choices), dict(TaskDoneVia.choices)
    count = 0
    for no, head, village_code, state, done_on, done_via in campaign_export_tasks(user=user, campaign=campaign):
        village_name, township_name = names.get(village_code, (village_code, ""))
        via = vias.get(done_via, "") if done_via else ""
        label = "逾期未完成" if state == TaskState.OPEN and completion.overdue_now else states[state]  # as the page
        sheet_append(tasks_ws, [no, head or "", village_name, township_name, label, done_on, via])
        count += 1
    sheet_filter(tasks_ws, columns=len(TASK_HEADERS), last_row=count + 1)
    wb.save(output)
    export_record(
        actor=user,
        kind="campaign",
        label=f"核查任务（{campaign.name}）",
        rows=count,
        region_code=str(getattr(user, "region_id", None) or campaign.county_id),
        data={"campaign": campaign.pk},
    )
    return count
