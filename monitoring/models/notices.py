"""通知 (notices): short messages to a household (受理, the decision, 风险消除) and to a 帮扶责任人
(a measure falling due), and each household's choice to receive them.

Every send is a ``Notice`` row: which template, to whom (masked), by which channel, the outcome and
the attempts.  The address (phone or WeChat openid) is kept on the row only until the send has
succeeded or finally failed, then cleared: the row stays as the record, without the number.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from fanpin.core.scoping import ScopedQuerySet


class NoticeKind(models.TextChoices):
    """The message templates (texts: ``monitoring.services.notices.templates``)."""

    RECEIVED = "RECEIVED", "申报受理"
    INCLUDED = "INCLUDED", "纳入监测"
    NOT_INCLUDED = "NOT_INCLUDED", "未纳入"
    ELIMINATED = "ELIMINATED", "风险消除"
    MEASURE_DUE = "MEASURE_DUE", "帮扶措施到期提醒"


class NoticeChannel(models.TextChoices):
    LOG = "LOG", "仅记录（未外发）"
    SMS = "SMS", "短信"
    WECHAT = "WECHAT", "微信模板消息"


class NoticeStatus(models.TextChoices):
    PENDING = "PENDING", "待发送"
    RETRYING = "RETRYING", "重试中"
    SENT = "SENT", "已发送"
    FAILED = "FAILED", "发送失败"


FINISHED_NOTICE_STATUSES = (NoticeStatus.SENT, NoticeStatus.FAILED)


class NoticeRecipient(models.TextChoices):
    HOUSEHOLD = "HOUSEHOLD", "农户"
    APPLICANT = "APPLICANT", "申报人"
    RESPONSIBLE = "RESPONSIBLE", "帮扶责任人"


class NoticeQuerySet(ScopedQuerySet["Notice"]):
    region_path = "village__code"


class Notice(models.Model):
    Kind = NoticeKind
    Channel = NoticeChannel
    Status = NoticeStatus

    kind = models.CharField("通知模板", max_length=16, choices=NoticeKind.choices)
    channel = models.CharField("发送方式", max_length=8, choices=NoticeChannel.choices)
    status = models.CharField("发送状态", max_length=10, choices=NoticeStatus.choices, default=NoticeStatus.PENDING)
    village = models.ForeignKey(
        "monitoring.Region", verbose_name="村", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    household = models.ForeignKey(
        "monitoring.Household",
        verbose_name="农户",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notices",
    )
    recipient = models.CharField("接收方", max_length=12, choices=NoticeRecipient.choices)
    recipient_masked = models.CharField("接收号码（脱敏）", max_length=64)
    # the phone or openid, until the send has succeeded or finally failed (then cleared)
    address = models.CharField("接收地址", max_length=128, blank=True)
    text = models.TextField("通知内容")
    subject_type = models.CharField("事项类型", max_length=16)  # application · lead · target · measure
    subject_id = models.PositiveBigIntegerField("事项编号")
    # what makes a send unique (a template, its subject, a due date, the recipient): the same
    # event never sends twice, whatever retries or reruns happen
    dedupe_key = models.CharField("去重键", max_length=160)
    attempts = models.PositiveSmallIntegerField("发送次数", default=0)
    last_error = models.CharField("最近一次失败原因", max_length=300, blank=True)
    created_at = models.DateTimeField("生成时间", auto_now_add=True)
    sent_at = models.DateTimeField("发送成功时间", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        verbose_name = "通知"
        verbose_name_plural = "通知"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["village", "created_at"], name="notice_village_created")]
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key"], name="notice_dedupe_key_unique"),
            models.CheckConstraint(condition=Q(kind__in=NoticeKind.values), name="notice_kind_valid"),
            models.CheckConstraint(condition=Q(channel__in=NoticeChannel.values), name="notice_channel_valid"),
            models.CheckConstraint(condition=Q(status__in=NoticeStatus.values), name="notice_status_valid"),
            models.CheckConstraint(condition=Q(recipient__in=NoticeRecipient.values), name="notice_recipient_valid"),
            models.CheckConstraint(
                condition=~Q(status=NoticeStatus.SENT) | Q(sent_at__isnull=False), name="notice_sent_has_time"
            ),
            # a finished send keeps no phone number or openid
            models.CheckConstraint(
                condition=~Q(status__in=["SENT", "FAILED"]) | Q(address=""), name="notice_finished_has_no_address"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.recipient_masked} {self.get_status_display()}"


class NoticePreferenceQuerySet(ScopedQuerySet["NoticePreference"]):
    region_path = "household__village__code"


class NoticePreference(models.Model):
    """A household's consent to notices, and the phone (or WeChat openid) they go to."""

    household = models.OneToOneField(
        "monitoring.Household", verbose_name="农户", on_delete=models.CASCADE, related_name="notice_preference"
    )
    opted_in = models.BooleanField("接收办理进度通知", default=False)
    phone = models.CharField("接收通知的手机号", max_length=32, blank=True)
    wechat_openid = models.CharField("微信 openid", max_length=64, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )

    objects = NoticePreferenceQuerySet.as_manager()

    class Meta:
        verbose_name = "通知设置"
        verbose_name_plural = "通知设置"
        constraints = [
            # consent names where the notices go
            models.CheckConstraint(
                condition=Q(opted_in=False) | ~Q(phone="") | ~Q(wechat_openid=""),
                name="notice_preference_opt_in_has_address",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {'接收' if self.opted_in else '不接收'}"
