"""factory_boy factories for the registry.  IDs are valid (GB 11643) and unique."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import factory
from django.utils import timezone

from fanpin.core.idcard import id_check_digit
from fanpin.core.models import User
from fanpin.core.regions import region_level_of, region_parent_code
from fanpin.core.roles import Role
from monitoring.models import (
    AnnualIncome,
    Household,
    HouseholdType,
    Labor,
    Lead,
    LeadState,
    Member,
    MonitoringLine,
    MonitoringTarget,
    Region,
    Relation,
    RigidExpenditure,
    TargetCategory,
    TargetStatus,
    Visit,
)

_id_seq = itertools.count(1)


def make_id_number(county: str = "520101", birth: dt.date = dt.date(1980, 5, 17)) -> str:
    """A valid, unique 身份证号 (sequence digits cycle through 000–999 across birth days)."""
    n = next(_id_seq)
    day = birth + dt.timedelta(days=n // 1000)
    first17 = f"{county[:6]}{day:%Y%m%d}{n % 1000:03d}"
    return first17 + id_check_digit(first17)


def region(code: str, name: str | None = None, *, deep: bool = False) -> Region:
    """Create the region and any missing ancestors (level and parent follow from the code)."""
    parent_code = region_parent_code(code)
    if parent_code and not Region.objects.filter(code=parent_code).exists():
        region(parent_code)
    obj, _ = Region.objects.get_or_create(
        code=code,
        defaults={
            "name": name or f"区划{code}",
            "level": region_level_of(code),
            "parent_id": parent_code,
            "is_deep_poverty": deep,
        },
    )
    return obj


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    household_no = factory.Sequence(lambda n: f"HH{n:08d}")
    village = factory.LazyFunction(lambda: region("520101001001", "测试村"))
    household_type = HouseholdType.GENERAL
    exit_year = None
    phone = "13812345678"

    class Params:
        exited = factory.Trait(household_type=HouseholdType.EXITED, exit_year=2018)


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    household = factory.SubFactory(HouseholdFactory)
    name = factory.Sequence(lambda n: f"成员{n}")
    id_number = factory.LazyFunction(make_id_number)
    relation = Relation.SPOUSE
    health = Member.Health.HEALTHY
    labor = Labor.NORMAL


class IncomeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AnnualIncome

    household = factory.SubFactory(HouseholdFactory)
    year = 2024
    family_size = 3
    wage_income = Decimal("30000.00")
    business_income = Decimal("5000.00")
    property_income = Decimal("0.00")
    transfer_income = Decimal("1000.00")


class ExpenditureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RigidExpenditure

    household = factory.SubFactory(HouseholdFactory)
    category = RigidExpenditure.Category.MEDICAL
    occurred_on = dt.date(2024, 6, 1)
    amount = Decimal("10000.00")
    reimbursed = Decimal("0.00")


class MonitoringLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MonitoringLine

    year = 2024
    province = None
    line = Decimal("7000.00")


def user(username: str, role: str, region_code: str | None, **extra: object) -> User:
    obj = User(
        username=username,
        role=role,
        region=region(region_code) if region_code else None,
        is_staff=role in (Role.ADMIN, Role.COUNTY, Role.TOWNSHIP),
        is_superuser=role == Role.ADMIN,
        **extra,
    )
    obj.set_password("pw-test-2020")
    obj.save()
    return obj


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    household = factory.SubFactory(HouseholdFactory)
    village_id = factory.LazyAttribute(lambda o: o.household.village_id)  # always the household's
    state = LeadState.NEW
    sources = factory.LazyFunction(lambda: ["SCREENING"])
    rules_fired = factory.LazyFunction(lambda: ["LOW_INCOME"])
    year = 2024
    raised_at = factory.LazyFunction(timezone.now)
    # A lead past the village step was verified (database check lead_verified_has_time).
    verified_at = factory.LazyAttribute(
        lambda o: timezone.now() if o.state in (LeadState.VERIFIED, LeadState.REVIEWED) else None
    )


class TargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MonitoringTarget

    household = factory.SubFactory(HouseholdFactory)
    category = TargetCategory.EDGE_AT_RISK
    risk_types = factory.LazyFunction(lambda: ["ILLNESS"])
    identified_on = dt.date(2024, 3, 1)
    status = TargetStatus.ACTIVE


def income(household: Household, year: int, per_capita: Decimal | str, size: int = 1, **extra: object) -> AnnualIncome:
    """An income row whose per-capita income is exactly ``per_capita`` (all of it wage income)."""
    total = Decimal(per_capita) * size
    return IncomeFactory(
        household=household,
        year=year,
        family_size=size,
        wage_income=total,
        business_income=Decimal("0"),
        property_income=Decimal("0"),
        transfer_income=Decimal("0"),
        **extra,
    )


class VisitFactory(factory.django.DjangoModelFactory):
    """A visit with every 两不愁三保障 item secured (override a field to make one not secured)."""

    class Meta:
        model = Visit

    household = factory.SubFactory(HouseholdFactory)
    visited_on = factory.LazyFunction(timezone.localdate)
    visitors = "张驻村"
    income_change = Visit.IncomeChange.NONE
