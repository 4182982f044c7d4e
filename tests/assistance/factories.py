"""Factories for assistance plans and risk elimination."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from assistance.models import EliminationProposal, Measure, MeasureStatus, ProposalMethod, ProposalState, TargetMeasure
from monitoring.models import Household, MonitoringTarget, TargetStatus
from tests.factories import TargetFactory


def measure(code: str) -> Measure:
    """A seeded catalogue measure by code."""
    return Measure.objects.get(code=code)


def target_for(household: Household, **extra: object) -> MonitoringTarget:
    """The household's active target (created if missing)."""
    existing = MonitoringTarget.objects.filter(household=household, status=TargetStatus.ACTIVE).first()
    return existing or TargetFactory(household=household, **extra)


class TargetMeasureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TargetMeasure

    target = factory.SubFactory(TargetFactory)
    measure = factory.LazyFunction(lambda: measure("MICROCREDIT"))
    responsible_name = "王帮扶"
    responsible_unit = "县农业农村局"
    responsible_phone = "13900001111"
    start_on = dt.date(2024, 4, 1)
    status = MeasureStatus.IN_PROGRESS


class ProposalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EliminationProposal

    target = factory.SubFactory(TargetFactory)
    state = ProposalState.PROPOSED
    method = ProposalMethod.ASSISTED
    proposed_at = factory.LazyFunction(timezone.now)
