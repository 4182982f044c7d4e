from __future__ import annotations

from typing import Any

from django import forms

from monitoring.models import HouseholdType, Region


class HouseholdFilterForm(forms.Form):
    q = forms.CharField(
        label="搜索",
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"placeholder": "户编号、户主姓名、身份证号后 4 位或完整号码"}),
    )
    village = forms.ChoiceField(label="村", required=False)
    household_type = forms.ChoiceField(label="户类型", required=False, choices=[("", "全部"), *HouseholdType.choices])

    def __init__(self, *args: Any, villages: list[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        village_field: forms.ChoiceField = self.fields["village"]  # type: ignore[assignment]
        village_field.choices = [("", "全部")] + [
            (v.code, f"{v.parent.name if v.parent else ''} {v.name}".strip()) for v in villages
        ]
