"""受理: the first step of identification (SPEC §5.6), the day the village takes a lead on.

The village (or the county) 受理s an open lead with a small audited action; it is also recorded, if
empty, when the village records anything on the lead (its 12-month 收支核算, its verification) and
when a household's own application raises the lead (``lead_accepted_mark``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from fanpin.core.audit import audit_record
from fanpin.core.roles import Role, effective_role
from fanpin.core.workflow import ObjectOutOfScope, TransitionNotAllowed
from monitoring.models import OPEN_LEAD_STATES, Lead

ACCEPT_ROLES = frozenset({Role.VILLAGE, Role.COUNTY, Role.ADMIN})


def lead_accepted_mark(lead: Lead, *, on: dt.date) -> list[str]:
    """Record ``on`` as the lead's 受理日期 if it has none; the fields to save (``[]``: unchanged)."""
    if lead.accepted_on is not None:
        return []
    lead.accepted_on = on
    return ["accepted_on"]


def lead_accepted_by_home_check(lead: Lead, *, checked_on: dt.date) -> list[str]:
    """The 入户核实 of ``checked_on`` shows the lead was 受理 by then: record it as the 受理日期 if
    there is none, or bring a later one (marked when the 收支核算 was entered, or pressed after
    the visit) back to it, so that 受理 never follows 入户核实 (its time limit would count from a
    day after the work was done).  The fields to save."""
    if lead.accepted_on is not None and lead.accepted_on <= checked_on:
        return []
    lead.accepted_on = checked_on
    return ["accepted_on"]


def may_accept(user: Any) -> bool:
    return effective_role(user) in ACCEPT_ROLES


@transaction.atomic
def lead_accept(*, lead_id: int, actor: Any, accepted_on: dt.date | None = None) -> Lead:
    """受理 an open lead (default: today). Between the lead's raise date and today; once."""
    lead = Lead.objects.for_user(actor).select_for_update(of=("self",)).filter(pk=lead_id).first()
    if lead is None:
        raise ObjectOutOfScope("线索")
    if not may_accept(actor):
        raise PermissionDenied("受理由村级（或县级）办理。")
    if lead.state not in OPEN_LEAD_STATES:
        raise TransitionNotAllowed(f"线索当前状态为“{lead.get_state_display()}”，已办结，不能再受理。")
    if lead.accepted_on is not None:
        raise TransitionNotAllowed(f"该线索已于{lead.accepted_on:%Y-%m-%d}受理。")
    today = timezone.localdate()
    day = accepted_on or today
    raised = timezone.localdate(lead.raised_at)
    if day > today:
        raise ValidationError({"accepted_on": "受理日期不能晚于今天。"})
    if day < raised:
        raise ValidationError({"accepted_on": f"受理日期不能早于线索发现日期（{raised:%Y-%m-%d}）。"})
    lead.accepted_on = day
    lead.save(update_fields=["accepted_on"])
    audit_record(
        actor=actor,
        object_type="lead",
        object_id=lead.pk,
        region_code=lead.household.village_id,
        action="accept",
        from_state=lead.state,
        to_state=lead.state,
        reason="受理",
        data={"accepted_on": day.isoformat()},
    )
    return lead
