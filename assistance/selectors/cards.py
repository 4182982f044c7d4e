"""帮扶明白卡: what one printed card tells a household, read for one target or a whole village.

A card names the household head (never a 身份证号), the village, the category, the risk types in
plain words, every measure that is planned, running or done with its content, period and
帮扶责任人 (with phone: the household is meant to call), the village's contacts, and the
receipt number of the household's application when there is one (the QR code leads to the public
status page with it).  Members' health (健康状况, 残疾等级) is shown only in provinces that allow it
(``settings.CARD_SHOWS_HEALTH_DETAILS_PROVINCES``).

A village's batch is read with a fixed number of queries whatever its size.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet

from assistance.models import MeasureStatus, TargetMeasure
from assistance.selectors.plans import targets_in_scope
from fanpin.core.regions import RegionLevel
from monitoring.models import (
    Application,
    Health,
    Member,
    MemberStatus,
    MonitoringTarget,
    Region,
    RiskType,
    TargetStatus,
)
from monitoring.selectors.posters import Contact, village_contacts, village_in_scope

# 风险类型 as a household reads them: the label, and what it means for the family.
RISK_PLAIN: dict[str, str] = {
    RiskType.ILLNESS: "家中有人患病，看病吃药花费较大",
    RiskType.DISABILITY: "家中有残疾人，生活和康复需要照顾",
    RiskType.EDUCATION: "孩子上学费用负担较重",
    RiskType.DISASTER: "遭受自然灾害，家庭财产或收入受损",
    RiskType.ACCIDENT: "遭遇意外事故，支出增加或收入减少",
    RiskType.EPIDEMIC: "受疫情影响，收入减少",
    RiskType.INDUSTRY_FAILURE: "种养殖或经营项目失败，收入减少",
    RiskType.UNSTABLE_EMPLOYMENT: "外出务工或就业不稳定，收入没有保障",
    RiskType.LACK_OF_LABOR: "家中缺少劳动力，挣钱能力弱",
    RiskType.HOUSING: "住房存在安全隐患",
    RiskType.DRINKING_WATER: "饮水安全没有保障",
    RiskType.OTHER: "其他困难",
}

# The measures a card lists: 已终止 ones are no longer help the household can count on.
CARD_MEASURE_STATUSES = (MeasureStatus.PLANNED, MeasureStatus.IN_PROGRESS, MeasureStatus.COMPLETED)

# A batch is one village's active targets; above this many the page asks to print in parts.
BATCH_MAX_CARDS = 500


@dataclass(frozen=True)
class CardRisk:
    label: str
    plain: str


@dataclass(frozen=True)
class CardMeasure:
    name: str
    category: str
    kind: str
    amount: Decimal | None
    amount_kind: str
    start_on: dt.date
    end_on: dt.date | None
    status: str
    responsible_name: str
    responsible_unit: str
    responsible_phone: str


@dataclass(frozen=True)
class CardHealth:
    name: str
    relation: str
    health: str
    disability: str  # 残疾等级 label, "" when none


@dataclass(frozen=True)
class Card:
    target_id: int
    household_no: str
    head_name: str
    village_code: str
    village_name: str
    township_name: str
    county_name: str
    member_count: int
    category: str
    status: str
    active: bool
    identified_on: dt.date
    risks: list[CardRisk]
    measures: list[CardMeasure]
    contacts: list[Contact]
    receipt_no: str
    # None: this province does not show health details on cards; else the members whose health
    # is not 健康 (an empty list when everybody is healthy)
    health: list[CardHealth] | None = None

    @property
    def place(self) -> str:
        return f"{self.county_name}{self.township_name}{self.village_name}"


@dataclass(frozen=True)
class VillageCards:
    village: Region
    cards: list[Card] = field(default_factory=list)
    too_many: bool = False  # more active targets than BATCH_MAX_CARDS: none are read


def card_shows_health(region_code: str) -> bool:
    """Whether cards of ``region_code``'s province show members' health: its 2-digit province code
    is one of the setting's (checked when the settings load: 2-digit or 12-digit province codes)."""
    codes = (str(code).strip() for code in getattr(settings, "CARD_SHOWS_HEALTH_DETAILS_PROVINCES", []))
    allowed = {code[:2] for code in codes if len(code) == 2 or code == code[:2] + "0" * 10}
    return region_code[:2] in allowed


def _card_targets(qs: QuerySet[MonitoringTarget]) -> QuerySet[MonitoringTarget]:
    return (
        qs.select_related("household__village__parent__parent")
        .annotate(
            member_count=Count(
                "household__members", distinct=True, filter=Q(household__members__status=MemberStatus.ACTIVE)
            )
        )
        .prefetch_related(
            Prefetch(
                "measures",
                queryset=TargetMeasure.objects.filter(status__in=CARD_MEASURE_STATUSES)
                .select_related("measure")
                .order_by("start_on", "id"),
                to_attr="card_measures",
            )
        )
    )


