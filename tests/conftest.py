from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from fanpin.core.models import User
from fanpin.core.roles import Department, Role
from monitoring.models import Household, Relation
from tests.factories import HouseholdFactory, MemberFactory, region, user

# A small world: two provinces; in province 52 two cities, three counties, townships and villages.
VILLAGES = [
    "520101001001",  # county 520101, township 001
    "520101001002",
    "520101002001",  # county 520101, township 002
    "520102001001",  # county 520102 (same city 5201)
    "520201001001",  # city 5202
    "530101001001",  # another province
]


@dataclass
class World:
    households: dict[str, Household] = field(default_factory=dict)  # village code → household
    users: dict[str, User] = field(default_factory=dict)  # role name → user

    def visible(self, prefix: str) -> set[str]:
        return {h.household_no for code, h in self.households.items() if code.startswith(prefix)}


# role → (region code, the prefix of what it must see)
ROLE_REGIONS = {
    "province": (Role.PROVINCE, "520000000000", "52"),
    "city": (Role.CITY, "520100000000", "5201"),
    "county": (Role.COUNTY, "520101000000", "520101"),
    "township": (Role.TOWNSHIP, "520101001000", "520101001"),
    "village": (Role.VILLAGE, "520101001001", "520101001001"),
}


@pytest.fixture
def world(db: None) -> World:
    w = World()
    for code in VILLAGES:
        region(code, f"村{code[-6:]}")
        hh = HouseholdFactory(household_no=f"H{code}", village_id=code)
        MemberFactory(household=hh, relation=Relation.HEAD, name=f"户主{code[-6:]}")
        w.households[code] = hh
    for name, (role, code, _prefix) in ROLE_REGIONS.items():
        w.users[name] = user(name, role, code)
    w.users["admin"] = user("admin", Role.ADMIN, None)
    w.users["dept"] = user("dept", Role.DEPT, "520101000000", department=Department.MEDICAL_INSURANCE)
    return w


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Path) -> None:
    """Uploaded files (imports, scans, photos) go to a temporary MEDIA_ROOT, never into the project."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Every test starts with an empty cache (dashboard snapshots, rate limits)."""
    from django.core.cache import cache

    cache.clear()
