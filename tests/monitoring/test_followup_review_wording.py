"""The 县级复核 page and manual tell a county that disagrees with the village what leaving it
un-reviewed means: the household cannot be proposed for 风险消除 either (the 绿色通道补办
criterion waits for the county)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.conftest import World
from tests.monitoring.test_followup_county_review import _follow_up_criterion, disagreed

pytestmark = pytest.mark.django_db


def test_the_review_page_says_an_unanswered_review_also_blocks_elimination(world: World) -> None:
    f = disagreed(world)
    page = world.client_for("county").get(reverse("monitoring:followup", args=[f.pk])).content.decode()
    form = page.split('data-testid="followup-county-review-form"')[1]
    assert _follow_up_criterion(f.target)[1] is False  # what the page must say
    assert "复核前该户也不能提出风险消除" in form


def test_the_manual_no_longer_sends_the_county_to_elimination_for_a_disagreement() -> None:
    manual = (Path(settings.BASE_DIR) / "docs" / "用户手册.md").read_text(encoding="utf-8")
    manual = "".join(manual.split())  # a sentence wraps across lines
    assert "需要退出监测的按风险消除程序办理" not in manual
