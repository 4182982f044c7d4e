"""The demo's 回头看 campaign, for ``make demo`` only (called by
``assistance.services.demo.demo_workflow_play``): the county started a 回头看 two weeks ago over the
脱贫户 of the demo village and two more villages of its township; the village has visited a few of
them since (through ``visit_record``, which completes their tasks), so the campaign is partly done
and every campaign page has rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fanpin.core.regions import RegionLevel
from monitoring.models import Campaign, CampaignKind, CampaignSelection, CampaignTask, Region, TaskState
from monitoring.services.campaigns import CampaignInput, campaign_start
from monitoring.services.visits import VisitInput, visit_record

DEMO_VISITS = 4


def demo_campaign_start(*, village: Any, county: Any, today: dt.date) -> Campaign | None:
    """Start the demo 回头看 and visit ``DEMO_VISITS`` of its households; nothing when it exists."""
    name = "脱贫户回头看（演示）"
    if Campaign.objects.filter(name=name).exists():
        return None
    township = village.region_id[:9] + "000"
    neighbours = (
        Region.objects.filter(parent_id=township, level=RegionLevel.VILLAGE)
        .exclude(code=village.region_id)
        .order_by("code")
        .values_list("code", flat=True)[:2]
    )
    villages = [village.region_id, *neighbours]
    started = today - dt.timedelta(days=14)
    campaign = campaign_start(
        actor=county,
        data=CampaignInput(
            county_code=county.region_id,
            kind=CampaignKind.REVISIT,
            name=name,
            year=today.year,
            selection=CampaignSelection.EXITED_IN_VILLAGES,
            started_on=started,
            villages=villages,
        ),
    )
    open_in_village = CampaignTask.objects.filter(
        campaign=campaign, village_code=village.region_id, state=TaskState.OPEN
    ).order_by("household_id")
    for n, household_id in enumerate(open_in_village.values_list("household_id", flat=True)[:DEMO_VISITS]):
        visit_record(
            actor=village,
            data=VisitInput(
                household_id=household_id,
                visited_on=started + dt.timedelta(days=2 + 3 * n),
                visitors="村干部",
                notes="演示：脱贫户回头看走访",
            ),
        )
    return campaign
