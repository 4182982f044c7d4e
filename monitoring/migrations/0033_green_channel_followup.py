# 绿色通道补办 (green channel follow-up): the FollowUp model, and follow-ups opened
# for the direct confirmations made before it existed (decision record 2026-12-04-green-channel-follow-up).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def follow_ups_backfill(apps, schema_editor):
    """Active targets confirmed directly whose lead lacked 入户核实 / 民主评议 / 公示 owe them now,
    counted from their confirmation day (rules frozen here as ``follow_up_owed`` states them)."""
    MonitoringTarget = apps.get_model("monitoring", "MonitoringTarget")
    FollowUp = apps.get_model("monitoring", "FollowUp")
    AuditEntry = apps.get_model("fanpin", "AuditEntry")
    targets = (
        MonitoringTarget.objects.filter(direct=True, status="ACTIVE", lead__isnull=False)
        .select_related("lead", "household")
        .order_by("pk")
    )
    now = timezone.now()
    for target in targets.iterator(chunk_size=500):
        lead = target.lead
        owes_home_check = lead.home_checked_on is None or lead.consent_signed is not True
        owes_appraisal = lead.appraisal_on is None or lead.appraisal_outcome != "AGREED"
        owes_publicity = lead.publicity_start is None
        if not (owes_home_check or owes_appraisal or owes_publicity):
            continue
        opened_at = target.confirmed_at or now
        follow_up = FollowUp.objects.create(
            target=target,
            lead=lead,
            opened_on=timezone.localdate(opened_at) if target.confirmed_at else target.identified_on,
            opened_at=opened_at,
            opened_by_id=target.confirmed_by_id,
            owes_home_check=owes_home_check,
            owes_appraisal=owes_appraisal,
            owes_publicity=owes_publicity,
        )
        owed = [
            step
            for step, owes in (
                ("HOME_CHECK", owes_home_check),
                ("APPRAISAL", owes_appraisal),
                ("PUBLICITY", owes_publicity),
            )
            if owes
        ]
        AuditEntry.objects.create(
            actor=None,
            object_type="follow_up",
            object_id=str(follow_up.pk),
            region_code=target.household.village_id,
            action="follow_up_open",
            to_state="OPEN",
            reason="系统升级：为此前县级直接确定的对象开启绿色通道补办",
            data={"target": target.pk, "lead": lead.pk, "owed": owed, "backfill": True},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0032_data_comparison"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="FollowUp",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("opened_on", models.DateField(verbose_name="开启日期（县级直接确定之日）")),
                ("opened_at", models.DateTimeField(verbose_name="开启时间")),
                (
                    "state",
                    models.CharField(
                        choices=[("OPEN", "待补办"), ("DONE", "已补办")],
                        default="OPEN",
                        max_length=8,
                        verbose_name="状态",
                    ),
                ),
                ("completed_at", models.DateTimeField(blank=True, null=True, verbose_name="补办完成时间")),
                ("owes_home_check", models.BooleanField(default=False, verbose_name="须补入户核实")),
                ("owes_appraisal", models.BooleanField(default=False, verbose_name="须补民主评议")),
                ("owes_publicity", models.BooleanField(default=False, verbose_name="须补公示")),
                ("home_checked_on", models.DateField(blank=True, null=True, verbose_name="入户核实日期")),
                ("home_checked_by", models.CharField(blank=True, default="", max_length=100, verbose_name="核实人")),
                ("home_checklist", models.JSONField(blank=True, default=dict, verbose_name="两不愁三保障核实")),
                ("consent_signed", models.BooleanField(blank=True, null=True, verbose_name="农户承诺授权")),
                (
                    "home_check_recorded_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="入户核实登记时间"),
                ),
                ("appraisal_on", models.DateField(blank=True, null=True, verbose_name="民主评议日期")),
                (
                    "appraisal_outcome",
                    models.CharField(
                        blank=True,
                        choices=[("", "—"), ("AGREED", "同意纳入"), ("DISAGREED", "不同意纳入")],
                        default="",
                        max_length=10,
                        verbose_name="民主评议结果",
                    ),
                ),
                ("appraisal_recorded_at", models.DateTimeField(blank=True, null=True, verbose_name="民主评议登记时间")),
                ("publicity_start", models.DateField(blank=True, null=True, verbose_name="公示开始日期")),
                ("publicity_end", models.DateField(blank=True, null=True, verbose_name="公示结束日期")),
                ("publicity_recorded_at", models.DateTimeField(blank=True, null=True, verbose_name="公示登记时间")),
                ("county_review", models.BooleanField(default=False, verbose_name="需县级复核")),
                (
                    "county_review_reason",
                    models.CharField(blank=True, default="", max_length=200, verbose_name="复核原因"),
                ),
                (
                    "appraisal_recorded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="民主评议登记人",
                    ),
                ),
                (
                    "home_check_recorded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="入户核实登记人",
                    ),
                ),
                (
                    "lead",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="monitoring.lead",
                        verbose_name="来源线索",
                    ),
                ),
                (
                    "opened_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="确定人",
                    ),
                ),
                (
                    "publicity_recorded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="公示登记人",
                    ),
                ),
                (
                    "target",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="follow_up",
                        to="monitoring.monitoringtarget",
                        verbose_name="监测对象",
                    ),
                ),
            ],
            options={
                "verbose_name": "绿色通道补办",
                "verbose_name_plural": "绿色通道补办",
                "ordering": ["opened_on", "id"],
            },
        ),
        migrations.AddIndex(
            model_name="followup",
            index=models.Index(fields=["state", "opened_on"], name="follow_up_state_opened"),
        ),
        migrations.AddConstraint(
            model_name="followup",
            constraint=models.CheckConstraint(
                condition=models.Q(("state__in", ["OPEN", "DONE"])), name="follow_up_state_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="followup",
            constraint=models.CheckConstraint(
                condition=models.Q(("appraisal_outcome__in", ["", "AGREED", "DISAGREED"])),
                name="follow_up_appraisal_outcome_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="followup",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("owes_home_check", True), ("owes_appraisal", True), ("owes_publicity", True), _connector="OR"
                ),
                name="follow_up_owes_a_step",
            ),
        ),
        migrations.AddConstraint(
            model_name="followup",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("completed_at__isnull", True), ("state", "OPEN")),
                    models.Q(("completed_at__isnull", False), ("state", "DONE")),
                    _connector="OR",
                ),
                name="follow_up_completed_iff_done",
            ),
        ),
        migrations.AddConstraint(
            model_name="followup",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("publicity_end__isnull", True), ("publicity_start__isnull", True)),
                    models.Q(("publicity_end__gte", models.F("publicity_start")), ("publicity_start__isnull", False)),
                    _connector="OR",
                ),
                name="follow_up_publicity_period_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="followup",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("home_check_recorded_at__isnull", True), ("home_checked_on__isnull", False), _connector="OR"
                ),
                name="follow_up_home_check_has_date",
            ),
        ),
        migrations.AddConstraint(
            model_name="followup",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("appraisal_recorded_at__isnull", True),
                    models.Q(("appraisal_on__isnull", False), models.Q(("appraisal_outcome", ""), _negated=True)),
                    _connector="OR",
                ),
                name="follow_up_appraisal_has_outcome",
            ),
        ),
        migrations.AddConstraint(
            model_name="followup",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("publicity_recorded_at__isnull", True), ("publicity_start__isnull", False), _connector="OR"
                ),
                name="follow_up_publicity_has_period",
            ),
        ),
        migrations.RunPython(follow_ups_backfill, migrations.RunPython.noop),
    ]
