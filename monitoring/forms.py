from __future__ import annotations

from typing import Any

from django import forms

from fanpin.core.scoping import user_region_prefix
from monitoring.models import HouseholdType
from monitoring.selectors.regions import (
    VILLAGES,
    code_typed,
    digits_typed,
    filter_levels,
    labels_with_county,
    levels_label,
    own_region_named,
    region_label,
    region_pick,
)


def region_field(label: str) -> forms.CharField:
    """A region filter typed (12-digit code or name) or picked from the typeahead's suggestions
    (``monitoring:region_typeahead``): no list of every village of a province on the page."""
    return forms.CharField(label=label, required=False, max_length=40)


def region_clean(form: Any, name: str, levels: tuple[str, ...] = VILLAGES) -> str:
    """The code of the one region in ``form.user``'s scope that field ``name`` names ("" when empty
    or the user's own region: the whole scope); its label goes to ``form.picked[name]`` for the page.

    A region of the field's ``levels`` is looked for first (the suggestions offer those); when none
    answers, the own region, then a wider region inside the scope (``filter_levels``: a township
    typed into 村, a province into an administrator's 乡镇/村).  The lists narrow by the code's
    prefix, so a wider region lists its whole area.  Anything else — beside or above the scope, or
    no region at all — is refused with the message beside the field."""
    value = " ".join(str(form.cleaned_data.get(name) or "").split())
    if not value:
        return ""
    region, found = region_pick(user=form.user, value=value, levels=levels)
    searched = levels
    wider = tuple(level for level in filter_levels(user=form.user, levels=levels) if level not in levels)
    if region is None and not found:
        if (own := own_region_named(user=form.user, value=value)) is not None:
            form.picked[name] = own.name  # the whole scope: nothing narrowed
            return ""
        if wider:
            region, found = region_pick(user=form.user, value=value, levels=wider)
            searched = wider
    if region is None and found:
        raise forms.ValidationError(
            f"有多个{levels_label(searched)}与“{value}”相符，请从提示中选择，或输入 12 位区划代码。"
        )
    if region is None and digits_typed(value) and not code_typed(value):
        raise forms.ValidationError(
            f"“{value}”不是区划代码：请输入 12 位代码，或去掉末尾的 0 后的 2、4、6、9 位代码（如县级 6 位），"
            "也可以输入名称后从提示中选择。"
        )
    if region is None and user_region_prefix(form.user) == "":  # the whole country is the scope
        what = levels_label(tuple(levels) + wider)
        raise forms.ValidationError(
            f"没有与“{value}”相符的{what}，请从提示中选择，或输入区划代码（12 位，或去掉末尾的 0）。"
        )
    if region is None:
        what = levels_label(tuple(levels) + wider)
        raise forms.ValidationError(
            f"“{value}”不是您管辖范围内的{what}，请从提示中选择，或输入区划代码（12 位，或去掉末尾的 0）。"
        )
    form.picked[name] = region_label(region, with_county=labels_with_county(form.user))
    return region.code


class VillageFilterForm(forms.Form):
    """A list filtered by one village in the user's scope, typed or picked from suggestions
    (``region_field``; a <select> of every village in scope named namesakes alike and grew with the
    province), or by a wider region inside the scope typed into it (a township: its villages).  The
    cleaned ``village`` is a region code for a prefix filter (``region_code`` of the selectors), not
    an exact village.  Its label goes to ``picked["village"]``."""

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
