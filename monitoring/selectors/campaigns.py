"""Reads of the 回头看 / 信息采集 campaigns (SPEC §5.6).

Which households a selection picks (one queryset, used by the start as an ``INSERT … SELECT``),
which campaigns a user sees, completion per township and village (one grouped count), a village's
task list, the cadre home's open tasks and the export's rows.  Every read is a fixed number of
queries, whatever the number of households.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from fanpin.core.regions import RegionLevel, province_code_of
from fanpin.core.roles import Role, effective_role
from fanpin.core.scoping import ObjectOutOfScope, code_prefix, user_region_prefix
from monitoring.models import (
    AnnualIncome,
    Campaign,
    CampaignSelection,
    CampaignState,
    CampaignTask,
    Household,
    HouseholdType,
    Member,
    MonitoringTarget,
    Region,
    TargetStatus,
    TaskState,
)
from monitoring.models.calendar import ProcedureStep
from monitoring.selectors.calendar import WorkingCalendar, step_limits_for
from monitoring.selectors.lines import monitoring_lines_for_province

DEFAULT_LINE_FACTOR = Decimal("1.5")
HOME_TASKS_SHOWN = 20


# -- selection --------------------------------------------------------------------------------------


def campaign_selection_households(
    *,
    county_code: str,
    selection: str,
    villages: list[str] | None = None,
    line_factor: Decimal | None = None,
    year: int | None = None,
) -> QuerySet[Household]:
    """The households of the county that the selection picks (a queryset: nothing is read yet).

    * ``ALL_TARGETS``: households with an active monitoring target (监测中);
    * ``EXITED_IN_VILLAGES``: every 脱贫户 of the chosen villages (villages outside the county pick nothing);
    * ``NEAR_LINE``: households whose latest annual income (the latest year on record) has a
      per-capita income strictly below ``line_factor`` × the monitoring line of that year (the
      province's own line if set, else the national one) — strictly below, as screening's
      LOW_INCOME compares (``<``); a household exactly at k × line is not picked; a year without a
      line picks nothing.  Compared exactly in integers: total_fen × 100 < k×100 × line_fen × size.
    """
    households = Household.objects.within(code_prefix(county_code))
    if selection == CampaignSelection.ALL_TARGETS:
        active = MonitoringTarget.objects.filter(household=OuterRef("pk"), status=TargetStatus.ACTIVE)
        return households.filter(Exists(active))
    if selection == CampaignSelection.EXITED_IN_VILLAGES:
        codes = [c for c in (villages or []) if c.startswith(county_code[:6])]
        return households.filter(village_id__in=codes, household_type=HouseholdType.EXITED)
    if selection == CampaignSelection.NEAR_LINE:
        factor = line_factor if line_factor is not None else DEFAULT_LINE_FACTOR
        factor_cents = int((factor * 100).to_integral_value())
        upto = year or timezone.localdate().year
        lines = monitoring_lines_for_province(province_code=province_code_of(county_code), years=range(2000, upto + 1))
        if not lines:
            return households.none()
        later = AnnualIncome.objects.filter(household=OuterRef("household"), year__gt=OuterRef("year"))
        near = Q()
        for line_year, line in lines.items():
            line_fen = int((line * 100).to_integral_value())
            near |= Q(year=line_year, hundred_total__lt=F("family_size") * (factor_cents * line_fen))
        latest_low = (
            AnnualIncome.objects.filter(household=OuterRef("pk"), year__lte=upto)
            .exclude(Exists(later.filter(year__lte=upto)))
            .alias(hundred_total=F("total_fen") * 100)
            .filter(near)
        )
        return households.filter(Exists(latest_low))
    raise ValueError(f"unknown campaign selection {selection!r}")


def campaign_due_default(*, county_code: str, started_on: dt.date) -> dt.date:
    """The default 完成期限: the province's CAMPAIGN time limit (working or calendar days) counted
    from the start on the stored working-day calendar (two queries)."""
    limit = step_limits_for(province_code=province_code_of(county_code))[ProcedureStep.CAMPAIGN]
    return WorkingCalendar.load(around=started_on).due(started_on, limit)


# -- the start form's pickers -----------------------------------------------------------------------


@dataclass(frozen=True)
class PickerTownship:
    """A township of the start form's village picker: its villages as (code, name)."""

    code: str
    name: str
    villages: list[tuple[str, str]]


def campaign_start_counties(*, user: Any) -> list[tuple[str, list[tuple[str, str]]]]:
    """The counties a user who must choose one (an administrator) may start a campaign for, grouped
    by city as ``(city name, [(county code, county name), …])`` for a ``<select>``: one query.  A
    province has about a hundred counties; never a village."""
    prefix = _prefix(user)
    if prefix is None or len(prefix) > 6:
        return []
    rows = (
        Region.objects.for_user(user)
        .filter(level=RegionLevel.COUNTY)
        .select_related("parent")
        .order_by("code")
        .values_list("code", "name", "parent__name")
    )
    groups: dict[str, list[tuple[str, str]]] = {}
    for code, name, city in rows:
        groups.setdefault(city or "", []).append((code, name))
    return list(groups.items())


def campaign_start_villages(*, user: Any, county_code: str) -> list[PickerTownship]:
    """The county's villages grouped by township for the start form's picker (one query, at most a
    few hundred villages).  Nothing for a county outside the user's scope or a code that is not a
    county: the picker never lists another county's villages."""
    prefix = _prefix(user)
    if (
        prefix is None
        or len(prefix) > 6
        or len(county_code) != 12
        or not county_code.isdigit()
        or not county_code.startswith(prefix)
        or county_code[6:] != "000000"
        or county_code[4:6] == "00"
    ):
        return []
    rows = (
        Region.objects.for_user(user)
        .filter(level__in=(RegionLevel.TOWNSHIP, RegionLevel.VILLAGE), code__startswith=county_code[:6])
        .order_by("code")
        .values_list("code", "name", "level")
    )
    townships: dict[str, PickerTownship] = {}
    for code, name, level in rows:
        tcode = code[:9] + "000"
        if level == RegionLevel.TOWNSHIP:
            townships.setdefault(tcode, PickerTownship(code=tcode, name=name, villages=[]))
        else:  # a village (its township comes first: ordered by code)
            township = townships.setdefault(tcode, PickerTownship(code=tcode, name=tcode, villages=[]))
            township.villages.append((code, name))
    return [t for t in townships.values() if t.villages]


# -- who sees what ----------------------------------------------------------------------------------


def _prefix(user: Any) -> str | None:
    return user_region_prefix(user)


def campaigns_visible(*, user: Any) -> QuerySet[Campaign]:
    """Campaigns of the counties in the user's region (county and above), or of the user's own
    county (township and village users, who see only their own tasks in them).  Department users
    see none."""
    prefix = _prefix(user)
    if prefix is None or effective_role(user) == Role.DEPT:
        return Campaign.objects.none()
    qs = Campaign.objects.select_related("county", "created_by")
    if len(prefix) > 6:
        return qs.filter(county_id=prefix[:6] + "000000")
    return qs if prefix == "" else qs.within(prefix)


def campaign_for_user(*, user: Any, pk: int) -> Campaign:
    campaign = campaigns_visible(user=user).filter(pk=pk).first()
    if campaign is None:
        raise ObjectOutOfScope("活动")
    return campaign


def _tasks_in_scope(*, user: Any, campaign: Campaign) -> QuerySet[CampaignTask]:
    return CampaignTask.objects.for_user(user).filter(campaign=campaign)


# -- completion -------------------------------------------------------------------------------------


@dataclass
class CompletionRow:
    code: str
    name: str
    total: int = 0
    done: int = 0
    overdue: int = 0
    villages: list[CompletionRow] = field(default_factory=list)

    @property
    def open(self) -> int:
        return self.total - self.done

    @property
    def percent(self) -> Decimal:
        if not self.total:
            return Decimal("0.0")
        return (Decimal(self.done) * 100 / self.total).quantize(Decimal("0.1"))


@dataclass
class Completion:
    campaign: Campaign
    overdue_now: bool  # today is after the campaign's due date: every open task is overdue
    total: CompletionRow
    townships: list[CompletionRow]


def campaign_is_overdue(campaign: Campaign, *, today: dt.date) -> bool:
    """Open tasks are 逾期 after the due date (on the due day they are still on time); a closed
    campaign's open tasks count as overdue when it closed after its due date."""
    return today > campaign.due_on


def campaign_completion(*, user: Any, campaign: Campaign, today: dt.date) -> Completion:
    """Completion per township and village within the user's scope: two queries (the grouped
    counts, the region names)."""
    counts = (
        _tasks_in_scope(user=user, campaign=campaign)
        .order_by()
        .values("village_code")
        .annotate(total=Count("id"), done=Count("id", filter=Q(state=TaskState.DONE)))
    )
    overdue_now = campaign_is_overdue(campaign, today=today)
    villages: dict[str, CompletionRow] = {}
    for row in counts:
        total, done = row["total"], row["done"]
        villages[row["village_code"]] = CompletionRow(
            code=row["village_code"], name="", total=total, done=done, overdue=(total - done) if overdue_now else 0
        )
    township_codes = {code[:9] + "000" for code in villages}
    names = dict(Region.objects.filter(code__in=[*villages, *township_codes]).values_list("code", "name"))
    townships: dict[str, CompletionRow] = {}
    for code in sorted(villages):
        village = villages[code]
        village.name = names.get(code, code)
        tcode = code[:9] + "000"
        township = townships.setdefault(tcode, CompletionRow(code=tcode, name=names.get(tcode, tcode)))
        township.villages.append(village)
        township.total += village.total
        township.done += village.done
        township.overdue += village.overdue
    total = CompletionRow(code=campaign.county_id, name="合计")
    for township in townships.values():
        total.total += township.total
        total.done += township.done
        total.overdue += township.overdue
    return Completion(campaign=campaign, overdue_now=overdue_now, total=total, townships=list(townships.values()))


# -- task lists -------------------------------------------------------------------------------------


def _head_name() -> Subquery:
    return Member.objects.head_name_of("household_id")


def campaign_village_tasks(
    *, user: Any, campaign: Campaign, village_code: str
) -> tuple[Region, QuerySet[CampaignTask]]:
    """The village's tasks in the campaign (open first), with 户编号 and 户主姓名; a village outside
    the user's scope (or without tasks) answers 404."""
    region = Region.objects.filter(code=village_code, level=RegionLevel.VILLAGE).first()
    prefix = _prefix(user)
    if (
        region is None
        or prefix is None
        or not village_code.startswith(prefix)
        or not village_code.startswith(campaign.county_id[:6])
    ):
        raise ObjectOutOfScope("村")
    return region, (
        _tasks_in_scope(user=user, campaign=campaign)
        .filter(village_code=village_code)
        .select_related("household", "done_by")
        .annotate(head_name=_head_name())
        .order_by("-state", "household__household_no")  # OPEN before DONE
    )


@dataclass(frozen=True)
class HomeCampaign:
    campaign: Campaign
    village_code: str
    open: int
    total: int
    overdue: bool
    tasks: list[CampaignTask]


def campaign_tasks_for_home(*, user: Any, today: dt.date) -> list[HomeCampaign]:
    """A village cadre's open campaign tasks: per open campaign of their village, the open count and
    the first ``HOME_TASKS_SHOWN`` households.  Three queries whatever the number of campaigns."""
    prefix = _prefix(user)
    if prefix is None or len(prefix) != 12:
        return []
    tasks = CampaignTask.objects.filter(village_code=prefix, campaign__state=CampaignState.OPEN)
    counts = {
        row["campaign_id"]: row
        for row in tasks.order_by()
        .values("campaign_id")
        .annotate(total=Count("id"), open=Count("id", filter=Q(state=TaskState.OPEN)))
    }
    campaigns = {c.pk: c for c in Campaign.objects.filter(pk__in=[k for k, v in counts.items() if v["open"]])}
    if not campaigns:
        return []
    shown: dict[int, list[CampaignTask]] = {pk: [] for pk in campaigns}
    open_tasks = (
        tasks.filter(state=TaskState.OPEN, campaign_id__in=list(campaigns))
        .select_related("household")
        .annotate(head_name=_head_name())
        .order_by("campaign_id", "household__household_no")
    )
    for task in open_tasks:  # a village has at most a few hundred households
        if len(shown[task.campaign_id]) < HOME_TASKS_SHOWN:
            shown[task.campaign_id].append(task)
    return [
        HomeCampaign(
            campaign=campaigns[pk],
            village_code=prefix,
            open=counts[pk]["open"],
            total=counts[pk]["total"],
            overdue=campaign_is_overdue(campaigns[pk], today=today),
            tasks=shown[pk],
        )
        for pk in sorted(campaigns, key=lambda pk: (campaigns[pk].due_on, pk))
    ]


def campaign_export_tasks(*, user: Any, campaign: Campaign) -> QuerySet[Any]:
    """The task rows of the export: (户编号, 户主姓名, 村 code, state, done_on, done_via), in the
    user's scope, ordered by village and 户编号."""
    return (
        _tasks_in_scope(user=user, campaign=campaign)
        .annotate(head_name=_head_name())
        .order_by("village_code", "household__household_no")
        .values_list("household__household_no", "head_name", "village_code", "state", "done_on", "done_via")
    )


def open_campaigns_exist() -> bool:
    return Campaign.objects.filter(state=CampaignState.OPEN).exists()
