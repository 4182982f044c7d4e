"""Printing 帮扶明白卡 is recorded like an export: a card (or a village's batch, on a page the
browser prints or as a PDF) carries household heads' names and 帮扶责任人 phones out of the system
on paper.  Every print and every download leaves one audit row and one access-log row that an
administrator can read: what (单户/批量, page or PDF), which target or village, how many cards,
from which address."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from fanpin.core.audit import access_log_record, audit_record
from fanpin.core.models import AccessLog

CARDS_EXPORT_KIND = "assistance_cards"
CARD_OUTPUTS = {"html": "网页打印", "pdf": "PDF 下载"}


def cards_print_what(*, target_id: int | None, output: str) -> str:
    """The access log's 内容 for a print: ``帮扶明白卡（单户）PDF 下载`` and the like."""
    scope = "单户" if target_id is not None else "批量"
    return f"帮扶明白卡（{scope}）{CARD_OUTPUTS.get(output, output)}"


@transaction.atomic
def cards_print_record(
    *,
    actor: Any,
    region_code: str,
    cards: int,
    output: str,
    size: str,
    target_id: int | None = None,
    ip_address: str | None = None,
) -> None:
    """One audit row and one access-log row for ``cards`` cards printed as ``output`` (``html`` or
    ``pdf``): one target's card (``target_id``, ``region_code`` its village) or the batch of the
    village ``region_code`` (``target_id`` None).  The log's 对象编号 is the target id, or the
    village code for a batch."""
    saved_actor = actor if actor is not None and getattr(actor, "pk", None) else None
    object_id = str(target_id) if target_id is not None else region_code
    audit_record(
        actor=saved_actor,
        object_type="export",
        object_id=CARDS_EXPORT_KIND,
        region_code=region_code,
        action="export",
        data={
            "kind": CARDS_EXPORT_KIND,
            "rows": cards,
            "output": output,
            "size": size,
            "region": region_code,
            "target": target_id,
        },
    )
    access_log_record(
        actor=saved_actor,
        action=AccessLog.Action.EXPORT,
        what=cards_print_what(target_id=target_id, output=output),
        region_code=region_code,
        rows=cards,
        object_id=object_id,
        ip_address=ip_address,
    )
