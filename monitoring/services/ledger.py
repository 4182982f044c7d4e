"""The one ledger of rigid expenditures (SPEC §2): an expense's identity, and who reports it.

An expense is household + category + date + amount (``expenditure_key``, the table's
``expenditure_unique_key``), whatever key or source brought it.  Its sources are flags on the row;
the alert that is its only reporter owns it (``RigidExpenditure.alert``): that alert may correct or
remove it, nobody else's record is ever changed by an alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Case, Count, Exists, Min, OuterRef, Subquery, When

from monitoring.models import AlertOrigin, DepartmentAlert, RigidExpenditure
from monitoring.services.bulk import chunks


def expenditure_key(values: Mapping[str, Any]) -> tuple[Any, ...]:
    """The ledger's identity of an expense: household + category + date + amount (SPEC §2)."""
    return (values["household_id"], values["category"], values["occurred_on"], values["amount"])


def ledger_sources_refresh(*, ids: list[int]) -> None:
    """Set the alert sources of these ledger rows from the alerts that link them now (department
    alerts: ``source_alert``; the system's alerts from 医保 extracts: ``source_extract``) and their
    owner (the linking alert when it is the only one and the row is not imported), and delete a row
    that no source reports any more (not imported, linked by no alert).  Set-based: two statements
    per chunk."""
    for part in chunks(sorted(set(ids))):
        linking = DepartmentAlert.objects.filter(expenditure_id=OuterRef("pk"))
        sole = (
            linking.order_by()
            .values("expenditure_id")
            .annotate(linked=Count("pk"), first=Min("pk"))
            .filter(linked=1)
            .values("first")
        )
        RigidExpenditure.objects.filter(pk__in=part).update(
            source_alert=Exists(linking.filter(origin=AlertOrigin.DEPARTMENT)),
            source_extract=Exists(linking.filter(origin=AlertOrigin.MEDICAL_EXTRACT)),
            alert=Case(When(source_import=False, then=Subquery(sole)), default=None),
        )
        RigidExpenditure.objects.filter(
            pk__in=part, source_import=False, source_alert=False, source_extract=False
        ).delete()
