from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from monitoring.models import Household, Member


def overview_counts(*, user: Any) -> dict[str, int]:
    """Counts for the home page, within the user's scope (two queries)."""
    households = Household.objects.for_user(user).aggregate(
        total=Count("pk"), exited=Count("pk", filter=Q(household_type=Household.Type.EXITED))
    )
    members = (
        Member.objects.current()
        .for_user(user)
        .aggregate(
            total=Count("pk"),
            registered=Count("pk", filter=Q(household__household_type=Household.Type.EXITED)),
        )
    )
    return {
        "households": households["total"],
        "exited_households": households["exited"],
        "members": members["total"],
        "registered_population": members["registered"],
    }
