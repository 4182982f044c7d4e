"""The form of a province's own rule parameters: one optional field per parameter (empty = 沿用全国
默认值), the reason, and the year of the what-if preview.  Bounds and decimals are checked by the
service on the merged values (Chinese messages naming the field)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from monitoring.selectors.province_parameters import ParameterRow, own_values_version


class ProvinceParametersForm(forms.Form):
    reason = forms.CharField(
        label="修改依据", max_length=300, required=False, help_text="必填：如文件名、文号或会议纪要"
    )
    # the own values the page showed (``own_values_version``): saving over a change made meanwhile is refused
    version = forms.CharField(widget=forms.HiddenInput, required=False)
    preview_year = forms.IntegerField(
        label="预览年度", min_value=2000, max_value=2100, required=False, initial=lambda: timezone.localdate().year - 1
    )

    def __init__(self, *args: Any, rows: list[ParameterRow], **kwargs: Any) -> None:
        own = {row.name: row.own for row in rows}
        kwargs.setdefault("initial", {**own, "version": own_values_version(own)})
        super().__init__(*args, **kwargs)
        self.rows = rows
        fields: dict[str, forms.Field] = {}
        for row in rows:
            national = f"{row.national:,.2f} 元" if row.is_money else str(row.national)
            fields[row.name] = forms.DecimalField(
                label=row.label,
                required=False,
                help_text=f"留空则沿用全国默认值 {national}",
                error_messages={"invalid": f"{row.label}必须是数字。"},
            )
        self.fields = {**fields, **self.fields}

    def parameter_fields(self) -> list[tuple[ParameterRow, forms.BoundField]]:
        return [(row, self[row.name]) for row in self.rows]

    def proposed(self) -> dict[str, Decimal | None]:
        """The own values as entered (``None``: inherit); after ``is_valid``."""
        return {row.name: self.cleaned_data.get(row.name) for row in self.rows}
