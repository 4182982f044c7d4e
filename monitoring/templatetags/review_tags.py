"""Labels of the review workflow's code lists (sources, rules, risk types), joined by 、."""

from __future__ import annotations

from typing import Any

from django import template

from monitoring.models import LeadSource, RiskType, ScreeningRule
from monitoring.selectors.leads import labels_joined

register = template.Library()
SOURCES = dict(LeadSource.choices)
RULES = dict(ScreeningRule.choices)
RISKS = dict(RiskType.choices)
FIGURE_LABELS = {
    "per_capita_income": "人均可支配收入（元）",
    "previous_per_capita_income": "上年人均可支配收入（元）",
    "line": "监测标准（元）",
    "total_income": "家庭纯收入（元）",
    "family_size": "家庭人口数",
    "out_of_pocket_total": "自付刚性支出合计（元）",
    "out_of_pocket_by_category": "各类自付支出（元）",
    "previous_total_income": "上年家庭纯收入（元）",
    # 医疗: per member the larger of the 医保 extract total and the other records (SPEC §2)
    "medical_extract": "医疗自付按医保结算计入（元）",
    "medical_records": "医疗自付按其他记录计入（元）",
    "medical_set_aside": "医疗自付未重复计入（元）",
    "ratio": "支出/收入阈值",
    "drop_ratio": "降幅阈值",
    "line_multiple": "监测标准倍数",
    "note": "说明",
    "at": "记录时间",
    # visits and applications (issue 6)
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
}


@register.filter
def source_labels(codes: Any) -> str:
    return labels_joined(codes, SOURCES) or "—"


@register.filter
def rule_labels(codes: Any) -> str:
    return labels_joined(codes, RULES) or "—"


@register.filter
def risk_labels(codes: Any) -> str:
    return labels_joined(codes, RISKS) or "—"


@register.filter
def figure_items(figures: Any) -> list[tuple[str, str]]:
    """Evidence figures as (Chinese label, value) pairs for a definition list."""
    if not isinstance(figures, dict):
        return [("说明", str(figures))]
    items = []
    for key, value in figures.items():
        if isinstance(value, dict):
            value = "；".join(f"{k}：{v}" for k, v in value.items())
        elif isinstance(value, list):
            value = "、".join(str(v) for v in value) or "无"
        elif isinstance(value, bool):
            value = "是" if value else "否"
        items.append((FIGURE_LABELS.get(str(key), str(key)), "—" if value in (None, "") else str(value)))
    return items


ACTION_LABELS = {
    "verify": "村级核实",
    "review": "乡镇审核",
    "confirm": "县级确定",
    "confirm_direct": "县级直接确定",
    "reject": "不予纳入",
    "raise": "产生线索",
    "merge": "合并新来源",
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
