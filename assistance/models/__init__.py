from assistance.models.catalogue import DEVELOPMENTAL_CATEGORIES, Measure, MeasureCategory, MeasureKind
from assistance.models.elimination import (
    MIN_ELIMINATION_PUBLICITY_DAYS,
    OPEN_PROPOSAL_STATES,
    EliminationAppraisal,
    EliminationProposal,
    ProposalMethod,
    ProposalState,
)
from assistance.models.plans import EFFECTIVE_STATUSES, AmountKind, MeasureStatus, TargetMeasure

__all__ = [
    "DEVELOPMENTAL_CATEGORIES",
    "EFFECTIVE_STATUSES",
    "MIN_ELIMINATION_PUBLICITY_DAYS",
    "OPEN_PROPOSAL_STATES",
    "AmountKind",
    "EliminationAppraisal",
    "EliminationProposal",
    "Measure",
    "MeasureCategory",
    "MeasureKind",
    "MeasureStatus",
    "ProposalMethod",
    "ProposalState",
    "TargetMeasure",
]
