# Placeholder of a numbered slot in the chain (filled by the change that owns it).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0032_data_comparison"),
    ]

    operations: list = []
