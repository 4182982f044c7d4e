"""公告: what the county decided in one township over one period, as the township posts it (SPEC §5.6).

Three groups, each row only 村, 户主姓名, 家庭人口 and 类别 (or 消除方式):

* 纳入 — leads 县级已确定 (the county's direct confirmation included) decided in the period, with
  the category of the target they made;
* 风险消除 — 风险消除申请 the county confirmed in the period;
* 不予纳入 — leads 未纳入 decided in the period, only where the province asks for them
  (``ProcedureSetting.announce_rejections``), without their reason.

Never a 身份证号, a phone, a bank account, a risk type, a reason, an amount or a diagnosis: the
list is posted on the village notice board (decision record 2026-12-04-announcements).

A period is a pair of local dates (Asia/Shanghai), both included: a decision at 23:59 Beijing time
on the last day is in it, one at 00:00 the next day is not, whatever the UTC date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from assistance.models import EliminationProposal, ProposalMethod, ProposalState
from fanpin.core.roles import Role, effective_role
from fanpin.core.scoping import ObjectOutOfScope, ScopedQuerySet, code_prefix, user_region_prefix
from monitoring.models import FollowUp, FollowUpState, Lead, LeadState, Member, MonitoringTarget, Region, TargetCategory
from monitoring.models.households import NO_HEAD
from monitoring.selectors.calendar import procedure_setting_for

# The longest period one 公告 covers (a year and a day: 1 January to 31 December, leap years too).
MAX_PERIOD_DAYS = 366
# The dates a period may name (no decision lies outside; the edges keep the arithmetic in range).
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)

CATEGORY_LABELS = dict(TargetCategory.choices)
METHOD_LABELS = dict(ProposalMethod.choices)
REJECTED_LABEL = "不予纳入"


@dataclass(frozen=True)
class AnnouncementRow:
    """One household on the 公告: nothing else is shown or exported."""

    village: str
    head_name: str
    family_size: int
    label: str  # the target's 类别, the 消除方式, or 不予纳入
    decided_on: dt.date


@dataclass(frozen=True)
class Announcement:
    township: Region
    county_name: str
    start: dt.date
    end: dt.date
    identified: list[AnnouncementRow]
    eliminated: list[AnnouncementRow]
    rejected: list[AnnouncementRow]
    rejections_announced: bool
    # 县级直接确定 (先帮扶后认定) decided in the period whose 补办 is not (well) done: not yet listed
    awaiting_follow_up: int = 0

    @property
    def issuer(self) -> str:
        """The township's government in whose name the 公告 is posted (a 街道 has an office)."""
        name = self.township.name
        return f"{name}办事处" if name.endswith("街道") else f"{name}人民政府"

    @property
    def area_word(self) -> str:
        return "街道" if self.township.name.endswith("街道") else "乡镇"

    @property
    def is_empty(self) -> bool:
        return not (self.identified or self.eliminated or self.rejected)

    @property
    def row_count(self) -> int:
        return len(self.identified) + len(self.eliminated) + len(self.rejected)


# -- periods -------------------------------------------------------------------------------------
def announcement_period_default(*, today: dt.date) -> tuple[dt.date, dt.date]:
    """The pages' period when none is asked for: 本月至今, the first of ``today``'s month to
    ``today`` — a county office prints the 公告 of the decisions it has just made.  On the first
    days of a month that is often empty; the chooser then links to 上月
    (docs/decisions/2026-12-04-announcements.md)."""
    return today.replace(day=1), today


def announcement_period_last_month(*, today: dt.date) -> tuple[dt.date, dt.date]:
    """The last full calendar month before ``today`` (上月; the API's period when none is asked for)."""
    end = today.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


def announcement_period_shortcuts(*, today: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """The periods offered as links: 上月, 本月至今, 本季度至今, 本年至今."""
    last_start, last_end = announcement_period_last_month(today=today)
    quarter_start = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    return [
        ("上月", last_start, last_end),
        ("本月至今", today.replace(day=1), today),
        ("本季度至今", quarter_start, today),
        ("本年至今", today.replace(month=1, day=1), today),
    ]


def announcement_period_errors(*, start: dt.date, end: dt.date) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, day in (("start", start), ("end", end)):
        if not FIRST_DAY <= day <= LAST_DAY:
            errors[name] = f"日期须在 {FIRST_DAY:%Y-%m-%d} 至 {LAST_DAY:%Y-%m-%d} 之间。"
    if errors:
        return errors
    if end < start:
        errors["end"] = "结束日期不能早于开始日期。"
    elif (end - start).days >= MAX_PERIOD_DAYS:
        errors["end"] = f"公告期间最长 {MAX_PERIOD_DAYS} 天。"
    return errors


def _local_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, end + 1 day 00:00) in the project's time zone (Asia/Shanghai)."""
    zone = timezone.get_default_timezone()
    since = dt.datetime.combine(start, dt.time.min, tzinfo=zone)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return since, until


