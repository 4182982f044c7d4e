"""Forms of the cadre pages and the public self-report page (parsing only: rules live in services)."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils import timezone

from fanpin.core.regions import RegionLevel
from monitoring.models import CHECKLIST_FIELDS, ApplicationSource, IncomeChange, Region, VisitEvent
from monitoring.services.applications import SelfReport
from monitoring.services.visits import VisitInput

DATE = forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")
TEXT = {"class": "form-control"}


def _household_choices(households: Any) -> list[tuple[str, str]]:
    return [("", "请选择农户")] + [
        (str(h.pk), f"{h.household_no} {getattr(h, 'head_name', '') or ''}".strip()) for h in households
    ]


class VisitForm(forms.Form):
    household = forms.TypedChoiceField(label="农户", coerce=int, widget=forms.Select(attrs={"class": "form-select"}))
    visited_on = forms.DateField(label="走访日期", widget=DATE)
    visitors = forms.CharField(label="走访人", max_length=200, widget=forms.TextInput(attrs=TEXT))
    food_secure = forms.BooleanField(label="不愁吃", required=False, initial=True)
    clothing_secure = forms.BooleanField(label="不愁穿", required=False, initial=True)
    education_secure = forms.BooleanField(label="义务教育有保障", required=False, initial=True)
    medical_secure = forms.BooleanField(label="基本医疗有保障", required=False, initial=True)
    housing_secure = forms.BooleanField(label="住房安全有保障", required=False, initial=True)
    water_secure = forms.BooleanField(label="饮水安全有保障", required=False, initial=True)
    events = forms.MultipleChoiceField(
        label="发现事项", choices=VisitEvent.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    income_change = forms.ChoiceField(
        label="收入变化", choices=IncomeChange.choices, initial=IncomeChange.NONE, widget=forms.RadioSelect
    )
    risk_flag = forms.BooleanField(label="发现返贫致贫风险", required=False)
    notes = forms.CharField(label="备注", required=False, widget=forms.Textarea(attrs={**TEXT, "rows": 3}))
    client_uuid = forms.UUIDField(widget=forms.HiddenInput, required=False)
    # The files come from request.FILES (``to_input``); the field carries the service's photo errors
    # next to the file input (visit_form.html).
    photos = forms.Field(label="照片", required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, households: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("visited_on", timezone.localdate())
        kwargs["initial"].setdefault("client_uuid", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.fields["household"].choices = _household_choices(households)  # type: ignore[attr-defined]

    @property
    def checklist(self) -> list[forms.BoundField]:
        return [self[name] for name, _label in CHECKLIST_FIELDS]

    def to_input(self, photos: list[Any]) -> VisitInput:
        d = self.cleaned_data
        return VisitInput(
            household_id=d["household"],
            visited_on=d["visited_on"],
            visitors=d["visitors"],
            secure={name: bool(d[name]) for name, _label in CHECKLIST_FIELDS},
            events=d["events"],
            income_change=d["income_change"],
            risk_flag=d["risk_flag"],
            notes=d["notes"],
            client_uuid=d["client_uuid"],
            photos=photos,
        )


class ApplicationForm(forms.Form):
    household = forms.TypedChoiceField(label="农户", coerce=int, widget=forms.Select(attrs={"class": "form-select"}))
    reason = forms.ChoiceField(
        label="申报事由",
        choices=[("", "请选择"), *VisitEvent.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    description = forms.CharField(label="情况说明", widget=forms.Textarea(attrs={**TEXT, "rows": 3}))
    amount = forms.DecimalField(
        label="涉及金额（元，可不填）",
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={**TEXT, "step": "0.01", "inputmode": "decimal"}),
    )
    # a fresh one per page: a re-post of the same form, or the offline queue's resend, is recognised
    client_uuid = forms.UUIDField(label="客户端编号", widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, households: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("client_uuid", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.fields["household"].choices = _household_choices(households)  # type: ignore[attr-defined]


def village_choices() -> list[tuple[str, list[tuple[str, str]]] | tuple[str, str]]:
    """Villages grouped by township (one query): the public page's picker."""
    villages = Region.objects.filter(level=RegionLevel.VILLAGE).select_related("parent").order_by("code")
    groups: dict[str, list[tuple[str, str]]] = {}
    for v in villages:
        groups.setdefault(v.parent.name if v.parent else "其他", []).append((v.code, v.name))
    return [("", "请选择所在村"), *groups.items()]


class SelfReportForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=64, widget=forms.TextInput(attrs={**TEXT, "autocomplete": "name"}))
    # a village's QR poster opens the page with ?village=<code>&source=poster (kept through the POST)
    source = forms.CharField(widget=forms.HiddenInput, required=False, max_length=16)
    id_number = forms.CharField(
        label="身份证号", max_length=18, widget=forms.TextInput(attrs={**TEXT, "autocomplete": "off"})
    )
    village = forms.ChoiceField(label="所在村", widget=forms.Select(attrs={"class": "form-select"}))
    phone = forms.CharField(
        label="联系电话",
        max_length=32,
        widget=forms.TextInput(attrs={**TEXT, "inputmode": "tel", "autocomplete": "tel"}),
    )
    reason = forms.ChoiceField(
        label="遇到的困难",
        choices=[("", "请选择"), *VisitEvent.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    description = forms.CharField(label="具体情况", widget=forms.Textarea(attrs={**TEXT, "rows": 4}))
    notice_opt_in = forms.BooleanField(label="接收办理进度短信（受理、审核结果发到上面的手机号码）", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["village"].choices = village_choices()  # type: ignore[attr-defined]

    @staticmethod
    def initial_from(query: Any) -> dict[str, str]:
        """The page's address as a poster's QR code writes it: the village chosen, the source kept."""
        initial = {"village": str(query.get("village", ""))[:12]}
        if query.get("source") == "poster":
            initial["source"] = "poster"
        return initial

    def to_report(self) -> SelfReport:
        d = self.cleaned_data
        return SelfReport(
            name=d["name"],
            id_number=d["id_number"],
            village_code=d["village"],
            phone=d["phone"],
            source=ApplicationSource.POSTER if d.get("source") == "poster" else ApplicationSource.DIRECT,
            reason=d["reason"],
            description=d["description"],
            notice_opt_in=bool(d["notice_opt_in"]),
        )


class StatusForm(forms.Form):
    """The public status page: the receipt number and the applicant's name (both needed)."""

    receipt = forms.CharField(
        label="受理编号（回执编号）",
        max_length=40,
        widget=forms.TextInput(attrs={**TEXT, "autocomplete": "off", "autocapitalize": "characters"}),
        error_messages={"required": "请填写受理编号。"},
    )
    name = forms.CharField(
        label="申报人姓名",
        max_length=64,
        widget=forms.TextInput(attrs={**TEXT, "autocomplete": "name"}),
        error_messages={"required": "请填写申报人姓名。"},
    )


class AppealForm(forms.Form):
    """申诉: the reason, with the receipt and name of the answer it appeals (public page), or alone
    (a cadre for the household, ``staff=True``)."""

    receipt = forms.CharField(widget=forms.HiddenInput, max_length=40)
    name = forms.CharField(widget=forms.HiddenInput, max_length=64)
    reason = forms.CharField(
        label="申诉理由",
        max_length=1000,
        widget=forms.Textarea(attrs={**TEXT, "rows": 4}),
        help_text="请写明家里的实际困难、不同意审核结果的地方（不超过 1000 字）。",
        error_messages={"required": "请写明申诉理由。"},
    )

    def __init__(self, *args: Any, staff: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if staff:
            del self.fields["receipt"], self.fields["name"]


class NoticePreferenceForm(forms.Form):
    opted_in = forms.BooleanField(label="农户同意接收办理进度通知", required=False)
    phone = forms.CharField(
        label="接收通知的手机号码",
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={**TEXT, "inputmode": "tel", "autocomplete": "off"}),
    )
    wechat_openid = forms.CharField(
        label="微信 openid（使用微信通知时填写，可不填）",
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={**TEXT, "autocomplete": "off"}),
    )
