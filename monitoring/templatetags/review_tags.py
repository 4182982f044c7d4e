"""Labels of the review workflow's code lists (sources, rules, risk types), joined by 、."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone

from fanpin.core.roles import Department
from fanpin.web.templatetags.fanpin_tags import money
from monitoring.models import LeadSource, RiskType
from monitoring.models.screening_rules import RULE_LABELS, screening_figures
from monitoring.selectors.leads import labels_joined

register = template.Library()


SOURCES = dict(LeadSource.choices)
RISKS = dict(RiskType.choices)
# Labels of the other sources' evidence; the screening rules' figures are labelled by their
# declarations (``screening_figures``).
FIGURE_LABELS = {
    "note": "说明",
    "at": "记录时间",
    # the village cadre's visits and the households' applications
    "visit_id": "走访记录编号",
    "visited_on": "走访日期",
    "failing_items": "未保障事项",
    "events": "发现事项",
    "income_change": "收入变化",
    "risk_flag": "发现返贫致贫风险",
    "application": "申报回执编号",
    "channel": "申报渠道",
    "reason": "申报事由",
    "description": "情况说明",
    "amount": "涉及金额（元）",
    # appeals (申诉)
    "appeal_of": "申诉的原线索编号",
    "appeal_channel": "申诉方式",
    "rejection_category": "原未纳入原因类别",
    "appeal_reason": "申诉理由",
    # department alerts
    "department": "来源部门",
    "alert_type_label": "预警类型",
    "alert_date": "预警日期",
}
# Figures in yuan: shown as 12,345.67 like the tables beside them (under a 元 label).
MONEY_FIGURES = {"amount"}
# Internal keys of the evidence a reader has no use for (codes shown by their label elsewhere, row ids).
HIDDEN_FIGURES = {"alert_type", "origin", "member_id"}
FIGURE_VALUE_LABELS: dict[str, dict[str, str]] = {"department": dict(Department.choices)}


def _timestamp(value: str) -> str | None:
    """An ISO date-time with a time part (``2026-12-03T06:05:00+00:00``) → ``2026-12-03 14:05`` in the
    site's time zone; ``None`` for anything else (a plain date stays as written)."""
    if len(value) < 16 or value[10:11] not in ("T", " ") or not value[:4].isdigit():
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return f"{moment:%Y-%m-%d %H:%M}"


def _figure(value: Any, *, is_money: bool = False) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        stamp = _timestamp(value)
        if stamp is not None:
            return stamp
    if is_money and not isinstance(value, (list, dict)):
        return money(value)
    return str(value)


@register.filter
def source_labels(codes: Any) -> str:
    return labels_joined(codes, SOURCES) or "—"


@register.filter
def rule_labels(codes: Any) -> str:
    return labels_joined(codes, RULE_LABELS) or "—"


@register.filter
def risk_labels(codes: Any) -> str:
    return labels_joined(codes, RISKS) or "—"


@register.filter
def figure_items(figures: Any) -> list[tuple[str, str]]:
    """Evidence figures as (Chinese label, value) pairs for a definition list."""
    if not isinstance(figures, dict):
        return [("说明", _figure(figures))]
    declared = screening_figures()
    items = []
    for key, value in figures.items():
        key = str(key)
        if key in HIDDEN_FIGURES:
            continue
        figure = declared.get(key)
        is_money = figure.money if figure is not None else key in MONEY_FIGURES
        labels = dict(figure.value_labels) if figure is not None else FIGURE_VALUE_LABELS.get(key, {})
        if isinstance(value, dict):
            text = "；".join(f"{labels.get(str(k), str(k))}：{_figure(v, is_money=is_money)}" for k, v in value.items())
        elif isinstance(value, list):
            text = "、".join(_figure(v, is_money=is_money) for v in value) or "无"
        elif isinstance(value, str) and value in labels:
            text = labels[value]
        else:
            text = _figure(value, is_money=is_money)
        label = figure.label if figure is not None else FIGURE_LABELS.get(key, key)
        items.append((label, text or "—"))
    return items


ACTION_LABELS = {
    "verify": "村级核实",
    "review": "乡镇审核",
    "confirm": "县级确定",
    "confirm_direct": "县级直接确定",
    "reject": "不予纳入",
    "raise": "产生线索",
    "merge": "合并新来源",
    "appeal": "农户申诉",
    "accept": "受理",
    "move": "随农户迁移",
}


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def action_label(code: str) -> str:
    return ACTION_LABELS.get(code, code)


@register.filter
def state_label(code: str) -> str:
    from monitoring.models import LeadState

    return dict(LeadState.choices).get(code, code or "—")
