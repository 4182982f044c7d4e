# Placeholder of a numbered slot in the chain (filled by the change that owns it).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("assistance", "0003_elimination_steps"),
    ]

    operations: list = []
