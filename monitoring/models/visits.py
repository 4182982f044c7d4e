"""走访记录 (visit records) with photos, and 农户申报 (household applications) (SPEC §3, §5).

Risk elimination reads visits; a visit with the risk flag or an item not secured raises a ``VISIT``
lead (``monitoring.services.visits``).  ``client_uuid`` is the offline client's idempotency key.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from fanpin.core.scoping import ScopedQuerySet

# The 两不愁三保障 checklist: field name → label, in the SPEC's order.
CHECKLIST_FIELDS: tuple[tuple[str, str], ...] = (
    ("food_secure", "不愁吃"),
    ("clothing_secure", "不愁穿"),
    ("education_secure", "义务教育有保障"),
    ("medical_secure", "基本医疗有保障"),
    ("housing_secure", "住房安全有保障"),
    ("water_secure", "饮水安全有保障"),
)


class IncomeChange(models.TextChoices):
    NONE = "NONE", "无变化"
    DECREASED = "DECREASED", "减少"
    SHARPLY_DECREASED = "SHARPLY_DECREASED", "大幅减少"


class VisitEvent(models.TextChoices):
    """发现事项 observed on a visit (stored as a JSON list of these codes)."""

    ILLNESS = "ILLNESS", "患病"
    DISABILITY = "DISABILITY", "残疾"
    DISASTER = "DISASTER", "受灾"
    ACCIDENT = "ACCIDENT", "意外事故"
    JOB_LOSS = "JOB_LOSS", "失业/务工中断"
    INDUSTRY_FAILURE = "INDUSTRY_FAILURE", "产业失败"
    DROPOUT = "DROPOUT", "辍学"
    OTHER = "OTHER", "其他"


# event → the lead's suggested 风险类型
EVENT_RISK_TYPES: dict[str, str] = {
    VisitEvent.ILLNESS: "ILLNESS",
    VisitEvent.DISABILITY: "DISABILITY",
    VisitEvent.DISASTER: "DISASTER",
    VisitEvent.ACCIDENT: "ACCIDENT",
    VisitEvent.JOB_LOSS: "UNSTABLE_EMPLOYMENT",
    VisitEvent.INDUSTRY_FAILURE: "INDUSTRY_FAILURE",
    VisitEvent.DROPOUT: "EDUCATION",
    VisitEvent.OTHER: "OTHER",
}
# The 两不愁三保障 items that name a risk type of their own (SPEC §1: 住房安全 · 饮水安全): a visit that
# finds one not secured suggests it, as an event suggests its cause.  The other items name no cause
# (a household 不愁吃 fails for some reason the cadre records as an event or the county chooses).
CHECKLIST_RISK_TYPES: dict[str, str] = {
    "housing_secure": "HOUSING",
    "water_secure": "DRINKING_WATER",
}
MAX_VISIT_PHOTOS = 3


class VisitQuerySet(ScopedQuerySet["Visit"]):
    region_path = "household__village__code"


class Visit(models.Model):
    IncomeChange = IncomeChange

    household = models.ForeignKey(
        "monitoring.Household", verbose_name="农户", on_delete=models.CASCADE, related_name="visits"
    )
    visited_on = models.DateField("走访日期")
    visitors = models.CharField("走访人", max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    food_secure = models.BooleanField("不愁吃", default=True)
    clothing_secure = models.BooleanField("不愁穿", default=True)
    education_secure = models.BooleanField("义务教育有保障", default=True)
    medical_secure = models.BooleanField("基本医疗有保障", default=True)
    housing_secure = models.BooleanField("住房安全有保障", default=True)
    water_secure = models.BooleanField("饮水安全有保障", default=True)
    events = models.JSONField("发现事项", default=list, blank=True)
    income_change = models.CharField("收入变化", max_length=20, choices=IncomeChange.choices, default=IncomeChange.NONE)
    risk_flag = models.BooleanField("发现返贫致贫风险", default=False)
    notes = models.TextField("备注", blank=True)
    client_uuid = models.UUIDField("客户端编号", unique=True, null=True, blank=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = "走访记录"
        verbose_name_plural = "走访记录"
        ordering = ["-visited_on", "-id"]
        indexes = [models.Index(fields=["household", "visited_on"], name="visit_household_date")]
        constraints = [
            models.CheckConstraint(
                condition=Q(income_change__in=IncomeChange.values), name="visit_income_change_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.visited_on}"

    @property
    def all_secure(self) -> bool:
        """Every 两不愁三保障 item secured."""
        return all(getattr(self, name) for name, _label in CHECKLIST_FIELDS)

    @property
    def checklist(self) -> list[tuple[str, bool]]:
        return [(label, bool(getattr(self, name))) for name, label in CHECKLIST_FIELDS]


class VisitPhotoQuerySet(ScopedQuerySet["VisitPhoto"]):
    region_path = "visit__household__village__code"


class VisitPhoto(models.Model):
    """A photo taken on a visit: re-encoded on upload (EXIF, including the location, removed)."""

    visit = models.ForeignKey(Visit, verbose_name="走访记录", on_delete=models.CASCADE, related_name="photos")
    image = models.FileField("照片", upload_to="visits/%Y/%m/")
    created_at = models.DateTimeField("上传时间", auto_now_add=True)

    objects = VisitPhotoQuerySet.as_manager()

    class Meta:
        verbose_name = "走访照片"
        verbose_name_plural = "走访照片"
        ordering = ["id"]

    def __str__(self) -> str:
        return str(self.image.name)


class ApplicationChannel(models.TextChoices):
    CADRE = "CADRE", "村干部代录"
    PUBLIC = "PUBLIC", "群众自主申报"


class ApplicationSource(models.TextChoices):
    """How an application came in: entered by a cadre, or a public report from the page opened
    directly or through a village's QR poster (the poster's link carries ``source=poster``)."""

    CADRE = "CADRE", "村干部代录"
    DIRECT = "DIRECT", "直接访问申报页"
    POSTER = "POSTER", "村级二维码海报"


class ApplicationStatus(models.TextChoices):
    MATCHED = "MATCHED", "已匹配农户"
    PENDING_MATCH = "PENDING_MATCH", "待匹配"


class ApplicationQuerySet(ScopedQuerySet["Application"]):
    region_path = "village__code"


class Application(models.Model):
    """农户申报: entered by a cadre for a household, or sent through the public self-report page.

    A public report whose 身份证号 matches no member is kept as 待匹配 (``household`` empty) for the
    county to match; it is never dropped.
    """

    Channel = ApplicationChannel
    Source = ApplicationSource
    Status = ApplicationStatus

    receipt_no = models.CharField("回执编号", max_length=20, unique=True)
    channel = models.CharField("申报渠道", max_length=8, choices=ApplicationChannel.choices)
    source = models.CharField(
        "申报来源", max_length=8, choices=ApplicationSource.choices, default=ApplicationSource.DIRECT
    )
    status = models.CharField("匹配状态", max_length=16, choices=ApplicationStatus.choices)
    village = models.ForeignKey(
        "monitoring.Region", verbose_name="村", on_delete=models.PROTECT, related_name="applications"
    )
    household = models.ForeignKey(
        "monitoring.Household",
        verbose_name="农户",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="applications",
    )
    applicant_name = models.CharField("申报人姓名", max_length=64, blank=True)
    id_number = models.CharField("申报人身份证号", max_length=18, blank=True)
    phone = models.CharField("联系电话", max_length=32, blank=True)
    # the public applicant asked for 办理进度 notices at ``phone`` (受理, the decision)
    notice_opt_in = models.BooleanField("接收办理进度通知", default=False, db_default=False)
    reason = models.CharField("申报事由", max_length=20, choices=VisitEvent.choices)
    description = models.TextField("情况说明")
    amount = models.DecimalField("涉及金额（元）", max_digits=12, decimal_places=2, null=True, blank=True)
    lead = models.ForeignKey(
        "monitoring.Lead", verbose_name="线索", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # made by the cadre's phone: a resend of an application saved offline is recognised, never doubled
    client_uuid = models.UUIDField("客户端编号", null=True, blank=True)
    created_at = models.DateTimeField("申报时间", auto_now_add=True)

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = "农户申报"
        verbose_name_plural = "农户申报"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=ApplicationChannel.values), name="application_channel_valid"
            ),
            models.CheckConstraint(condition=Q(status__in=ApplicationStatus.values), name="application_status_valid"),
            models.CheckConstraint(condition=Q(source__in=ApplicationSource.values), name="application_source_valid"),
            # a cadre's entry is 村干部代录; a public report came directly or through a village poster
            models.CheckConstraint(
                condition=Q(channel=ApplicationChannel.CADRE, source=ApplicationSource.CADRE)
                | Q(channel=ApplicationChannel.PUBLIC) & ~Q(source=ApplicationSource.CADRE),
                name="application_source_matches_channel",
            ),
            models.CheckConstraint(condition=Q(reason__in=VisitEvent.values), name="application_reason_valid"),
            # 已匹配 ⇔ a household; 待匹配 ⇔ none
            models.CheckConstraint(
                condition=Q(status=ApplicationStatus.MATCHED, household__isnull=False)
                | Q(status=ApplicationStatus.PENDING_MATCH, household__isnull=True),
                name="application_status_matches_household",
            ),
            # a cadre enters an application for a known household
            models.CheckConstraint(
                condition=~Q(channel=ApplicationChannel.CADRE) | Q(household__isnull=False),
                name="application_cadre_has_household",
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="application_amount_nonneg"
            ),
            models.UniqueConstraint(fields=["client_uuid"], name="application_client_uuid_unique"),
        ]

    def __str__(self) -> str:
        return self.receipt_no
