from __future__ import annotations

from typing import Any

from django import forms
from django.utils.text import format_lazy

from assistance.models import AmountKind, Measure, MeasureCategory, MeasureStatus, ProposalMethod
from fanpin.core.terms import term_lazy
from monitoring.forms import VillageFilterForm

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _measure_label(obj: Measure) -> str:
    return f"{obj.get_category_display()} · {obj.name}"


class MeasureAddForm(forms.Form):
    measure = forms.ModelChoiceField(
        label="帮扶措施",
        queryset=Measure.objects.none(),
        empty_label="请选择",
        error_messages={"required": "请选择帮扶措施。"},
    )
    responsible_name = forms.CharField(label="帮扶责任人", max_length=64)
    responsible_unit = forms.CharField(label="责任人单位", max_length=100)
    responsible_phone = forms.CharField(label="责任人电话", max_length=32)
    start_on = forms.DateField(label="开始日期", widget=DATE)
    end_on = forms.DateField(label="结束日期", required=False, widget=DATE)
    amount = forms.DecimalField(label="金额（元）", required=False, min_value=0, max_digits=14, decimal_places=2)
    amount_kind = forms.ChoiceField(label="金额类型", required=False, choices=AmountKind.choices)
    progress_notes = forms.CharField(label="备注", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: forms.ModelChoiceField = self.fields["measure"]  # type: ignore[assignment]
        field.queryset = Measure.objects.filter(is_active=True).order_by("sort_order", "code")
        field.label_from_instance = _measure_label  # type: ignore[method-assign,assignment]
        for f in self.fields.values():
            css = "form-select" if isinstance(f.widget, forms.Select) else "form-control"
            f.widget.attrs.setdefault("class", css)
        self.fields["responsible_name"].error_messages["required"] = "请填写帮扶责任人。"
        self.fields["responsible_unit"].error_messages["required"] = "请填写责任人单位。"
        self.fields["responsible_phone"].error_messages["required"] = "请填写责任人电话。"
        self.fields["start_on"].error_messages["required"] = "请填写开始日期。"


class MeasureProgressForm(forms.Form):
    status = forms.ChoiceField(label="状态", choices=MeasureStatus.choices)
    note = forms.CharField(label="进展情况", required=False, max_length=500)


class ProposeForm(forms.Form):
    method = forms.ChoiceField(label="消除方式", choices=ProposalMethod.choices)
    opinion = forms.CharField(label="提议意见", required=False, max_length=1000)


class ActForm(forms.Form):
    name = forms.ChoiceField(label="操作", choices=[("review", "审核"), ("confirm", "确认"), ("reject", "退回")])
    opinion = forms.CharField(label="意见", required=False, max_length=1000)


class PlanFilterForm(VillageFilterForm):
    flag = forms.ChoiceField(
        label="筛选",
        required=False,
        choices=[
            ("", format_lazy("全部{}", term_lazy("target"))),
            ("failing", "计划未通过校验"),
            ("unassisted", "帮扶未落实"),
        ],
    )


class MeasureFilterForm(VillageFilterForm):
    q = forms.CharField(label="搜索", required=False, max_length=64)
    category = forms.ChoiceField(label="措施类别", required=False, choices=[("", "全部"), *MeasureCategory.choices])
    status = forms.ChoiceField(label="状态", required=False, choices=[("", "全部"), *MeasureStatus.choices])

    field_order = ("q", "village", "category", "status")


class MeasureEditForm(MeasureAddForm):
    """The details county staff may change after adding a measure (not the measure itself)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["measure"]
        del self.fields["progress_notes"]
