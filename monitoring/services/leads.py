"""Lead state changes go through the review workflow (``monitoring.services.review``)."""

from monitoring.services.review import lead_raise_or_merge, lead_reject

__all__ = ["lead_raise_or_merge", "lead_reject"]
