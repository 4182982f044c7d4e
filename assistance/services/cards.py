"""Printing 帮扶明白卡 is recorded like an export: a batch (or a PDF) carries household heads'
names and 帮扶责任人 phones out of the system on paper."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from fanpin.core.audit import export_record

CARDS_EXPORT_KIND = "assistance_cards"


@transaction.atomic
def cards_print_record(*, actor: Any, region_code: str, cards: int, output: str, size: str) -> None:
    """One audit row and one access-log row for ``cards`` cards of ``region_code`` (a village for
    a batch, the household's village for one card) printed as ``output`` (``html`` or ``pdf``)."""
    export_record(
        actor=actor,
        kind=CARDS_EXPORT_KIND,
        rows=cards,
        region_code=region_code,
        data={"output": output, "size": size, "region": region_code},
    )