# -- which townships -----------------------------------------------------------------------------
def _own_township_code(user: Any) -> str | None:
    """A village cadre's township: the 公告 is posted in every village of it (decision record)."""
    region_id = getattr(user, "region_id", None) or ""
    if effective_role(user) == Role.VILLAGE and len(region_id) == 12:
        return region_id[:9].ljust(12, "0")
    return None


def announcement_townships(*, user: Any) -> QuerySet[Region]:
    """The townships whose 公告 the user may open: those in the user's scope, or a village cadre's own."""
    townships = Region.objects.filter(level=Region.Level.TOWNSHIP).select_related("parent")
    own = _own_township_code(user)
    if own is not None:
        return townships.filter(code=own)
    prefix = user_region_prefix(user)
    if prefix is None or effective_role(user) == Role.DEPT:
        return townships.none()
    if prefix:
        townships = townships.filter(code__gte=prefix.ljust(12, "0"), code__lte=prefix.ljust(12, "9"))
    return townships.order_by("code")


def announcement_township(*, user: Any, code: str) -> Region:
    """One township the user may announce for, else ``ObjectOutOfScope`` (404)."""
    township = announcement_townships(user=user).filter(code=code).first()
    if township is None:
        raise ObjectOutOfScope("乡镇")
    return township


# -- the rows ------------------------------------------------------------------------------------
def _head_name(household: str) -> Subquery:
    return Member.objects.head_name_of(household)


def _family_size(household: str) -> Coalesce:
    counted = (
        Member.objects.current()
        .filter(household=OuterRef(household))
        .order_by()
        .values("household")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(counted), 0)


def _in_township(qs: ScopedQuerySet[Any], township: Region) -> ScopedQuerySet[Any]:
    return qs.within(code_prefix(township.code))


def _local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def _rows(values: list[dict[str, Any]], label: Any) -> list[AnnouncementRow]:
    rows: list[AnnouncementRow] = []
    seen: set[int] = set()
    for v in values:
        if v["household_id"] in seen:  # one line per household and group
            continue
        seen.add(v["household_id"])
        rows.append(
            AnnouncementRow(
                village=v["village_name"],
                head_name=v["head_name"] or NO_HEAD,
                family_size=v["family_size"] or 0,
                label=label(v),
                decided_on=_local_date(v["decided_at"]),
            )
        )
    return rows


def _identified(since: dt.datetime, until: dt.datetime) -> Q:
    """Leads 县级已确定 that the period's 公告 lists: decided in the period through the steps, or —
    confirmed directly by the county (green channel) — whose 补办 of 核实、评议、公示 was completed
    in the period without a disagreement sent back to the county (the 公告's text says the
    household went through those steps), or whose disagreement the county answered in the period
    by keeping the identification (县级复核维持认定)."""
    follow_up = FollowUp.objects.filter(target__lead=OuterRef("pk"))
    done_in_window = follow_up.filter(
        Q(state=FollowUpState.DONE, county_review=False, completed_at__gte=since, completed_at__lt=until)
        | Q(county_review=True, county_reviewed_at__gte=since, county_reviewed_at__lt=until)
    )
    plain = ~Q(Exists(follow_up)) & Q(decided_at__gte=since, decided_at__lt=until)
    return Q(state=LeadState.CONFIRMED) & (plain | Q(Exists(done_in_window)))


def _awaiting_follow_up(since: dt.datetime, until: dt.datetime) -> Q:
    """Direct confirmations decided in the period whose 补办 is open or went back to the county
    (and was not answered yet)."""
    pending = FollowUp.objects.filter(target__lead=OuterRef("pk")).filter(
        Q(state=FollowUpState.OPEN) | Q(county_review=True, county_reviewed_at__isnull=True)
    )
    return Q(state=LeadState.CONFIRMED, decided_at__gte=since, decided_at__lt=until) & Q(Exists(pending))


