"""Reads for the review workflow: queues, one lead, navigation counts, the 公示名单."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Case, Count, Q, QuerySet, Subquery, Value, When
from django.db.models.fields import BooleanField
from django.utils import timezone

from fanpin.core.models import AuditEntry
from fanpin.core.roles import effective_role
from fanpin.core.scoping import code_prefix
from monitoring.models import (
    Lead,
    LeadSource,
    LeadState,
    Member,
    MonitoringTarget,
    RiskType,
    TargetCategory,
    Visit,
)
from monitoring.models.households import NO_HEAD
from monitoring.models.screening_rules import RULE_LABELS, RULE_REASONS
from monitoring.selectors.comparisons import unjudged_issue_condition
from monitoring.selectors.deadlines import leads_overdue_condition
from monitoring.selectors.households import members_prefetch
from monitoring.selectors.regions import county_name_annotation
from monitoring.selectors.rosters import assistance_condition

# The state each role acts on (its queue's default filter).
ROLE_QUEUE_STATE = {"VILLAGE": LeadState.NEW, "TOWNSHIP": LeadState.VERIFIED, "COUNTY": LeadState.REVIEWED}
QUEUE_SORTS = {
    "raised": ("raised_at", "id"),
    "-raised": ("-raised_at", "-id"),
    "household": ("household__household_no", "id"),
    "village": ("household__village_id", "household__household_no", "id"),
}
DEFAULT_SORT = "raised"  # oldest first: the overdue ones are on top


def overdue_days() -> int:
    """SPEC §5: a lead undecided this many days after it was raised is 逾期 (a parameter)."""
    return int(getattr(settings, "LEAD_OVERDUE_DAYS", 15))


def overdue_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(days=overdue_days())


def _head_name() -> Subquery:
    return Member.objects.head_name_of("household_id")


def _json_list_has(field: str, code: str) -> Q:
    """``code`` is an element of the JSON list ``field`` (containment on PostgreSQL)."""
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__contains": [code]})
    return Q(**{f"{field}__icontains": f'"{code}"'})


@dataclass(frozen=True)
class QueueFilters:
    state: str = ""  # "" = the role's own step, "ALL" = every state
    source: str = ""
    rule: str = ""
    category: str = ""
    region: str = ""  # a township or village code inside the user's scope
    overdue: bool = False
    late: bool = False  # 超期: a step past its 办理时限 (monitoring.selectors.deadlines)
    publicity: str = ""  # "" · "ENDED" (or none recorded: the township may review) · "ONGOING"
    assistance: str = ""  # 社会救助 (民政 status now): "" · ANY · NONE · a category (selectors.rosters)
    sort: str = DEFAULT_SORT
    # a filter the page could not read (a village outside the scope, a name several villages
    # share): the queue lists nothing beside the field's error, never every lead as if unfiltered
    unreadable: bool = False


PUBLICITY_FILTERS = {"ENDED": "公示已结束", "ONGOING": "公示中"}


def default_state_for(user: Any) -> str:
    return str(ROLE_QUEUE_STATE.get(effective_role(user), "ALL"))


OPEN_STATES = [LeadState.NEW, LeadState.VERIFIED, LeadState.REVIEWED]
NOTHING = Q(pk__in=[])  # the queue's condition when a filter could not be read: no lead


def queue_condition(*, user: Any, filters: QueueFilters) -> Q:
    """The queue's filters as one condition (used for the rows and for the counts)."""
    f = filters
    if f.unreadable:
        return NOTHING
    cond = Q()
    state = f.state or default_state_for(user)
    if state != "ALL":
        cond &= Q(state=state)
    if f.source:
        cond &= _json_list_has("sources", f.source)
    if f.rule:
        cond &= _json_list_has("rules_fired", f.rule)
    if f.category:
        cond &= Q(suggested_category=f.category)
    if f.region:
        if len(f.region) != 12 or not f.region.isdigit():
            return NOTHING
        prefix = code_prefix(f.region)  # a range of 12-digit codes, as ``ScopedQuerySet.within``
        cond &= Q(village_id__gte=prefix.ljust(12, "0"), village_id__lte=prefix.ljust(12, "9"))  # the lead's own copy
    if f.overdue:
        cond &= Q(state__in=OPEN_STATES, raised_at__lt=overdue_cutoff())
    if f.late:
        cond &= leads_overdue_condition(today=timezone.localdate())
    if f.publicity == "ENDED":  # what lead_review allows: no 公示 recorded, or it ended before today,
        # and no 有异常 信息比对 waiting for the county's judgement
        cond &= ~Q(publicity_end__gte=timezone.localdate()) & ~unjudged_issue_condition()
    elif f.publicity == "ONGOING":
        cond &= Q(publicity_end__gte=timezone.localdate())
    if f.assistance:
        cond &= assistance_condition(category=f.assistance, household="household")
    return cond


