"""Village QR posters (a QR code to the self-report page with the village filled in) and what
the county learns from them: how many applications came through a poster, directly, or by a cadre."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count

from fanpin.core.models import User
from fanpin.core.regions import RegionLevel
from fanpin.core.roles import Role
from monitoring.models import Application, ApplicationSource, Region


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str


CONTACTS_PER_VILLAGE = 3


def village_in_scope(*, user: Any, code: str) -> Region:
    """A village the user may see; ``Region.DoesNotExist`` for anything else."""
    return Region.objects.for_user(user).select_related("parent__parent").get(code=code, level=RegionLevel.VILLAGE)


def village_contacts(*, village_codes: set[str]) -> dict[str, list[Contact]]:
    """The villages' own people (村干部 / 驻村工作队) with an active, named account: whom a household
    asks.  At most ``CONTACTS_PER_VILLAGE`` each, the oldest accounts first.  An API token's service
    account (another system, not a person) is never a contact, nor is a disabled account.  Cards
    and posters both read their contacts here."""
    found: dict[str, list[Contact]] = defaultdict(list)
    users = (
        User.objects.filter(role=Role.VILLAGE, region_id__in=village_codes, is_active=True)
        .exclude(full_name="")
        .exclude(api_token__isnull=False)
        .order_by("region_id", "id")
        .values_list("region_id", "full_name", "phone")
    )
    for code, name, phone in users:
        if len(found[code]) < CONTACTS_PER_VILLAGE:
            found[code].append(Contact(name=name, phone=phone))
    return found


@dataclass(frozen=True)
class SourceCount:
    source: str
    label: str
    count: int


def application_source_counts(*, user: Any, status: str = "") -> list[SourceCount]:
    """Applications in the user's scope per source (村级二维码海报 · 直接访问申报页 · 村干部代录),
    every source listed, zeros included; ``status`` as the application list's filter."""
    qs = Application.objects.for_user(user)
    if status:
        qs = qs.filter(status=status)
    counts = dict(qs.order_by().values_list("source").annotate(n=Count("id")).values_list("source", "n"))
    order = (ApplicationSource.POSTER, ApplicationSource.DIRECT, ApplicationSource.CADRE)
    return [SourceCount(source=s.value, label=s.label, count=counts.get(s.value, 0)) for s in order]
