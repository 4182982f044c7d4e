"""Writes of 信息比对 (SPEC §5.6).

* ``lead_consent_record``: the household's signed 承诺授权 (and its scan) recorded on an open lead
  before 入户核实, so that the county may compare before the village's verification; the
  verification then finds it on file.
* ``data_comparison_record``: the county records (or re-records) one source's result — date,
  无异常/有异常, a note, for 有异常 the written judgement — only with the consent on file.
* ``comparison_source_save``: an administrator adds or edits a source (the Django admin).

Each write locks the lead (the review workflow locks it too: a comparison and a 审核 never cross)
and writes an audit row; bad input is refused whole with a Chinese message per field.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from fanpin.core.audit import audit_record
from fanpin.core.roles import effective_role
from fanpin.core.scoping import ObjectOutOfScope
from fanpin.core.workflow import TransitionNotAllowed
from monitoring.models import OPEN_LEAD_STATES, ComparisonResult, ComparisonSource, DataComparison, Lead, LeadState
from monitoring.selectors.comparisons import (
    AUDIT_TYPE,
    CONSENT_AUDIT_TYPE,
    RESULT_LABELS,
    consent_on_file,
    may_record_comparisons,
    may_record_consent,
    source_switch_off_refusal,
)
from monitoring.services.uploads import scan_upload_error

NOTE_MAX = 500
JUDGEMENT_MAX = 1000
SOURCE_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,29}$")
SOURCE_CODE_MESSAGE = "代码须为大写字母开头的大写字母、数字或下划线（2–30 位），如 PUBLIC_SECURITY_VEHICLE。"
NO_CONSENT_MESSAGE = (
    "农户尚未签署承诺授权书（或尚未登记），不能进行信息比对；"
    "请先登记农户承诺授权，农户不同意授权的，以“未签署承诺授权”不予纳入。"
)


def _cn(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _lock_lead(*, lead_id: int, actor: Any) -> Lead:
    lead = (
        Lead.objects.for_user(actor)
        .select_for_update(of=("self",))
        .select_related("household")
        .filter(pk=lead_id)
        .first()
    )
    if lead is None:
        raise ObjectOutOfScope("线索")
    return lead


# -- 承诺授权 before 入户核实 ---------------------------------------------------------------------------
@transaction.atomic
def lead_consent_record(*, lead_id: int, actor: Any, scan: UploadedFile | None = None) -> Lead:
    """Record that the household signed the 承诺授权书 (optionally with its scan) on a lead still
    waiting for 入户核实 (NEW).  Village, county and administrators; audited ``lead_consent``.
    A household that refuses is not recorded here: the lead is rejected with 未签署承诺授权."""
    if not may_record_consent(actor):
        raise PermissionDenied("承诺授权由村干部/驻村工作队或县级登记。")
    lead = _lock_lead(lead_id=lead_id, actor=actor)
    if lead.state != LeadState.NEW:
        raise TransitionNotAllowed(
            f"线索当前为“{lead.get_state_display()}”：承诺授权在入户核实前登记，核实后随核实结果保存。"
        )
    if scan is not None:
        message = scan_upload_error(scan, what="承诺授权书扫描件")
        if message:
            raise ValidationError({"consent_scan": message})
    before = consent_on_file(lead)
    fields = ["consent_signed"]
    lead.consent_signed = True
    if scan is not None:
        lead.consent_scan.save(scan.name or "scan", scan, save=False)
        fields.append("consent_scan")
    elif before:
        return lead  # already on file and nothing new: nothing written
    lead.save(update_fields=fields)
    audit_record(
        actor=actor,
        object_type=CONSENT_AUDIT_TYPE,
        object_id=lead.pk,
        region_code=lead.household.village_id,
        action="consent",
        from_state="SIGNED" if before else "",
        to_state="SIGNED",
        reason="登记农户承诺授权" + ("（含扫描件）" if scan is not None else ""),
        data={"scan": scan is not None},
    )
    return lead


# -- one source's result -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ComparisonInput:
    source_code: str
    compared_on: dt.date | None
    result: str
    note: str = ""
    judgement: str = ""


def comparison_input_errors(data: ComparisonInput, *, raised_on: dt.date, today: dt.date) -> dict[str, str]:
    """What is wrong with one result (field → Chinese message)."""
    errors: dict[str, str] = {}
    note = (data.note or "").strip()
    judgement = (data.judgement or "").strip()
    if data.compared_on is None:
        errors["compared_on"] = "请填写比对日期。"
    elif data.compared_on > today:
        errors["compared_on"] = "比对日期不能晚于今天。"
    elif data.compared_on < raised_on:
        errors["compared_on"] = f"比对日期不能早于线索发现日期（{_cn(raised_on)}）。"
    if data.result not in ComparisonResult.values:
        errors["result"] = "请选择比对结果（无异常 / 有异常）。"
    elif data.result == ComparisonResult.ISSUE and not note:
        errors["note"] = "比对结果为“有异常”时，请在比对说明中写明发现的情况。"
    elif data.result == ComparisonResult.NO_ISSUE and judgement:
        errors["judgement"] = "比对结果为“无异常”时无需研判意见，请清空研判意见。"
    if len(note) > NOTE_MAX:
        errors["note"] = f"比对说明不能超过 {NOTE_MAX} 字。"
    if len(judgement) > JUDGEMENT_MAX:
        errors["judgement"] = f"研判意见不能超过 {JUDGEMENT_MAX} 字。"
    return errors


def _state_of(c: DataComparison | None) -> str:
    """The audit rows' from/to: the result, 有异常 with ``_JUDGED`` once judged."""
    if c is None:
        return ""
    if c.result == ComparisonResult.ISSUE and c.judgement:
        return "ISSUE_JUDGED"
    return c.result


