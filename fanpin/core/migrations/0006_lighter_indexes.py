"""One plain b-tree on ``region_code`` for the audit and access logs instead of two (issue 21): region
scoping reads code ranges; ``db_index`` on a ``CharField`` also built a ``varchar_pattern_ops`` index
for LIKE that nothing reads, written for every audit row (one per lead a screening run raises)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('fanpin', '0005_api_tokens'),
    ]

    operations = [
        migrations.AlterField(
            model_name='accesslog',
            name='region_code',
            field=models.CharField(max_length=12, verbose_name='区划代码'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='region_code',
            field=models.CharField(max_length=12, verbose_name='区划代码'),
        ),
        migrations.AddIndex(
            model_name='accesslog',
            index=models.Index(fields=['region_code'], name='accesslog_region'),
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(fields=['region_code'], name='audit_region'),
        ),
    ]
