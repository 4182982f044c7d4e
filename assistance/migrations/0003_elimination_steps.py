# 风险消除 with identification's steps: 入户核实, 12-month 核算, 民主评议, 村内公示, 乡镇审核 on the proposal.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("assistance", "0002_seed_catalogue"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="eliminationproposal",
            name="accounting_business_income",
            field=models.DecimalField(
                blank=True, decimal_places=2, max_digits=14, null=True, verbose_name="核算生产经营净收入"
            ),
        ),
        migrations.AddField(
            model_name="eliminationproposal",
            name="accounting_family_size",
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="核算家庭人口数"),
        ),
        migrations.AddField(
            model_name="eliminationproposal",
            name="accounting_property_income",
            field=models.DecimalField(
                blank=True, decimal_places=2, max_digits=14, null=True, verbose_name="核算财产净收入"
            ),
        ),
        migrations.AddField(
            model_name="eliminationproposal",
            name="accounting_transfer_income",
            field=models.DecimalField(
                blank=True, decimal_places=2, max_digits=14, null=True, verbose_name="核算转移净收入"
            ),
        ),
        migrations.AddField(
            model_name="eliminationproposal",
            name="accounting_wage_income",
            field=models.DecimalField(
                blank=True, decimal_places=2, max_digits=14, null=True, verbose_name="核算工资性收入"
            ),
        ),
        migrations.AddField(
            model_name="eliminationproposal",
            name="appraisal_on",
            field=models.DateField(blank=True, null=True, verbose_name="民主评议日期"),
        ),
        migrations.AddField(
            model_name="eliminationproposal",
            name="appraisal_outcome",
            field=models.CharField(
                blank=True,
                choices=[("", "—"), ("AGREED", "同意"), ("DISAGREED", "不同意")],
                default="",
                max_length=10,
                verbose_name="民主评议结果",
            ),
        ),
        migrations.AddField(
            model_name="eliminationproposal",
            name="home_checked_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="核实录入人",
            ),
        ),
        migrations.AddField(
            model_name="eliminationproposal",
            name="home_checked_on",
            field=models.DateField(blank=True, null=True, verbose_name="入户核实日期"),
        ),
        migrations.AddField(
            model_name="eliminationproposal",
            name="home_checklist",
            field=models.JSONField(blank=True, default=dict, verbose_name="两不愁三保障及饮水安全核实"),
        ),
        migrations.AddField(
            model_name="eliminationproposal",
            name="home_visitors",
            field=models.CharField(blank=True, default="", max_length=200, verbose_name="核实人员"),
        ),
        migrations.AddField(
            model_name="eliminationproposal",
            name="publicity_end",
            field=models.DateField(blank=True, null=True, verbose_name="公示结束日期"),
        ),
        migrations.AddField(
            model_name="eliminationproposal",
            name="publicity_start",
            field=models.DateField(blank=True, null=True, verbose_name="公示开始日期"),
        ),
        migrations.AddField(
            model_name="eliminationproposal",
            name="reviewed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="乡镇审核时间"),
        ),
        migrations.AddField(
            model_name="eliminationproposal",
            name="reviewed_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="审核人",
            ),
        ),
        migrations.AddConstraint(
            model_name="eliminationproposal",
            constraint=models.CheckConstraint(
                condition=models.Q(("appraisal_outcome__in", ["", "AGREED", "DISAGREED"])),
                name="elimination_appraisal_outcome_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="eliminationproposal",
            constraint=models.CheckConstraint(
                condition=models.Q(("appraisal_on__isnull", True), ("home_checked_on__isnull", False), _connector="OR"),
                name="elimination_appraisal_after_home_check",
            ),
        ),
        migrations.AddConstraint(
            model_name="eliminationproposal",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("appraisal_on__isnull", True), ("appraisal_outcome", "")),
                    models.Q(("appraisal_on__isnull", False), ("appraisal_outcome__in", ["AGREED", "DISAGREED"])),
                    _connector="OR",
                ),
                name="elimination_appraisal_date_iff_outcome",
            ),
        ),
        migrations.AddConstraint(
            model_name="eliminationproposal",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("publicity_end__isnull", True), ("publicity_start__isnull", True)),
                    models.Q(
                        ("appraisal_on__lte", models.F("publicity_start")),
                        ("appraisal_outcome", "AGREED"),
                        ("publicity_end__gte", models.F("publicity_start")),
                        ("publicity_start__isnull", False),
                    ),
                    _connector="OR",
                ),
                name="elimination_publicity_after_agreed_appraisal",
            ),
        ),
        migrations.AddConstraint(
            model_name="eliminationproposal",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("accounting_family_size__isnull", True), ("accounting_family_size__gte", 1), _connector="OR"
                ),
                name="elimination_accounting_family_size_positive",
            ),
        ),
    ]