def lead_queue_counts(*, user: Any, filters: QueueFilters) -> dict[str, int]:
    """In one pass over the user's leads: the queue's total (for pagination) and the navigation
    badge's figures (waiting at the user's step, of which overdue)."""
    state = ROLE_QUEUE_STATE.get(effective_role(user))
    queue = queue_condition(user=user, filters=filters)
    if state is None and queue == NOTHING:
        # Every figure is 0.  Asked anyway, Django would drop the three empty aggregates and send
        # ``SELECT 0, 0, 0 FROM monitoring_lead … WHERE <scope>``: one row per lead in scope
        # (140 000 at a province) for an answer of 0.
        return {"total": 0, "waiting": 0, "overdue": 0}
    cutoff = overdue_cutoff()
    mine = Q(state=state) if state is not None else NOTHING
    return Lead.objects.for_user(user).aggregate(
        total=Count("id", filter=queue),
        waiting=Count("id", filter=mine),
        overdue=Count("id", filter=mine & Q(raised_at__lt=cutoff)),
    )


def lead_queue(*, user: Any, filters: QueueFilters | None = None) -> QuerySet[Lead]:
    """The leads a user may see, filtered and sorted for the review queue; a fixed number of
    queries whatever the page size (household, village and township joined; head name a subquery)."""
    f = filters or QueueFilters()
    # evidence (a JSON document per source) is not shown in lists: leave it out of the rows sorted
    qs: Any = (
        Lead.objects.for_user(user)
        .select_related("household", "household__village", "household__village__parent")
        .annotate(**county_name_annotation(user=user, village="household__village"))
        .defer("evidence")
    )
    qs = qs.filter(queue_condition(user=user, filters=f))
    cutoff = overdue_cutoff()
    qs = qs.annotate(
        head_name=_head_name(),
        is_overdue=Case(
            When(
                state__in=[LeadState.NEW, LeadState.VERIFIED, LeadState.REVIEWED],
                raised_at__lt=cutoff,
                then=Value(True),
            ),
            default=Value(False),
            output_field=BooleanField(),
        ),
    )
    return qs.order_by(*QUEUE_SORTS.get(f.sort, QUEUE_SORTS[DEFAULT_SORT]))


def nav_counts(*, user: Any) -> dict[str, int]:
    """For the navigation badge: leads waiting at the user's step, and how many are overdue (one query)."""
    state = ROLE_QUEUE_STATE.get(effective_role(user))
    if state is None:
        return {"waiting": 0, "overdue": 0}
    return (
        Lead.objects.for_user(user)
        .filter(state=state)
        .aggregate(waiting=Count("id"), overdue=Count("id", filter=Q(raised_at__lt=overdue_cutoff())))
    )


def lead_detail(*, user: Any, pk: int) -> Lead:
    """One lead in the user's scope (raises ``Lead.DoesNotExist`` outside)."""
    return (
        Lead.objects.for_user(user)
        .select_related("household", "household__village", "household__village__parent", "decided_by")
        .prefetch_related(*members_prefetch(path="household__"))
        .annotate(head_name=_head_name())
        .get(pk=pk)
    )


def lead_audit_trail(*, lead: Lead) -> QuerySet[AuditEntry]:
    return (
        AuditEntry.objects.filter(object_type="lead", object_id=str(lead.pk))
        .select_related("actor")
        .order_by("at", "id")
    )


def lead_target(*, lead: Lead) -> MonitoringTarget | None:
    return MonitoringTarget.objects.filter(lead=lead).first()


def household_other_leads(*, lead: Lead) -> QuerySet[Lead]:
    return Lead.objects.filter(household_id=lead.household_id).exclude(pk=lead.pk).order_by("-raised_at")


# -- labels --------------------------------------------------------------------------------------
SOURCE_LABELS = dict(LeadSource.choices)
CATEGORY_LABELS = dict(TargetCategory.choices)
RISK_LABELS = dict(RiskType.choices)


def labels_joined(codes: Any, labels: Mapping[str, str]) -> str:
    """``["LOW_INCOME", "INCOME_DROP"]`` → ``收入低于监测标准、收入骤减`` (SPEC §6)."""
    return "、".join(labels.get(str(c), str(c)) for c in (codes or []))


