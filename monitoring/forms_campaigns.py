"""The start form of a 回头看 / 信息采集 campaign (parsing only: the rules live in
``monitoring.services.campaigns``)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django import forms
from django.urls import reverse_lazy
from django.utils import timezone

from monitoring.models import CampaignKind, CampaignSelection
from monitoring.selectors.campaigns import DEFAULT_LINE_FACTOR
from monitoring.services.campaigns import CampaignInput

DATE = forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")
TEXT = {"class": "form-control"}
SEPARATORS = r"[\s,，、;；]+"


class CodeListField(forms.Field):
    """Region codes sent as several values (the picker's checkboxes; a value may also hold several
    codes separated by spaces or commas).  Whether each is a village of the county is the
    service's to say, with a message naming it."""

    widget = forms.MultipleHiddenInput  # the template draws the checkboxes itself

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        values = [value] if isinstance(value, str) else list(value)
        return [code for v in values for code in re.split(SEPARATORS, str(v)) if code][:10000]


class CampaignStartForm(forms.Form):
    county = forms.CharField(
        label="县",
        max_length=12,
        required=False,
        widget=forms.Select(
            attrs={
                "class": "form-select w-auto",
                "data-testid": "county-select",
                # htmx: the page for the chosen county, of which only the picker (and the default
                # due date) is swapped in; without JavaScript the 显示该县的村 button posts the form
                "hx-get": reverse_lazy("monitoring:campaign_start"),
                "hx-trigger": "change",
                "hx-target": "#village-picker",
                "hx-select": "#village-picker",
                "hx-select-oob": "#default-due",
                "hx-swap": "outerHTML",
                "hx-push-url": "false",
                "hx-sync": "this:replace",
            }
        ),
        help_text="选择要发起活动的县；选择后下方列出该县的村。",
    )
    kind = forms.ChoiceField(
        label="活动类型", choices=CampaignKind.choices, initial=CampaignKind.REVISIT, widget=forms.RadioSelect
    )
    name = forms.CharField(label="活动名称", max_length=80, widget=forms.TextInput(attrs=TEXT))
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100, widget=forms.NumberInput(attrs=TEXT))
    selection = forms.ChoiceField(
        label="农户范围",
        choices=CampaignSelection.choices,
        initial=CampaignSelection.ALL_TARGETS,
        widget=forms.RadioSelect,
    )
    villages = CodeListField(label="所选村", required=False)
    townships = CodeListField(label="整个乡镇", required=False)
    line_factor = forms.DecimalField(
        label="监测标准倍数",
        required=False,
        min_value=1,
        max_value=5,
        decimal_places=2,
        initial=DEFAULT_LINE_FACTOR,
        widget=forms.NumberInput(attrs={**TEXT, "step": "0.01"}),
        help_text="范围为“人均收入低于监测标准一定倍数”时使用：最近一年人均可支配收入低于该倍数×当年监测标准（不含等于）。",
    )
    started_on = forms.DateField(label="开始日期", widget=DATE)
    due_on = forms.DateField(
        label="完成期限",
        required=False,
        widget=DATE,
        help_text="留空则按本省“回头看/信息采集任务”办理时限从开始日期起算（工作日按节假日和调休计算）。",
    )
    client_uuid = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        show_county: bool,
        counties: list[tuple[str, list[tuple[str, str]]]] | None = None,
        **kwargs: Any,
    ) -> None:
        today = timezone.localdate()
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("year", today.year)
        kwargs["initial"].setdefault("started_on", today)
        kwargs["initial"].setdefault("client_uuid", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.show_county = show_county
        if not show_county:
            del self.fields["county"]
        else:
            self.fields["county"].widget.choices = [("", "请选择县"), *(counties or [])]

    def chosen(self, name: str) -> set[str]:
        """The codes of ``villages`` or ``townships`` as sent (or given as initial), for the picker's
        checked boxes."""
        value = self[name].value()
        return {str(code) for code in (self.fields[name].to_python(value) if value else None) or []}

    def to_input(self, *, county_code: str) -> CampaignInput:
        data = self.cleaned_data
        return CampaignInput(
            county_code=(data.get("county") or "").strip() if self.show_county else county_code,
            kind=data["kind"],
            name=data["name"],
            year=data["year"],
            selection=data["selection"],
            started_on=data["started_on"],
            villages=data.get("villages") or [],
            townships=data.get("townships") or [],
            line_factor=data.get("line_factor"),
            due_on=data.get("due_on"),
            client_uuid=data.get("client_uuid"),
        )
