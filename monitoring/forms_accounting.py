"""Forms of the 12-month 家庭收支核算 pages (parsing only: the rules live in services/accounting.py)."""

from __future__ import annotations

from typing import Any

from django import forms

from monitoring.models import ExpenditureCategory
from monitoring.selectors.accounting import INCOME_FIELDS
from monitoring.services.accounting import AccountingInput

MONEY = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})


def _money(label: str, help_text: str = "") -> forms.CharField:
    # Text, not a number field: the service checks every figure and names it in Chinese.
    return forms.CharField(label=label, required=False, max_length=32, widget=MONEY, help_text=help_text)


class AccountingForm(forms.Form):
    family_size = forms.CharField(
        label="家庭人口数",
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    reason = forms.CharField(
        label="修改原因",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="首次录入且支出与台账一致时可不填；修改已录入的核算或改动台账支出时必填。",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in INCOME_FIELDS:
            self.fields[name] = _money(f"{label}（元）")
        for code, label in ExpenditureCategory.choices:
            self.fields[f"oop_{code}"] = _money(f"{label}自付支出（元）")
        self.order_fields(["family_size", *(n for n, _l in INCOME_FIELDS), "reason"])

    def income_fields(self) -> list[forms.BoundField]:
        return [self[name] for name, _label in INCOME_FIELDS]

    def expenditure_fields(self) -> list[tuple[str, forms.BoundField]]:
        return [(code, self[f"oop_{code}"]) for code in ExpenditureCategory.values]

    def accounting_input(self) -> AccountingInput:
        d = self.cleaned_data
        return AccountingInput(
            family_size=d.get("family_size", ""),
            wage_income=d.get("wage_income", ""),
            business_income=d.get("business_income", ""),
            property_income=d.get("property_income", ""),
            transfer_income=d.get("transfer_income", ""),
            out_of_pocket={code: d.get(f"oop_{code}", "") for code in ExpenditureCategory.values},
            reason=d.get("reason", ""),
        )


class DeductionSettingForm(forms.Form):
    province = forms.CharField(max_length=12, widget=forms.HiddenInput)
    deduct = forms.BooleanField(label="判断时从收入中扣减自付刚性支出", required=False)
    reason = forms.CharField(label="修改原因", required=False, max_length=500)
