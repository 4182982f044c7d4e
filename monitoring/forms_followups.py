"""Forms of the green channel's follow-up steps (parsing only: the rules live in
``monitoring.services.followups``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from monitoring.models import CHECKLIST_FIELDS, AppraisalOutcome, FollowUpStep
from monitoring.services.followups import (
    COUNTY_REVIEW_NOTE_MAX,
    AppraisalRecord,
    HomeCheckRecord,
    PublicityRecord,
    StepRecord,
)

DATE = forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")


class HomeCheckForm(forms.Form):
    prefix = "home"
    checked_on = forms.DateField(label="入户核实日期", widget=DATE)
    checked_by = forms.CharField(label="核实人", max_length=100)
    consent_signed = forms.BooleanField(label="农户已签署承诺授权书", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in CHECKLIST_FIELDS:
            self.fields[name] = forms.BooleanField(label=label, required=False, initial=True)
        self.fields["checked_on"].initial = timezone.localdate()

    @property
    def checklist(self) -> list[forms.BoundField]:
        return [self[name] for name, _label in CHECKLIST_FIELDS]

    def to_record(self) -> HomeCheckRecord:
        d = self.cleaned_data
        return HomeCheckRecord(
            checked_on=d["checked_on"],
            checked_by=d["checked_by"],
            checklist={name: bool(d[name]) for name, _label in CHECKLIST_FIELDS},
            consent_signed=bool(d["consent_signed"]),
        )


class AppraisalForm(forms.Form):
    prefix = "appraisal"
    appraisal_on = forms.DateField(label="民主评议日期", widget=DATE)
    outcome = forms.ChoiceField(
        label="民主评议结果",
        choices=[c for c in AppraisalOutcome.choices if c[0]],
        widget=forms.RadioSelect,
        help_text="“不同意纳入”将结束补办并提请县级复核该监测对象。",
    )

    def to_record(self) -> AppraisalRecord:
        return AppraisalRecord(appraisal_on=self.cleaned_data["appraisal_on"], outcome=self.cleaned_data["outcome"])


class PublicityForm(forms.Form):
    prefix = "publicity"
    start = forms.DateField(label="公示开始日期", widget=DATE)
    end = forms.DateField(label="公示结束日期", widget=DATE, help_text="公示不少于 5 天（含首尾两天），期满后登记。")

    def to_record(self) -> PublicityRecord:
        return PublicityRecord(start=self.cleaned_data["start"], end=self.cleaned_data["end"])


STEP_FORMS: dict[str, type[HomeCheckForm] | type[AppraisalForm] | type[PublicityForm]] = {
    FollowUpStep.HOME_CHECK: HomeCheckForm,
    FollowUpStep.APPRAISAL: AppraisalForm,
    FollowUpStep.PUBLICITY: PublicityForm,
}


def step_record(form: forms.Form) -> StepRecord:
    return form.to_record()  # type: ignore[attr-defined,no-any-return]


class CountyReviewForm(forms.Form):
    """县级复核 of a 不同意 appraisal: the county keeps the identification, in writing."""

    # the rules (required, at most COUNTY_REVIEW_NOTE_MAX) are the service's: one message each
    note = forms.CharField(
        label="县级复核意见（维持认定的理由）",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control", "maxlength": COUNTY_REVIEW_NOTE_MAX}),
    )
