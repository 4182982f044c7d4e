"""The Chinese texts of the notices, one per ``NoticeKind`` (``{monitoring}``: the glossary's word, fanpin.core.terms).

A text names the case (回执编号, 户编号, 措施, 原因类别, dates) and never personal identity data: no
身份证号, no phone number, no health details.  ``notice_text`` also masks any run of digits that
looks like a 身份证号 whatever field it came from (a 户编号 that is a person's number, say).
"""

from __future__ import annotations

from typing import Any

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
    """The text of ``kind`` with ``values`` filled in, ID-like runs masked."""
    text = TEXTS[kind].format(**({"monitoring": term("monitoring")} | values))
    return personal_text_mask(header="", text=text)
