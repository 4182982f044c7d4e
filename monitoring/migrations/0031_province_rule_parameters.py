# A province's own screening rule parameters: NULL = the national value.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0030_calendar_procedure"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ProvinceRuleParameters",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("province_code", models.CharField(max_length=12, unique=True, verbose_name="省级区划代码")),
                ("spike_ratio", models.DecimalField(blank=True, decimal_places=4, max_digits=6, null=True, verbose_name="刚性支出骤增倍数")),
                ("drop_ratio", models.DecimalField(blank=True, decimal_places=4, max_digits=6, null=True, verbose_name="收入骤减比例")),
                ("drop_line_multiple", models.DecimalField(blank=True, decimal_places=4, max_digits=6, null=True, verbose_name="收入骤减监测标准倍数")),
                ("rule_values", models.JSONField(blank=True, default=dict, verbose_name="其他规则参数")),
                ("scale_cap_normal", models.DecimalField(blank=True, decimal_places=4, max_digits=6, null=True, verbose_name="监测规模上限（一般地区）")),
                ("scale_cap_deep", models.DecimalField(blank=True, decimal_places=4, max_digits=6, null=True, verbose_name="监测规模上限（深度贫困地区）")),
                ("scale_floor", models.DecimalField(blank=True, decimal_places=4, max_digits=6, null=True, verbose_name="监测规模下限")),
                ("medical_alert_supported", models.DecimalField(blank=True, decimal_places=2, max_digits=12, null=True, verbose_name="大额医疗支出预警线（脱贫户、监测对象）")),
                ("medical_alert_general", models.DecimalField(blank=True, decimal_places=2, max_digits=12, null=True, verbose_name="大额医疗支出预警线（其他人员）")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="修改时间")),
                ("updated_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="修改人")),
            ],
            options={
                "verbose_name": "省级筛查规则参数",
                "verbose_name_plural": "省级筛查规则参数",
                "ordering": ["province_code"],
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("province_code__regex", "^[0-9]{2}0{10}$")), name="province_parameters_province_code"),
                    models.CheckConstraint(condition=models.Q(("spike_ratio__isnull", True), ("spike_ratio__gt", 0), _connector="OR"), name="province_parameters_spike_ratio_positive"),
                    models.CheckConstraint(condition=models.Q(("drop_ratio__isnull", True), models.Q(("drop_ratio__gt", 0), ("drop_ratio__lt", 1)), _connector="OR"), name="province_parameters_drop_ratio_range"),
                    models.CheckConstraint(condition=models.Q(("drop_line_multiple__isnull", True), ("drop_line_multiple__gt", 0), _connector="OR"), name="province_parameters_drop_multiple_positive"),
                    models.CheckConstraint(condition=models.Q(models.Q(("medical_alert_supported__isnull", True), ("medical_alert_supported__gt", 0), _connector="OR"), models.Q(("medical_alert_general__isnull", True), ("medical_alert_general__gt", 0), _connector="OR")), name="province_parameters_medical_alert_positive"),
                    models.CheckConstraint(condition=models.Q(models.Q(("scale_floor__isnull", True), models.Q(("scale_floor__gte", 0), ("scale_floor__lte", 1)), _connector="OR"), models.Q(("scale_cap_normal__isnull", True), models.Q(("scale_cap_normal__gt", 0), ("scale_cap_normal__lte", 1)), _connector="OR"), models.Q(("scale_cap_deep__isnull", True), models.Q(("scale_cap_deep__gt", 0), ("scale_cap_deep__lte", 1)), _connector="OR")), name="province_parameters_scale_range"),
                ],
            },
        ),
    ]
