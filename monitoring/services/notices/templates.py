"""The Chinese texts of the notices, one per ``NoticeKind`` (``{monitoring}``: the glossary's word, fanpin.core.terms).

A text names the case (回执编号, 户编号, 措施, 原因类别, dates) and never personal identity data: no
身份证号, no phone number, no health details.  ``notice_text`` also masks, in every value filled in,
the numbers that look like a 身份证号 or a phone (``personal_text_mask``) — except a 户编号 that could
not be one (``household_no_readable``: the demo's 17 digits, say, which the cadre must recognise)
and the 回执编号 fanpin generates (in the status address too).
"""

from __future__ import annotations

from typing import Any

from fanpin.core.idcard import household_no_readable
from fanpin.core.masking import personal_text_mask
from fanpin.core.terms import term
from monitoring.models import NoticeKind

TEXTS: dict[str, str] = {
    NoticeKind.RECEIVED: (
        "您的防止返贫申报已受理，回执编号{receipt_no}。村干部将在近期入户核实。"
        "可凭回执编号和申报人姓名查询办理进度{status_url}。"
    ),
    NoticeKind.INCLUDED: (
        "经县级审定，您家已纳入{monitoring}对象（{category}）。帮扶责任人将与您联系，共同商定帮扶措施。"
    ),
    NoticeKind.NOT_INCLUDED: ("经审核，您家暂未纳入{monitoring}对象，原因类别：{reason}。{next_step}"),
    NoticeKind.ELIMINATED: (
        "经县级审定，您家返贫致贫风险已消除（{method}）。仍在实施的帮扶措施按期继续；如再遇困难，可随时向村委会申报。"
    ),
    NoticeKind.MEASURE_DUE: (
        "帮扶提醒：{village}户编号{household_no}的帮扶措施“{measure}”将于{due_on}{what}，请及时落实并在系统中更新进展。"
    ),
}


def notice_text(kind: str, **values: Any) -> str:
    """The text of ``kind`` with ``values`` filled in, each masked (see the module doc)."""
    shown = {name: _value_shown(name, value) for name, value in values.items()}
    return TEXTS[kind].format(**({"monitoring": term("monitoring")} | shown))


_GENERATED = frozenset({"receipt_no", "status_url"})  # fanpin's own: the 回执编号 and the address holding it


def _value_shown(name: str, value: Any) -> str:
    text = str(value)
    if name in _GENERATED or (name == "household_no" and household_no_readable(text)):
        return text
    return personal_text_mask(header="", text=text)
