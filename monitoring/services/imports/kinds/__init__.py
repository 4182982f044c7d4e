"""What differs between kinds: database lookups, cross-row checks and the upsert.

Each handler gets batches of clean rows from the pipeline.  ``check_batch`` resolves references
(households, villages, members) with one query per batch and reports scope violations;
``write_batch`` loads the existing rows of the batch by key, and creates only new rows and
updates only changed ones (so a re-import changes nothing), returning one action per row.
"""

from __future__ import annotations

from monitoring.services.imports.kinds.base import LEVEL_ORDER, KindHandler
from monitoring.services.imports.kinds.departments import (
    AlertsHandler,
    AssistanceRosterHandler,
    MedicalHandler,
    job_alerts_link,
)
from monitoring.services.imports.kinds.ledger import ExpendituresHandler, IncomesHandler
from monitoring.services.imports.kinds.members import MembersHandler
from monitoring.services.imports.kinds.registry import HouseholdsHandler, RegionsHandler

HANDLERS: dict[str, type[KindHandler]] = {
    h.kind: h
    for h in (
        RegionsHandler,
        HouseholdsHandler,
        MembersHandler,
        IncomesHandler,
        ExpendituresHandler,
        AlertsHandler,
        MedicalHandler,
        AssistanceRosterHandler,
    )
}

__all__ = [
    "HANDLERS",
    "LEVEL_ORDER",
    "AlertsHandler",
    "AssistanceRosterHandler",
    "ExpendituresHandler",
    "HouseholdsHandler",
    "IncomesHandler",
    "KindHandler",
    "MedicalHandler",
    "MembersHandler",
    "RegionsHandler",
    "job_alerts_link",
]
