# 回头看 and yearly 信息采集 campaigns and their per-household tasks.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0033_green_channel_followup"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Campaign",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[("REVISIT", "回头看"), ("COLLECTION", "信息采集")], max_length=12, verbose_name="类型"
                    ),
                ),
                ("name", models.CharField(max_length=80, verbose_name="名称")),
                ("year", models.PositiveSmallIntegerField(verbose_name="年度")),
                (
                    "selection",
                    models.CharField(
                        choices=[
                            ("ALL_TARGETS", "全部监测中的对象"),
                            ("EXITED_IN_VILLAGES", "所选村的全部脱贫户"),
                            ("NEAR_LINE", "人均收入低于监测标准一定倍数的农户"),
                        ],
                        max_length=20,
                        verbose_name="范围",
                    ),
                ),
                ("villages", models.JSONField(blank=True, default=list, verbose_name="所选村")),
                (
                    "line_factor",
                    models.DecimalField(
                        blank=True, decimal_places=2, max_digits=4, null=True, verbose_name="监测标准倍数"
                    ),
                ),
                ("started_on", models.DateField(verbose_name="开始日期")),
                ("due_on", models.DateField(verbose_name="完成期限")),
                (
                    "state",
                    models.CharField(
                        choices=[("OPEN", "进行中"), ("CLOSED", "已结束")],
                        default="OPEN",
                        max_length=8,
                        verbose_name="状态",
                    ),
                ),
                ("task_count", models.PositiveIntegerField(default=0, verbose_name="农户数")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="发起时间")),
                ("closed_on", models.DateField(blank=True, null=True, verbose_name="结束日期")),
                ("client_uuid", models.UUIDField(blank=True, null=True, unique=True, verbose_name="表单编号")),
                (
                    "closed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="结束人",
                    ),
                ),
                (
                    "county",
                    models.ForeignKey(
                        limit_choices_to={"level": "COUNTY"},
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="campaigns",
                        to="monitoring.region",
                        verbose_name="县",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="发起人",
                    ),
                ),
            ],
            options={
                "verbose_name": "回头看/信息采集活动",
                "verbose_name_plural": "回头看/信息采集活动",
                "ordering": ["-started_on", "-id"],
            },
        ),
        migrations.CreateModel(
            name="CampaignTask",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("village_code", models.CharField(max_length=12, verbose_name="村级区划代码")),
                (
                    "state",
                    models.CharField(
                        choices=[("OPEN", "待完成"), ("DONE", "已完成")],
                        default="OPEN",
                        max_length=8,
                        verbose_name="状态",
                    ),
                ),
                ("done_on", models.DateField(blank=True, null=True, verbose_name="完成日期")),
                (
                    "done_via",
                    models.CharField(
                        blank=True,
                        choices=[("", "—"), ("VISIT", "走访"), ("DATA_UPDATE", "数据更新")],
                        default="",
                        max_length=12,
                        verbose_name="完成方式",
                    ),
                ),
                (
                    "campaign",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tasks",
                        to="monitoring.campaign",
                        verbose_name="活动",
                    ),
                ),
                (
                    "done_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="完成人",
                    ),
                ),
                (
                    "household",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="campaign_tasks",
                        to="monitoring.household",
                        verbose_name="农户",
                    ),
                ),
                (
                    "visit",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="campaign_tasks",
                        to="monitoring.visit",
                        verbose_name="走访记录",
                    ),
                ),
            ],
            options={
                "verbose_name": "活动任务",
                "verbose_name_plural": "活动任务",
                "ordering": ["campaign_id", "village_code", "household_id"],
            },
        ),
        migrations.AddConstraint(
            model_name="campaign",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind__in", ["REVISIT", "COLLECTION"])), name="campaign_kind_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="campaign",
            constraint=models.CheckConstraint(
                condition=models.Q(("selection__in", ["ALL_TARGETS", "EXITED_IN_VILLAGES", "NEAR_LINE"])),
                name="campaign_selection_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="campaign",
            constraint=models.CheckConstraint(
                condition=models.Q(("state__in", ["OPEN", "CLOSED"])), name="campaign_state_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="campaign",
            constraint=models.CheckConstraint(
                condition=models.Q(("due_on__gte", models.F("started_on"))), name="campaign_due_after_start"
            ),
        ),
        migrations.AddConstraint(
            model_name="campaign",
            constraint=models.CheckConstraint(
                condition=models.Q(("year__gte", 2000), ("year__lte", 2100)), name="campaign_year_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="campaign",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("line_factor__gte", 1), ("line_factor__lte", 5), ("selection", "NEAR_LINE")),
                    models.Q(models.Q(("selection", "NEAR_LINE"), _negated=True), ("line_factor__isnull", True)),
                    _connector="OR",
                ),
                name="campaign_line_factor_iff_near_line",
            ),
        ),
        migrations.AddConstraint(
            model_name="campaign",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("closed_on__isnull", False), ("state", "CLOSED")),
                    models.Q(("closed_on__isnull", True), ("state", "OPEN")),
                    _connector="OR",
                ),
                name="campaign_closed_on_iff_closed",
            ),
        ),
        migrations.AddConstraint(
            model_name="campaign",
            constraint=models.UniqueConstraint(
                fields=("county", "year", "name"), name="campaign_unique_name_per_county_year"
            ),
        ),
        migrations.AddIndex(
            model_name="campaigntask",
            index=models.Index(fields=["campaign", "village_code", "state"], name="campaign_task_village_state"),
        ),
        migrations.AddIndex(
            model_name="campaigntask",
            index=models.Index(fields=["household", "state"], name="campaign_task_household_state"),
        ),
        migrations.AddConstraint(
            model_name="campaigntask",
            constraint=models.UniqueConstraint(
                fields=("campaign", "household"), name="campaign_task_one_per_household"
            ),
        ),
        migrations.AddConstraint(
            model_name="campaigntask",
            constraint=models.CheckConstraint(
                condition=models.Q(("state__in", ["OPEN", "DONE"])), name="campaign_task_state_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="campaigntask",
            constraint=models.CheckConstraint(
                condition=models.Q(("done_via__in", ["", "VISIT", "DATA_UPDATE"])), name="campaign_task_done_via_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="campaigntask",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("done_on__isnull", False), ("state", "DONE"), models.Q(("done_via", ""), _negated=True)),
                    models.Q(("done_on__isnull", True), ("done_via", ""), ("state", "OPEN"), ("visit__isnull", True)),
                    _connector="OR",
                ),
                name="campaign_task_done_fields_iff_done",
            ),
        ),
        migrations.AddConstraint(
            model_name="campaigntask",
            constraint=models.CheckConstraint(
                condition=models.Q(("visit__isnull", True), ("done_via", "VISIT"), _connector="OR"),
                name="campaign_task_visit_only_via_visit",
            ),
        ),
        migrations.AddConstraint(
            model_name="campaigntask",
            constraint=models.CheckConstraint(
                condition=models.Q(("village_code__regex", "^[0-9]{12}$")), name="campaign_task_village_code"
            ),
        ),
    ]
