"""Forms of the review workflow pages (parsing only: the rules live in services/review.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.text import format_lazy

from fanpin.core.terms import term_lazy
from monitoring.forms import region_clean, region_field
from monitoring.models import (
    MAX_RISK_TYPES,
    AppraisalOutcome,
    LeadSource,
    LeadState,
    RejectionCategory,
    RiskType,
    TargetCategory,
    TargetStatus,
)
from monitoring.models.screening_rules import RuleChoices
from monitoring.selectors.leads import PUBLICITY_FILTERS, QUEUE_SORTS, QueueFilters, overdue_days
from monitoring.selectors.regions import area_levels
from monitoring.selectors.rosters import ASSISTANCE_FILTER_CHOICES
from monitoring.services.review import Decision, Verification

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
YES_NO = [("yes", "是"), ("no", "否")]
SORT_LABELS = {"raised": "发现时间（早→晚）", "-raised": "发现时间（晚→早）", "household": "户编号", "village": "村"}


class SelectsMixin:
    """Select fields with their options pre-computed (a few hundred villages render fast)."""

    def selects(self) -> list[dict[str, Any]]:
        result = []
        for bf in self:  # type: ignore[attr-defined]
            choices = getattr(bf.field, "choices", None)
            if choices is None or isinstance(bf.field, forms.BooleanField):
                continue
            current = str(bf.value() or "")
            result.append(
                {
                    "name": bf.html_name,
                    "id": bf.id_for_label,
                    "label": bf.label,
                    "options": [(str(v), label, str(v) == current) for v, label in choices],
                }
            )
        return result


class LeadQueueFilterForm(SelectsMixin, forms.Form):
    state = forms.ChoiceField(
        label="状态", required=False, choices=[("", "我的待办"), ("ALL", "全部状态"), *LeadState.choices]
    )
    source = forms.ChoiceField(label="线索来源", required=False, choices=[("", "全部"), *LeadSource.choices])
    rule = forms.ChoiceField(label="触发规则", required=False, choices=RuleChoices(blank="全部"))
    category = forms.ChoiceField(label="建议类别", required=False, choices=[("", "全部"), *TargetCategory.choices])
    region = region_field("乡镇/村")
    overdue = forms.BooleanField(label="仅看逾期", required=False)
    late = forms.BooleanField(
        label="仅看超期（办理时限）",
        required=False,
        help_text="某一环节（受理、核实、比对、评议公示、审核、审定）超过本省办理时限（按工作日等）",
    )
    publicity = forms.ChoiceField(label="公示", required=False, choices=[("", "全部"), *PUBLICITY_FILTERS.items()])
    assistance = forms.ChoiceField(label="社会救助", required=False, choices=ASSISTANCE_FILTER_CHOICES)
    sort = forms.ChoiceField(label="排序", required=False, choices=[(k, SORT_LABELS[k]) for k in QUEUE_SORTS])

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["overdue"].help_text = f"发现后超过 {overdue_days()} 天仍未办结（按自然日）"
        self.picked: dict[str, str] = {"region": ""}

    def clean_region(self) -> str:
        return region_clean(self, "region", area_levels(self.user))

    def filters(self) -> QueueFilters:
        if not self.is_bound:
            return QueueFilters()
        if not self.is_valid():  # the page shows the error and lists nothing
            return QueueFilters(unreadable=True)
        d = self.cleaned_data
        return QueueFilters(
            state=d["state"],
            source=d["source"],
            rule=d["rule"],
            category=d["category"],
            region=d["region"],
            overdue=bool(d["overdue"]),
            late=bool(d["late"]),
            publicity=d["publicity"],
            assistance=d["assistance"],
            sort=d["sort"] or "raised",
        )


class VerifyForm(forms.Form):
    home_checked_on = forms.DateField(label="入户核实日期", widget=DATE)
    consent_signed = forms.ChoiceField(label="农户承诺授权", choices=YES_NO, widget=forms.RadioSelect)
    consent_scan = forms.FileField(label="承诺授权书扫描件（可选）", required=False)
    appraisal_on = forms.DateField(label="民主评议日期", widget=DATE)
    appraisal_outcome = forms.ChoiceField(
        label="民主评议结果", choices=[c for c in AppraisalOutcome.choices if c[0]], widget=forms.RadioSelect
    )
    publicity_start = forms.DateField(label="公示开始日期", widget=DATE)
    publicity_end = forms.DateField(label="公示结束日期", widget=DATE, help_text="公示期不少于 5 天（含首尾两天）")
    opinion = forms.CharField(
        label="核实意见", required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean_consent_scan(self) -> Any:
        scan = self.cleaned_data.get("consent_scan")
        if scan and scan.size > 5 * 1024 * 1024:
            raise forms.ValidationError("扫描件不能超过 5 MB。")
        if scan and not str(scan.name).lower().endswith((".pdf", ".jpg", ".jpeg", ".png")):
            raise forms.ValidationError("扫描件须为 PDF、JPG 或 PNG 文件。")
        return scan

    def verification(self) -> Verification:
        d = self.cleaned_data
        return Verification(
            home_checked_on=d["home_checked_on"],
            consent_signed=d["consent_signed"] == "yes",
            appraisal_on=d["appraisal_on"],
            appraisal_outcome=d["appraisal_outcome"],
            publicity_start=d["publicity_start"],
            publicity_end=d["publicity_end"],
            consent_scan=d.get("consent_scan") or None,
        )


def checked_field(label: StrOrPromise) -> forms.BooleanField:
    """The confirmation step of a decision that is hard to undo (县级确定, 不予纳入): a box the user
    ticks after checking the household, refused unticked by the server (works without JavaScript)."""
    return forms.BooleanField(
        label=label, required=True, error_messages={"required": "请先核对并勾选“我已核对”，再提交。"}
    )


class ReviewForm(forms.Form):
    opinion = forms.CharField(
        label="审核意见", required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ConfirmForm(forms.Form):
    category = forms.ChoiceField(
        label=format_lazy("{}类别", term_lazy("target")), choices=TargetCategory.choices, widget=forms.RadioSelect
    )
    risk_types = forms.MultipleChoiceField(
        label=f"风险类型（最多 {MAX_RISK_TYPES} 项）", choices=RiskType.choices, widget=forms.CheckboxSelectMultiple
    )
    identified_on = forms.DateField(label="识别日期", widget=DATE)
    opinion = forms.CharField(
        label="确定意见", required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
    checked = checked_field(format_lazy("我已核对以上信息，确认将该户确定为{}", term_lazy("target")))

    def decision(self) -> Decision:
        d = self.cleaned_data
        return Decision(category=d["category"], risk_types=d["risk_types"], identified_on=d["identified_on"])


class DirectConfirmForm(ConfirmForm):
    opinion = forms.CharField(
        label="直接确定理由（必填）",
        required=True,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "县级直接确定必须填写理由。"},
    )


class RejectForm(forms.Form):
    # what the household is told on the status page and in the notice (never the written reason)
    category = forms.ChoiceField(
        label="原因类别（告知农户）",
        choices=RejectionCategory.choices,
        required=False,
        initial=RejectionCategory.OTHER,
        widget=forms.RadioSelect,
    )
    opinion = forms.CharField(
        label="不予纳入理由（必填）",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "不予纳入必须填写理由。"},
    )
    checked = checked_field("我已核对以上信息，确认不予纳入")

    def clean_opinion(self) -> str:
        value = str(self.cleaned_data["opinion"]).strip()
        if not value:
            raise forms.ValidationError("不予纳入必须填写理由。")
        return value

    def clean_category(self) -> str:
        return str(self.cleaned_data.get("category") or RejectionCategory.OTHER)


class BulkDecideForm(forms.Form):
    leads = forms.TypedMultipleChoiceField(
        label="选中的线索", coerce=int, error_messages={"required": "请先勾选线索。"}
    )
    decision = forms.ChoiceField(label="批量操作", choices=[("confirm", "批量确定"), ("reject", "批量不予纳入")])
    reason = forms.CharField(label="意见/理由", required=False, max_length=1000)
    category = forms.ChoiceField(
        label="原因类别（告知农户）", required=False, choices=[("", "其他原因"), *RejectionCategory.choices]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        values = self.data.getlist("leads") if hasattr(self.data, "getlist") else []
        self.fields["leads"].choices = [(v, v) for v in values if str(v).isdigit()]  # type: ignore[attr-defined]


class TargetFilterForm(SelectsMixin, forms.Form):
    status = forms.ChoiceField(label="状态", required=False, choices=[("", "全部"), *TargetStatus.choices])
    category = forms.ChoiceField(label="类别", required=False, choices=[("", "全部"), *TargetCategory.choices])
    risk_type = forms.ChoiceField(label="风险类型", required=False, choices=[("", "全部"), *RiskType.choices])
    region = region_field("乡镇/村")  # typed or picked (a province's 10 000 villages were one <select>)
    assistance = forms.ChoiceField(label="社会救助", required=False, choices=ASSISTANCE_FILTER_CHOICES)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.picked: dict[str, str] = {"region": ""}

    def clean_region(self) -> str:
        return region_clean(self, "region", area_levels(self.user))

    def filters(self) -> dict[str, str] | None:
        """The filters given; ``None`` when one cannot be read (a region outside the scope, two
        regions of that name): the page shows the error and lists nothing, the export refuses."""
        if not self.is_bound:
            return {}
        if not self.is_valid():
            return None
        return {k: v for k, v in self.cleaned_data.items() if v}
