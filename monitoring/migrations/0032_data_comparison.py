# 信息比对: the sources administrators edit (seeded with the five of SPEC §5.6) and one
# current comparison result per lead and source.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

SOURCES = [
    ("PUBLIC_SECURITY_VEHICLE", "公安车辆", 10),
    ("REAL_ESTATE", "不动产登记", 20),
    ("MARKET_ENTITY", "市场监管经营主体", 30),
    ("PUBLIC_PAYROLL", "财政供养人员", 40),
    ("SOCIAL_INSURANCE", "社保缴费", 50),
]


def sources_seed(apps, schema_editor):
    ComparisonSource = apps.get_model("monitoring", "ComparisonSource")
    for code, name, order in SOURCES:
        ComparisonSource.objects.get_or_create(code=code, defaults={"name": name, "order": order, "active": True})


def sources_unseed(apps, schema_editor):
    # PostgreSQL: the deletion's foreign-key checks run now, not at the commit, or the table's drop
    # later in this same transaction fails ("pending trigger events")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    seeded = [c for c, _n, _o in SOURCES]
    # the comparisons made with them first (their table is dropped next; a source is PROTECTed)
    apps.get_model("monitoring", "DataComparison").objects.filter(source__code__in=seeded).delete()
    apps.get_model("monitoring", "ComparisonSource").objects.filter(code__in=seeded).delete()
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0031_province_rule_parameters"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ComparisonSource",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.CharField(max_length=30, unique=True, verbose_name="代码")),
                ("name", models.CharField(max_length=50, verbose_name="名称")),
                ("active", models.BooleanField(default=True, verbose_name="启用")),
                ("order", models.PositiveSmallIntegerField(default=0, verbose_name="排序")),
            ],
            options={
                "verbose_name": "信息比对来源",
                "verbose_name_plural": "信息比对来源",
                "ordering": ["order", "code"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("code", ""), _negated=True), name="comparison_source_code_present"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("name", ""), _negated=True), name="comparison_source_name_present"
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="DataComparison",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("compared_on", models.DateField(verbose_name="比对日期")),
                (
                    "result",
                    models.CharField(
                        choices=[("NO_ISSUE", "无异常"), ("ISSUE", "有异常")], max_length=10, verbose_name="比对结果"
                    ),
                ),
                ("note", models.TextField(blank=True, default="", verbose_name="比对说明")),
                ("judgement", models.TextField(blank=True, default="", verbose_name="研判意见")),
                ("judged_at", models.DateTimeField(blank=True, null=True, verbose_name="研判时间")),
                ("recorded_at", models.DateTimeField(verbose_name="录入时间")),
                (
                    "judged_by",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="研判人",
                    ),
                ),
                (
                    "lead",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="comparisons",
                        to="monitoring.lead",
                        verbose_name="线索",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="录入人",
                    ),
                ),
                (
                    "source",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="comparisons",
                        to="monitoring.comparisonsource",
                        verbose_name="比对来源",
                    ),
                ),
            ],
            options={
                "verbose_name": "信息比对结果",
                "verbose_name_plural": "信息比对结果",
                "ordering": ["lead", "source__order", "source__code"],
                "constraints": [
                    models.UniqueConstraint(fields=("lead", "source"), name="comparison_one_per_lead_source"),
                    models.CheckConstraint(
                        condition=models.Q(("result__in", ["NO_ISSUE", "ISSUE"])), name="comparison_result_valid"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("result", "ISSUE"), ("judgement", ""), _connector="OR"),
                        name="comparison_judgement_only_on_issue",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("judgement", ""), ("judged_at__isnull", True), ("judged_by__isnull", True)),
                            models.Q(models.Q(("judgement", ""), _negated=True), ("judged_at__isnull", False)),
                            _connector="OR",
                        ),
                        name="comparison_judged_at_iff_judgement",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("result", "ISSUE"), _negated=True),
                            models.Q(("note", ""), _negated=True),
                            _connector="OR",
                        ),
                        name="comparison_issue_has_note",
                    ),
                ],
            },
        ),
        migrations.RunPython(sources_seed, sources_unseed),
    ]
