"""信息比对 in the demo (issue 18): ``make demo``'s workflow leaves comparisons of every kind, and the
lead pages of the demo's and of screening's leads show the panel to every role without errors."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from fanpin.core.models import User
from monitoring.models import DataComparison, Lead, LeadState
from monitoring.services.demo import demo_generate

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_demo_leads_carry_comparisons_and_every_role_sees_the_panel() -> None:
    demo_generate(households=600, seed=2020, with_users=True)
    call_command("screen", "--year", "2025", verbosity=0)
    call_command("demo_workflow", "--direct", "2", "--rejected", "1", verbosity=0)

    issues = DataComparison.objects.filter(result="ISSUE")
    assert issues.filter(judgement="").count() == 1  # the township waits for the county's judgement
    assert issues.exclude(judgement="").count() == 1
    assert DataComparison.objects.filter(result="NO_ISSUE").count() >= 5
    held = issues.get(judgement="").lead
    assert held.state == LeadState.VERIFIED
    consented_new = Lead.objects.filter(state=LeadState.NEW, consent_signed=True)
    assert consented_new.count() == 2

    with_rows = set(DataComparison.objects.values_list("lead_id", flat=True))
    screened = Lead.objects.filter(state=LeadState.NEW).exclude(pk__in=with_rows).order_by("id").first()
    assert screened is not None
    for username in ("county", "township", "village", "city", "province"):
        client = Client()
        client.force_login(User.objects.get(username=username))
        for lead_id in [*sorted(with_rows), screened.pk]:
            response = client.get(reverse("monitoring:lead_detail", args=[lead_id]))
            if response.status_code == 404:  # outside the user's region
                continue
            assert response.status_code == 200, (username, lead_id)
            assert 'data-testid="comparisons-panel"' in response.content.decode()
    township = Client()
    township.force_login(User.objects.get(username="township"))
    text = township.get(reverse("monitoring:lead_detail", args=[held.pk])).content.decode()
    assert 'data-testid="held-note"' in text and "研判" in text
