"""Lead state changes go through the review workflow (``monitoring.services.review``); here what
keeps a lead's copy of its household's village right."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import F, OuterRef, Subquery

from monitoring.models import Household, Lead
from monitoring.services.review import lead_raise_or_merge, lead_reject

__all__ = ["lead_raise_or_merge", "lead_reject", "leads_village_follow"]


def leads_village_follow(*, household_ids: Sequence[int]) -> int:
    """The leads of these households that name another village than their household take the
    household's (an import moved it): one UPDATE, in the caller's transaction.  A lead is seen by
    the regions of its village (``LeadQuerySet.region_path``), so a moved household's leads go with
    it, as its targets and visits do.  Returns how many leads moved."""
    village = Subquery(Household.objects.filter(pk=OuterRef("household_id")).values("village_id")[:1])
    return (
        Lead.objects.filter(household_id__in=household_ids)
        .exclude(village_id=F("household__village_id"))
        .update(village_id=village)
    )
