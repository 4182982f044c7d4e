"""Forms of 信息比对: one source's result, the household's 承诺授权 before 入户核实
(parsing only: the rules live in ``monitoring.services.comparisons``)."""

from __future__ import annotations

from typing import Any

from django import forms

from monitoring.models import ComparisonResult
from monitoring.services.comparisons import JUDGEMENT_MAX, NOTE_MAX, ComparisonInput

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ComparisonForm(forms.Form):
    compared_on = forms.DateField(label="比对日期", widget=DATE)
    result = forms.ChoiceField(label="比对结果", choices=ComparisonResult.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        label="比对说明",
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="有异常时必填：写明比对发现的情况（如车辆品牌和登记日期、房产坐落）。",
    )
    judgement = forms.CharField(
        label="研判意见（有异常时）",
        required=False,
        max_length=JUDGEMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="县级对异常的书面研判：是否影响纳入及理由。有异常未研判的，不能乡镇审核或县级确定。",
    )

    def comparison_input(self, *, source_code: str) -> ComparisonInput:
        d = self.cleaned_data
        return ComparisonInput(
            source_code=source_code,
            compared_on=d["compared_on"],
            result=d["result"],
            note=d.get("note") or "",
            judgement=d.get("judgement") or "",
        )


class ConsentForm(forms.Form):
    consent_scan = forms.FileField(label="承诺授权书扫描件（可选）", required=False)
    confirmed = forms.BooleanField(
        label="农户已签署承诺授权书，同意对其家庭成员的车辆、不动产、经营主体、财政供养、社保缴费等信息进行比对",
        required=True,
        error_messages={"required": "请先核对农户签署的承诺授权书并勾选。"},
    )

    def clean_consent_scan(self) -> Any:
        scan = self.cleaned_data.get("consent_scan")
        if scan and scan.size > 5 * 1024 * 1024:
            raise forms.ValidationError("扫描件不能超过 5 MB。")
        if scan and not str(scan.name).lower().endswith((".pdf", ".jpg", ".jpeg", ".png")):
            raise forms.ValidationError("扫描件须为 PDF、JPG 或 PNG 文件。")
        return scan