def announcement_build(*, user: Any, township: Region, start: dt.date, end: dt.date) -> Announcement:
    """The 公告 of ``township`` for ``start``–``end`` (local dates, both included).

    A fixed number of queries whatever the number of rows (the province's setting, three lists).
    The township must come from ``announcement_township`` (it is the scope check)."""
    since, until = _local_bounds(start, end)
    window = Q(decided_at__gte=since, decided_at__lt=until)
    order = ("household__village_id", "household__household_no", "decided_at", "id")

    identified = _rows(
        list(
            _in_township(Lead.objects.all(), township)
            .filter(_identified(since, until))
            .annotate(
                head_name=_head_name("household_id"),
                family_size=_family_size("household_id"),
                category=Subquery(
                    MonitoringTarget.objects.filter(lead=OuterRef("pk")).order_by("-id").values("category")[:1]
                ),
            )
            .order_by(*order)
            .values(
                "household_id",
                "head_name",
                "family_size",
                "category",
                "suggested_category",
                "decided_at",
                village_name=F("household__village__name"),
            )
        ),
        lambda v: CATEGORY_LABELS.get(v["category"] or v["suggested_category"] or "", ""),
    )
    eliminated = _rows(
        list(
            _in_township(EliminationProposal.objects.all(), township)
            .filter(window, state=ProposalState.CONFIRMED)
            .annotate(head_name=_head_name("target__household_id"), family_size=_family_size("target__household_id"))
            .order_by("target__household__village_id", "target__household__household_no", "decided_at", "id")
            .values(
                "head_name",
                "family_size",
                "method",
                "decided_at",
                household_id=F("target__household_id"),
                village_name=F("target__household__village__name"),
            )
        ),
        lambda v: METHOD_LABELS.get(v["method"], ""),
    )
    announce_rejections = procedure_setting_for(province_code=township.code).announce_rejections
    rejected: list[AnnouncementRow] = []
    if announce_rejections:
        rejected = _rows(
            list(
                _in_township(Lead.objects.all(), township)
                .filter(window, state=LeadState.REJECTED)
                .annotate(head_name=_head_name("household_id"), family_size=_family_size("household_id"))
                .order_by(*order)
                .values(
                    "household_id",
                    "head_name",
                    "family_size",
                    "decided_at",
                    village_name=F("household__village__name"),
                )
            ),
            lambda v: REJECTED_LABEL,
        )
    awaiting = _in_township(Lead.objects.all(), township).filter(_awaiting_follow_up(since, until)).count()
    county = township.parent
    return Announcement(
        township=township,
        county_name=county.name if county is not None else "",
        start=start,
        end=end,
        identified=identified,
        eliminated=eliminated,
        rejected=rejected,
        rejections_announced=announce_rejections,
        awaiting_follow_up=awaiting,
    )


def announcement_counts(*, townships: list[Region], start: dt.date, end: dt.date) -> dict[str, dict[str, int]]:
    """Per township code: how many households each group of its 公告 lists (two queries; the
    不予纳入 count is given whether or not the province announces them — the page says which)."""
    since, until = _local_bounds(start, end)
    counts: dict[str, dict[str, int]] = {t.code: {"identified": 0, "eliminated": 0, "rejected": 0} for t in townships}
    if not townships:
        return counts
    window = Q(decided_at__gte=since, decided_at__lt=until)
    township_of = {t.code[:9]: t.code for t in townships}
    prefixes = Q()
    for t in townships:
        prefixes |= Q(
            household__village__code__gte=t.code[:9] + "000", household__village__code__lte=t.code[:9] + "999"
        )
    for row in (
        Lead.objects.filter(prefixes)
        .filter(Q(window, state=LeadState.REJECTED) | _identified(since, until))
        .values("household__village_id", "state")
        .annotate(n=Count("household_id", distinct=True))
        .order_by()
    ):
        code = township_of.get(row["household__village_id"][:9])
        if code:
            key = "identified" if row["state"] == LeadState.CONFIRMED else "rejected"
            counts[code][key] += row["n"]
    target_prefixes = Q()
    for t in townships:
        target_prefixes |= Q(
            target__household__village__code__gte=t.code[:9] + "000",
            target__household__village__code__lte=t.code[:9] + "999",
        )
    for elim in (
        EliminationProposal.objects.filter(window, target_prefixes, state=ProposalState.CONFIRMED)
        .values("target__household__village_id")
        .annotate(n=Count("target__household_id", distinct=True))
        .order_by()
    ):
        code = township_of.get(elim["target__household__village_id"][:9])
        if code:
            counts[code]["eliminated"] += elim["n"]
    return counts
