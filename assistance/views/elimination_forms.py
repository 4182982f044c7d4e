"""Forms of the 风险消除 steps: 入户核实 (with the optional 12-month 收支核算), 民主评议, 村内公示."""

from __future__ import annotations

from typing import Any

from django import forms

from assistance.models import EliminationAppraisal, ProposalMethod
from assistance.services.elimination import HomeCheck
from monitoring.models.visits import CHECKLIST_FIELDS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _Styled(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            if isinstance(f.widget, forms.CheckboxInput):
                f.widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(f.widget, (forms.Select, forms.RadioSelect)):
                f.widget.attrs.setdefault("class", "form-select")
            else:
                f.widget.attrs.setdefault("class", "form-control")


class HomeCheckForm(_Styled):
    checked_on = forms.DateField(label="入户核实日期", widget=DATE, error_messages={"required": "请填写入户核实日期。"})
    visitors = forms.CharField(label="核实人员", max_length=200, error_messages={"required": "请填写核实人员。"})
    family_size = forms.IntegerField(label="家庭人口数（收支核算，可不填）", required=False, min_value=1, max_value=30)
    wage_income = forms.DecimalField(label="工资性收入（元）", required=False, max_digits=14, decimal_places=2)
    business_income = forms.DecimalField(label="生产经营净收入（元）", required=False, max_digits=14, decimal_places=2)
    property_income = forms.DecimalField(label="财产净收入（元）", required=False, max_digits=14, decimal_places=2)
    transfer_income = forms.DecimalField(label="转移净收入（元）", required=False, max_digits=14, decimal_places=2)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in CHECKLIST_FIELDS:
            self.fields[name] = forms.BooleanField(label=label, required=False)
            self.fields[name].widget.attrs["class"] = "form-check-input"

    @property
    def checklist_fields(self) -> list[Any]:
        return [self[name] for name, _label in CHECKLIST_FIELDS]

    @property
    def accounting_fields(self) -> list[Any]:
        return [
            self[n] for n in ("family_size", "wage_income", "business_income", "property_income", "transfer_income")
        ]

    def home_check(self) -> HomeCheck:
        d = self.cleaned_data
        return HomeCheck(
            checked_on=d["checked_on"],
            visitors=d["visitors"],
            checklist={name: bool(d.get(name)) for name, _label in CHECKLIST_FIELDS},
            family_size=d.get("family_size"),
            wage_income=d.get("wage_income"),
            business_income=d.get("business_income"),
            property_income=d.get("property_income"),
            transfer_income=d.get("transfer_income"),
        )


class ProposeStepsForm(HomeCheckForm):
    method = forms.ChoiceField(label="消除方式", choices=ProposalMethod.choices)
    opinion = forms.CharField(label="提议意见", required=False, max_length=1000)


class AppraisalForm(_Styled):
    appraisal_on = forms.DateField(
        label="民主评议日期", widget=DATE, error_messages={"required": "请填写民主评议日期。"}
    )
    outcome = forms.ChoiceField(
        label="评议结果",
        choices=[(EliminationAppraisal.AGREED.value, "同意"), (EliminationAppraisal.DISAGREED.value, "不同意")],
        error_messages={"required": "请选择民主评议结果。"},
    )
    reason = forms.CharField(label="不同意的原因", required=False, max_length=1000)


class PublicityForm(_Styled):
    start = forms.DateField(label="公示开始日期", widget=DATE, error_messages={"required": "请填写公示开始日期。"})
    end = forms.DateField(label="公示结束日期", widget=DATE, error_messages={"required": "请填写公示结束日期。"})
