"""Seed the published national monitoring line(s).

Only figures whose source is certain are seeded here; later years are set each year with
``manage.py set_monitoring_line`` (each change audited).  See docs/decisions/2026-11-28-foundation.md.
"""

from decimal import Decimal

from django.db import migrations

NATIONAL_LINES = [
    {
        "year": 2021,
        "poverty_line": Decimal("4000.00"),
        "multiplier": Decimal("1.50"),
        "line": Decimal("6000.00"),
        "source": "国开发〔2020〕6号：国家扶贫标准 1.5 倍左右；2021 年全国防止返贫监测范围 6000 元（脱贫攻坚期国家扶贫标准的 1.5 倍）",
    },
]


def seed(apps, schema_editor):
    MonitoringLine = apps.get_model("monitoring", "MonitoringLine")
    for row in NATIONAL_LINES:
        MonitoringLine.objects.get_or_create(year=row["year"], province=None, defaults=row)


def unseed(apps, schema_editor):
    MonitoringLine = apps.get_model("monitoring", "MonitoringLine")
    MonitoringLine.objects.filter(province=None, year__in=[r["year"] for r in NATIONAL_LINES]).delete()


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
