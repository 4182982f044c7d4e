from __future__ import annotations

from typing import Any

from django import forms

from fanpin.core.regions import RegionLevel
from monitoring.models import HouseholdType
from monitoring.selectors.regions import VILLAGES, labels_with_county, own_region_named, region_label, region_pick


def region_field(label: str) -> forms.CharField:
    """A region filter typed (12-digit code or name) or picked from the typeahead's suggestions
    (``monitoring:region_typeahead``): no list of every village of a province on the page."""
    return forms.CharField(label=label, required=False, max_length=40)


def region_clean(form: Any, name: str, levels: tuple[str, ...] = VILLAGES) -> str:
    """The code of the one region of ``levels`` in ``form.user``'s scope that field ``name`` names
    ("" when empty); its label goes to ``form.picked[name]`` for the page."""
    value = " ".join(str(form.cleaned_data.get(name) or "").split())
    if not value:
        return ""
    region, found = region_pick(user=form.user, value=value, levels=levels)
    what = "村" if levels == VILLAGES else ("县、乡镇或村" if RegionLevel.COUNTY in levels else "乡镇或村")
    if region is None and found:
        raise forms.ValidationError(f"有多个{what}与“{value}”相符，请从提示中选择，或输入 12 位区划代码。")
    if region is None and (own := own_region_named(user=form.user, value=value)) is not None:
        form.picked[name] = own.name  # the whole scope: nothing narrowed
        return ""
    if region is None:
        raise forms.ValidationError(f"“{value}”不是您管辖范围内的{what}，请从提示中选择，或输入 12 位区划代码。")
    form.picked[name] = region_label(region, with_county=labels_with_county(form.user))
    return region.code


class VillageFilterForm(forms.Form):
    """A list filtered by one village in the user's scope, typed or picked from suggestions
    (``region_field``; a <select> of every village in scope named namesakes alike and grew with the
    province).  Its label goes to ``picked["village"]``."""

    village = region_field("村")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.picked: dict[str, str] = {"village": ""}

    def clean_village(self) -> str:
        return region_clean(self, "village")


class HouseholdFilterForm(VillageFilterForm):
    q = forms.CharField(
        label="搜索",
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"placeholder": "户编号、户主姓名、身份证号后 4 位或完整号码"}),
    )
    household_type = forms.ChoiceField(label="户类型", required=False, choices=[("", "全部"), *HouseholdType.choices])

    field_order = ("q", "village", "household_type")
