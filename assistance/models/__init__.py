from assistance.models.catalogue import DEVELOPMENTAL_CATEGORIES, Measure, MeasureCategory, MeasureKind
from assistance.models.elimination import (
    OPEN_PROPOSAL_STATES,
    EliminationProposal,
    ProposalMethod,
    ProposalState,
)
from assistance.models.plans import EFFECTIVE_STATUSES, AmountKind, MeasureStatus, TargetMeasure

__all__ = [
    "DEVELOPMENTAL_CATEGORIES",
    "EFFECTIVE_STATUSES",
    "OPEN_PROPOSAL_STATES",
    "AmountKind",
    "EliminationProposal",
    "Measure",
    "MeasureCategory",
    "MeasureKind",
    "MeasureStatus",
    "ProposalMethod",
    "ProposalState",
    "TargetMeasure",
]
