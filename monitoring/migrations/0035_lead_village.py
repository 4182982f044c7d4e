"""Each lead holds its household's village (copied from the household, then kept with it)."""

import django.db.models.deletion
from django.db import migrations, models

COPY = """
UPDATE monitoring_lead SET village_id = (
    SELECT h.village_id FROM monitoring_household h WHERE h.id = monitoring_lead.household_id
)
"""


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0034_campaigns")]

    operations = [
        migrations.AddField(
            model_name="lead",
            name="village",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="monitoring.region",
                verbose_name="村",
            ),
        ),
        migrations.RunSQL(COPY, reverse_sql=migrations.RunSQL.noop, elidable=False),
    ]
