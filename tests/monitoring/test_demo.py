"""``generate_demo``: a plausible, deterministic synthetic registry with one user per role."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from fanpin.core.idcard import id_birth_date, id_number_is_valid
from monitoring.models import AnnualIncome, AssistanceEntry, Household, Member, Region, RigidExpenditure
from monitoring.services.demo import DEMO_YEARS, demo_generate

pytestmark = pytest.mark.django_db


def test_generate_demo_command_prints_summary_and_logins() -> None:
    out = StringIO()
    call_command("generate_demo", "--households", "300", "--seed", "7", stdout=out)
    text = out.getvalue()
    assert "农户 300 户" in text
    assert "demo-2020" in text
    for username in ["admin", "province", "city", "county", "township", "village", "dept"]:
        assert username in text
        request = RequestFactory().post("/accounts/login/")
        assert authenticate(request, username=username, password="demo-2020") is not None
    out = StringIO()
    call_command("generate_demo", "--households", "300", stdout=out)
    assert "已存在" in out.getvalue()
    assert Household.objects.count() == 300


def test_demo_is_plausible() -> None:
    demo_generate(households=400, seed=3, with_users=False)
    assert Region.objects.filter(level=Region.Level.COUNTY, is_deep_poverty=True).count() == 1
    assert Region.objects.filter(level=Region.Level.COUNTY).count() == 2
    households = Household.objects.count()
    assert households == 400
    # exactly one head per household; valid, unique IDs
    assert Member.objects.filter(relation=Member.Relation.HEAD).count() == households
    ids = list(Member.objects.values_list("id_number", "relation", "schooling", "labor"))
    assert all(id_number_is_valid(i) for i, *_ in ids)
    today = dt.date(DEMO_YEARS[-1], 12, 31)
    for id_number, relation, schooling, labor in ids:
        age = (today - id_birth_date(id_number)).days // 365
        if relation == Member.Relation.HEAD:
            assert age >= 18
        if schooling in {Member.Schooling.PRIMARY, Member.Schooling.JUNIOR}:
            assert 5 <= age <= 16
            assert labor == Member.Labor.NONE
    # two years of incomes for every household; family size equals the members
    assert AnnualIncome.objects.count() == 2 * households
    sizes = {h.pk: h.members.count() for h in Household.objects.prefetch_related("members")}
    assert all(i.family_size == sizes[i.household_id] for i in AnnualIncome.objects.all())
    # most above the line, some below it
    below = sum(1 for i in AnnualIncome.objects.filter(year=DEMO_YEARS[-1]) if i.per_capita < 8700)
    assert 0.02 * households < below < 0.3 * households


def test_demo_is_deterministic_for_a_seed() -> None:
    demo_generate(households=50, seed=11, with_users=False)
    first = list(Member.objects.order_by("id_number").values_list("id_number", "name"))
    RigidExpenditure.objects.all().delete()
    AssistanceEntry.objects.all().delete()  # a matched 民政 line keeps its member (database check)
    Household.objects.all().delete()
    demo_generate(households=50, seed=11, with_users=False)
    assert list(Member.objects.order_by("id_number").values_list("id_number", "name")) == first


def test_demo_has_a_small_roster_of_both_populations() -> None:
    """Issue 19: the demo's 民政 roster — matched lines of the first county, two kept unmatched."""
    from monitoring.models import AlertStatus

    demo_generate(households=200, seed=5, with_users=False)
    lines = AssistanceEntry.objects.all()
    assert lines.filter(status=AlertStatus.UNMATCHED).count() == 2
    matched = lines.filter(status=AlertStatus.MATCHED)
    assert matched.exists() and all(e.region_code.startswith("539901") for e in matched)
    assert set(matched.values_list("category", flat=True)) == {
        "SUBSISTENCE",
        "DESTITUTE",
        "NEAR_SUBSISTENCE",
        "RIGID_HARDSHIP",
    }
