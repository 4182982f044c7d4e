"""What the household sees: the stage of an application, by its receipt number and the applicant's name.

One query whatever the answer (an unknown receipt, a wrong name or a known one): the application,
the lead it raised or joined, that lead's latest appeal (申诉) and the monitoring target are read as
subqueries of a single statement, and the name is compared afterwards in constant time, so the
answer's timing and shape tell nothing about which receipts exist.  The page shows only the stage
(and for 未纳入 the reason category), never names, numbers, free text or the household's data.

A public self-report is unverified: anyone who knows a 身份证号 can file one with any name.  Its page
therefore answers 已受理, whatever the match, until a cadre has recorded the 入户核实 of the lead it
joined after the report was received; from then on it shows the stage the household would learn from
the village 公示 anyway.  A report matched to a household already monitored (no lead) stays 已受理.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass

from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce

from fanpin.core.terms import term
from fanpin.core.typed import plain
from monitoring.models import (
    Application,
    ApplicationChannel,
    Lead,
    LeadState,
    Member,
    MonitoringTarget,
    RejectionCategory,
    TargetStatus,
)

RECEIPT_RE = re.compile(r"^SB[0-9]{8}[23456789A-HJ-NP-Z]{8}$")


class ReceiptStage:
    """The stages a household is told (codes for tests and templates, labels for people)."""

    RECEIVED = "RECEIVED"
    VERIFYING = "VERIFYING"
    PUBLICITY = "PUBLICITY"
    INCLUDED = "INCLUDED"
    NOT_INCLUDED = "NOT_INCLUDED"
    ELIMINATED = "ELIMINATED"
    LABELS = {
        RECEIVED: "已受理",
        VERIFYING: "核实中",
        PUBLICITY: "评议公示中",
        INCLUDED: "已纳入",
        NOT_INCLUDED: "未纳入",
        ELIMINATED: "已风险消除",
    }
    HINTS = {
        RECEIVED: "您的申报已登记，村干部将在近期与您联系，入户核实家庭情况。",
        VERIFYING: "村干部正在入户核实家庭情况（收入、支出和两不愁三保障）。",
        PUBLICITY: "已完成入户核实，正在进行民主评议、村内公示和乡镇、县级审核。",
        INCLUDED: "经县级审定，已纳入{monitoring}对象，帮扶责任人将与您商定帮扶措施。",
        NOT_INCLUDED: "经审核，暂未纳入{monitoring}对象。如有异议，可以在下方提出申诉，或联系村委会。",
        ELIMINATED: "经县级审定，返贫致贫风险已消除。仍在实施的帮扶措施按期继续；如再遇困难，可随时申报。",
    }


NOT_FOUND_TEXT = "未查到，请核对受理编号和姓名。"


@dataclass(frozen=True)
class ReceiptStatus:
    found: bool
    receipt_no: str
    stage: str = ""
    reason_label: str = ""  # 未纳入: the reason category (never the written reason)
    appealed: bool = False  # the stage shown is that of the household's appeal (申诉)
    may_appeal: bool = False
    lead_id: int | None = None  # the lead an appeal would be filed against (not shown)

    @property
    def label(self) -> str:
        return ReceiptStage.LABELS.get(self.stage, "")

    @property
    def hint(self) -> str:
        if not self.found:
            return NOT_FOUND_TEXT
        if self.appealed and self.stage == ReceiptStage.NOT_INCLUDED:
            return f"您的申诉经县级审定，仍未纳入{term('monitoring')}对象。如有疑问，请联系乡镇或县乡村振兴部门。"
        return ReceiptStage.HINTS.get(self.stage, "").format(monitoring=term("monitoring"))


def receipt_normalize(value: str) -> str:
    """What a person types or a QR code carries → ``SB…`` upper case, spaces and dashes removed."""
    text = plain(value)
    return re.sub(r"[\s\-]", "", text).upper()[:32]


def name_normalize(value: str) -> str:
    """Surrounding spaces (also full-width ones) do not count; the name itself must match."""
    return plain(value)


def _same_name(typed: str, names: list[str]) -> bool:
    typed_bytes = name_normalize(typed).encode()
    result = False
    for name in names:  # always compare with every candidate: the time does not depend on which matched
        candidate = name_normalize(name).encode()
        result |= bool(candidate) and hmac.compare_digest(typed_bytes, candidate)
    return result and bool(typed_bytes)


def receipt_status(*, receipt_no: str, name: str) -> ReceiptStatus:
    """The stage of the application with ``receipt_no`` if ``name`` is its applicant's (or the
    household head's); else the not-found answer.  Exactly one query, found or not."""
    receipt = receipt_normalize(receipt_no)
    latest_appeal = Lead.objects.filter(appeal_of=OuterRef("lead_id")).order_by("-raised_at", "-id").values("pk")[:1]
    shown = Lead.objects.filter(pk=OuterRef("shown_lead"))
    row = (
        Application.objects.filter(receipt_no=receipt if RECEIPT_RE.match(receipt) else "")
        .annotate(
            appeal_id=Subquery(latest_appeal),
            shown_lead=Coalesce(Subquery(latest_appeal), F("lead_id")),
            head_name=Member.objects.head_name_of("household_id"),
            joined_verified_at=Subquery(Lead.objects.filter(pk=OuterRef("lead_id")).values("verified_at")[:1]),
            lead_state=Subquery(shown.values("state")[:1]),
            lead_rejection_category=Subquery(shown.values("rejection_category")[:1]),
            target_status=Subquery(MonitoringTarget.objects.filter(lead=OuterRef("shown_lead")).values("status")[:1]),
            # an application of a household already monitored raises no lead: it is 已纳入
            household_target_status=Subquery(
                MonitoringTarget.objects.filter(household=OuterRef("household_id"))
                .order_by("-identified_on", "-id")
                .values("status")[:1]
            ),
        )
        .values(
            "channel",
            "created_at",
            "joined_verified_at",
            "applicant_name",
            "head_name",
            "lead_id",
            "appeal_id",
            "lead_state",
            "lead_rejection_category",
            "target_status",
            "household_target_status",
        )
        .first()
    )
    names = [row["applicant_name"] or "", row["head_name"] or ""] if row else ["", ""]
    if row is None or not _same_name(name, names):
        return ReceiptStatus(found=False, receipt_no=receipt)
    state = row["lead_state"]
    reason = ""
    verified_since = row["joined_verified_at"] is not None and row["joined_verified_at"] >= row["created_at"]
    if row["channel"] == ApplicationChannel.PUBLIC and not verified_since:
        stage = ReceiptStage.RECEIVED  # unverified: the match, or the lack of one, is not told
    elif state is None and row["household_target_status"] == TargetStatus.ACTIVE:
        stage = ReceiptStage.INCLUDED
    elif state is None:
        stage = ReceiptStage.RECEIVED  # not yet matched to a household
    elif state == LeadState.NEW:
        stage = ReceiptStage.VERIFYING
    elif state in (LeadState.VERIFIED, LeadState.REVIEWED):
        stage = ReceiptStage.PUBLICITY
    elif state == LeadState.CONFIRMED:
        stage = ReceiptStage.ELIMINATED if row["target_status"] == TargetStatus.ELIMINATED else ReceiptStage.INCLUDED
    else:
        stage = ReceiptStage.NOT_INCLUDED
        reason = RejectionCategory(row["lead_rejection_category"] or RejectionCategory.OTHER).label
    appealed = row["appeal_id"] is not None
    return ReceiptStatus(
        found=True,
        receipt_no=receipt,
        stage=stage,
        reason_label=reason,
        appealed=appealed,
        # the household's own appeal, once: a decided appeal is final here (later ones through the village)
        may_appeal=stage == ReceiptStage.NOT_INCLUDED and not appealed,
        lead_id=row["lead_id"],
    )
