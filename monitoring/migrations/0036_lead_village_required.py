"""The lead's village is required and indexed with the state (its own migration: on PostgreSQL the
copy of 0035 leaves deferred foreign-key checks pending, which an ALTER TABLE in the same
transaction refuses)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0035_lead_village")]

    operations = [
        migrations.AlterField(
            model_name="lead",
            name="village",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="monitoring.region",
                verbose_name="村",
            ),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["village", "state"], name="lead_village_state"),
        ),
    ]