def _receipts(lead_ids: set[int]) -> dict[int, str]:
    """The receipt number of the application that raised or joined each lead (the latest one)."""
    receipts: dict[int, str] = {}
    rows = (
        Application.objects.filter(lead_id__in=lead_ids)
        .order_by("lead_id", "-created_at", "-id")
        .values_list("lead_id", "receipt_no")
    )
    for lead_id, receipt_no in rows:
        receipts.setdefault(lead_id, receipt_no)
    return receipts


def _health(household_ids: set[int]) -> dict[int, list[CardHealth]]:
    found: dict[int, list[CardHealth]] = defaultdict(list)
    members = (
        Member.objects.current()
        .filter(household_id__in=household_ids)
        .exclude(health=Health.HEALTHY)
        .order_by("household_id", "id")
    )
    for m in members:
        found[m.household_id].append(
            CardHealth(
                name=m.name,
                relation=m.get_relation_display(),
                health=m.get_health_display(),
                disability=m.get_disability_grade_display() if m.disability_grade else "",
            )
        )
    return found


def _cards(targets: list[MonitoringTarget]) -> list[Card]:
    villages = {t.household.village_id for t in targets}
    contacts = village_contacts(village_codes=villages)
    receipts = _receipts({t.lead_id for t in targets if t.lead_id})
    health_shown = {t.household_id for t in targets if card_shows_health(t.household.village_id)}
    health = _health(health_shown) if health_shown else {}
    cards = []
    for t in targets:
        village = t.household.village
        township = village.parent
        county = township.parent if township else None
        cards.append(
            Card(
                target_id=t.pk,
                household_no=t.household.household_no,
                head_name=getattr(t, "head_name", None) or "",
                village_code=village.code,
                village_name=village.name,
                township_name=township.name if township else "",
                county_name=county.name if county else "",
                member_count=getattr(t, "member_count", 0),
                category=t.get_category_display(),
                status=t.get_status_display(),
                active=t.status == TargetStatus.ACTIVE,
                identified_on=t.identified_on,
                risks=[
                    CardRisk(label=RiskType(code).label, plain=RISK_PLAIN.get(code, ""))
                    for code in t.risk_types or []
                    if code in RiskType.values
                ],
                measures=[
                    CardMeasure(
                        name=tm.measure.name,
                        category=tm.measure.get_category_display(),
                        kind=tm.measure.get_kind_display(),
                        amount=tm.amount,
                        amount_kind=tm.get_amount_kind_display() if tm.amount_kind else "",
                        start_on=tm.start_on,
                        end_on=tm.end_on,
                        status=tm.get_status_display(),
                        responsible_name=tm.responsible_name,
                        responsible_unit=tm.responsible_unit,
                        responsible_phone=tm.responsible_phone,
                    )
                    for tm in getattr(t, "card_measures", [])
                ],
                contacts=contacts.get(village.code, []),
                receipt_no=receipts.get(t.lead_id, "") if t.lead_id else "",
                health=health.get(t.household_id, []) if t.household_id in health_shown else None,
            )
        )
    return cards


def target_card(*, user: Any, pk: int) -> Card:
    """The card of one target in the user's scope (any status); ``MonitoringTarget.DoesNotExist``
    outside it."""
    target = _card_targets(targets_in_scope(user=user)).get(pk=pk)
    return _cards([target])[0]


def village_cards(*, user: Any, code: str) -> VillageCards:
    """The cards of a village's active targets (监测中), ordered by 户编号; ``Region.DoesNotExist``
    when the village is not in the user's scope."""
    village = village_in_scope(user=user, code=code)
    qs = targets_in_scope(user=user, region_code=code, status=TargetStatus.ACTIVE)
    if qs.count() > BATCH_MAX_CARDS:
        return VillageCards(village=village, too_many=True)
    return VillageCards(village=village, cards=_cards(list(_card_targets(qs))))


@dataclass(frozen=True)
class CardVillage:
    region: Region
    active_targets: int


def card_villages(*, user: Any) -> list[CardVillage]:
    """The villages in the user's scope with their number of active targets (for the print page)."""
    counts = dict(
        MonitoringTarget.objects.for_user(user)
        .filter(status=TargetStatus.ACTIVE)
        .values_list("household__village_id")
        .annotate(n=Count("id"))
        .values_list("household__village_id", "n")
    )
    villages = Region.objects.for_user(user).filter(level=RegionLevel.VILLAGE).select_related("parent").order_by("code")
    return [CardVillage(region=v, active_targets=counts.get(v.code, 0)) for v in villages]