@transaction.atomic
def data_comparison_record(
    *, lead_id: int, actor: Any, data: ComparisonInput, today: dt.date | None = None
) -> DataComparison:
    """Record (or re-record) one source's comparison result on an open lead, with the household's
    consent on file.  County staff and administrators.  The same values again write nothing;
    a change is audited ``data_comparison`` with from/to (``NO_ISSUE`` · ``ISSUE`` · ``ISSUE_JUDGED``)."""
    if not may_record_comparisons(actor):
        raise PermissionDenied("信息比对结果由县级乡村振兴部门录入。")
    today = today or timezone.localdate()
    lead = _lock_lead(lead_id=lead_id, actor=actor)
    if lead.state not in OPEN_LEAD_STATES:
        raise TransitionNotAllowed(f"线索已{lead.get_state_display()}，不能再录入信息比对结果。")
    if not consent_on_file(lead):
        raise ValidationError(NO_CONSENT_MESSAGE)
    source = ComparisonSource.objects.filter(code=data.source_code, active=True).first()
    if source is None:
        raise ValidationError({"source": "比对来源不存在或已停用。"})
    errors = comparison_input_errors(data, raised_on=timezone.localdate(lead.raised_at), today=today)
    if errors:
        raise ValidationError(errors)
    assert data.compared_on is not None
    note = data.note.strip()
    judgement = data.judgement.strip() if data.result == ComparisonResult.ISSUE else ""
    now = timezone.now()
    row = DataComparison.objects.select_for_update().filter(lead=lead, source=source).first()
    before = _state_of(row)
    if row is None:
        row = DataComparison(lead=lead, source=source)
        changed = ["created"]
    else:
        changed = [
            name
            for name, value in (
                ("compared_on", data.compared_on),
                ("result", data.result),
                ("note", note),
                ("judgement", judgement),
            )
            if getattr(row, name) != value
        ]
        if not changed:
            return row  # the same values again (a double submit): nothing written or audited
    judgement_changed = row.judgement != judgement
    row.compared_on = data.compared_on
    row.result = data.result
    row.note = note
    row.judgement = judgement
    if judgement_changed:
        row.judged_at = now if judgement else None
        row.judged_by = actor if judgement and getattr(actor, "pk", None) else None
    row.recorded_at = now
    row.recorded_by = actor if getattr(actor, "pk", None) else None
    if row.pk is None:
        row.save()
    else:
        row.save(
            update_fields=[
                "compared_on",
                "result",
                "note",
                "judgement",
                "judged_at",
                "judged_by",
                "recorded_at",
                "recorded_by",
            ]
        )
    after = _state_of(row)
    label = RESULT_LABELS[row.result] + ("（已研判）" if after == "ISSUE_JUDGED" else "")
    audit_record(
        actor=actor,
        object_type=AUDIT_TYPE,
        object_id=lead.pk,
        region_code=lead.household.village_id,
        action="record" if before == "" else "change",
        from_state=before,
        to_state=after,
        reason=f"{source.name}：{label}",
        data={
            "source": source.code,
            "compared_on": row.compared_on.isoformat(),
            "changed": changed,
            "judged": bool(judgement),
        },
    )
    return row


# -- the sources (administrators) --------------------------------------------------------------------
@transaction.atomic
def comparison_source_save(
    *, actor: Any, source: ComparisonSource, changed: list[str] | None = None
) -> ComparisonSource:
    """Save a source added or edited by an administrator (the Django admin), audited
    ``comparison_source`` with what changed.  Switching a source off keeps its recorded results
    (shown on the lead page, no longer counted or required)."""
    if effective_role(actor) != "ADMIN":
        raise PermissionDenied("信息比对来源由系统管理员维护。")
    errors: dict[str, str] = {}
    source.code = (source.code or "").strip().upper()
    source.name = (source.name or "").strip()
    if not SOURCE_CODE.match(source.code):
        errors["code"] = SOURCE_CODE_MESSAGE
    if not source.name:
        errors["name"] = "请填写名称。"
    before = ComparisonSource.objects.filter(pk=source.pk).first() if source.pk else None
    if before is not None and before.active and not source.active:
        refusal = source_switch_off_refusal(source_id=source.pk)
        if refusal:
            errors["active"] = refusal
    if errors:
        raise ValidationError(errors)
    source.save()
    audit_record(
        actor=actor,
        object_type="comparison_source",
        object_id=source.pk,
        region_code="000000000000",  # national, as a national monitoring line
        action="create" if before is None else "change",
        from_state="" if before is None else ("ACTIVE" if before.active else "INACTIVE"),
        to_state="ACTIVE" if source.active else "INACTIVE",
        reason=f"信息比对来源 {source.code} {source.name}",
        data={
            "changed": changed or [],
            "before": None if before is None else {"name": before.name, "active": before.active, "order": before.order},
            "after": {"name": source.name, "active": source.active, "order": source.order},
        },
    )
    return source