# The 公示名单 says why a household is listed in words a villager reads (SPEC §5), not rule names:
# each rule's ``reason`` (RULE_REASONS, from the declarations).
GENERIC_REASON = "存在返贫致贫风险"


def lead_reason(lead: Lead) -> str:
    """The reason shown on the 公示名单: the risk types, then the rules that fired in plain words
    (``因病、缺劳动力；人均纯收入低于监测标准``).  Never the source, a 身份证号, a phone, an amount
    or a diagnosis (SPEC §5): a lead with neither (a visit's checklist, an application's text)
    reads ``存在返贫致贫风险``."""
    parts = [
        labels_joined(lead.suggested_risk_types, RISK_LABELS),
        "、".join(RULE_REASONS.get(str(r), RULE_LABELS.get(str(r), "")) for r in lead.rules_fired or []),
    ]
    return "；".join(p for p in parts if p) or GENERIC_REASON


@dataclass(frozen=True)
class LeadVisit:
    """A visit that raised (or joined) a lead, as the lead page lists it."""

    pk: int
    visited_on: dt.date
    visitors: str
    failing_items: list[str]
    risk_flag: bool
    household_id: int


def lead_visits(*, lead: Lead) -> list[LeadVisit]:
    """The visits named in the lead's 走访排查 evidence (newest first), of the lead's own household."""
    entries = (lead.evidence or {}).get(LeadSource.VISIT) or []
    named = [e.get("visit_id") for e in (entries if isinstance(entries, list) else [entries]) if isinstance(e, dict)]
    ids: list[int] = [i for i in named if isinstance(i, int)]
    if not ids:
        return []
    return [
        LeadVisit(
            pk=v.pk,
            visited_on=v.visited_on,
            visitors=v.visitors,
            failing_items=[label for label, secure in v.checklist if not secure],
            risk_flag=v.risk_flag,
            household_id=v.household_id,
        )
        for v in Visit.objects.filter(pk__in=ids, household_id=lead.household_id).order_by("-visited_on", "-id")
    ]


# -- 公示名单 -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PublicityRow:
    name: str
    village: str
    category: str
    reason: str
    start: dt.date | None
    end: dt.date | None


def publicity_list(*, user: Any, village_code: str) -> list[PublicityRow]:
    """Leads of one village under or after public posting (verified, not yet decided).

    Only name, village, category and reason — never 身份证号, phone, bank account or health.
    """
    qs = (
        Lead.objects.for_user(user)
        .filter(village_id=village_code, state__in=[LeadState.VERIFIED, LeadState.REVIEWED])
        .exclude(publicity_start__isnull=True)
        .select_related("household__village")
        .annotate(head_name=_head_name())
        .order_by("household__household_no")
    )
    return [
        PublicityRow(
            name=lead.head_name or NO_HEAD,  # type: ignore[attr-defined]
            village=lead.household.village.name,
            category=CATEGORY_LABELS.get(lead.suggested_category, ""),
            reason=lead_reason(lead),
            start=lead.publicity_start,
            end=lead.publicity_end,
        )
        for lead in qs
    ]


def targets_in_scope(
    *, user: Any, status: str = "", category: str = "", region: str = "", risk_type: str = "", assistance: str = ""
) -> QuerySet[MonitoringTarget]:
    qs = (
        MonitoringTarget.objects.for_user(user)
        .select_related("household", "household__village", "household__village__parent")
        .annotate(**county_name_annotation(user=user, village="household__village"))
    )
    if status:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category=category)
    if risk_type:
        qs = qs.filter(_json_list_has("risk_types", risk_type))
    if region:
        qs = qs.within(code_prefix(region)) if len(region) == 12 else qs.none()
    if assistance:  # 社会救助: the household's current 民政 status (selectors.rosters)
        qs = qs.filter(assistance_condition(category=assistance, household="household"))
    return qs.annotate(head_name=_head_name()).order_by("-identified_on", "-id")


def target_detail(*, user: Any, pk: int) -> MonitoringTarget:
    return (
        MonitoringTarget.objects.for_user(user)
        .select_related("household", "household__village", "household__village__parent", "lead", "confirmed_by")
        .annotate(head_name=_head_name())
        .get(pk=pk)
    )


def target_audit_trail(*, target: MonitoringTarget) -> QuerySet[AuditEntry]:
    lead_ids = [str(target.lead_id)] if target.lead_id else []
    return (
        AuditEntry.objects.filter(
            Q(object_type="lead", object_id__in=lead_ids) | Q(object_type="target", object_id=str(target.pk))
        )
        .select_related("actor")
        .order_by("at", "id")
    )
