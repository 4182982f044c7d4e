"""The demo's 回头看 (issue 18 part 7): started by the demo workflow, partly done by the village's visits."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from monitoring.models import Campaign, CampaignTask, TaskDoneVia, TaskState

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_demo_has_a_partly_done_revisit() -> None:
    call_command("generate_demo", households=600, verbosity=0)
    call_command("screen", year=2025, verbosity=0)
    call_command("demo_workflow", verbosity=0)
    campaign = Campaign.objects.get(name="脱贫户回头看（演示）")
    tasks = CampaignTask.objects.filter(campaign=campaign)
    done = tasks.filter(state=TaskState.DONE)
    assert campaign.task_count == tasks.count() > done.count() > 0
    assert set(done.values_list("done_via", flat=True)) == {TaskDoneVia.VISIT}
    assert len(set(tasks.values_list("village_code", flat=True))) >= 2
    call_command("demo_workflow", verbosity=0)  # run again: nothing new
    assert Campaign.objects.count() == 1
