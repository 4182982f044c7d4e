from __future__ import annotations

from django import template

from assistance.selectors.recommendation import LaborCapacity

register = template.Library()
_LABELS = dict(LaborCapacity.choices)


@register.filter
def labor_capacity_label(value: str) -> str:
    return _LABELS.get(value, value or "—")


_ELIMINATION_ACTIONS = {
    "propose": "村级提议（入户核实）",
    "home_check": "补录入户核实",
    "appraisal": "登记民主评议（同意）",
    "appraisal_reject": "民主评议未通过",
    "publicity": "登记村内公示",
    "review": "乡镇审核通过",
    "confirm": "县级确认风险消除",
    "reject": "退回",
}


@register.filter
def elimination_action_label(value: str) -> str:
    return _ELIMINATION_ACTIONS.get(value, value)
