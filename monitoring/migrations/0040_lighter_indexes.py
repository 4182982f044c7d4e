"""Fewer index writes for every lead a screening run raises (issue 21, docs/benchmarks.md session 21).

- ``lead_year_state`` dropped: no page filters leads by year through it (the year takes a handful of
  values; the export's year filter narrows the region's leads found through ``lead_village_state``,
  and screening's rejected-this-year look-up goes through ``lead_household_state``).
- ``appeal_of``'s own index (every lead's NULL) replaced by the partial ``lead_appeal_of``.

``appeal_of`` stops being ``db_index`` in the state only: Django's ``AlterField`` would drop every
index on the column, ``lead_one_open_appeal_per_lead`` (the one-open-appeal rule) included, so the
database drops the foreign key's own index by its name and nothing else.
"""

import django.db.models.deletion
from django.db import migrations, models

FK_INDEX = "monitoring_lead_appeal_of_id_a497eb09"


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0039_member_status"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="lead",
            name="lead_year_state",
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="lead",
                    name="appeal_of",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="appeals",
                        to="monitoring.lead",
                        verbose_name="申诉的原线索",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{FK_INDEX}"',
                    reverse_sql=f'CREATE INDEX "{FK_INDEX}" ON "monitoring_lead" ("appeal_of_id")',
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("appeal_of__isnull", False)), fields=["appeal_of"], name="lead_appeal_of"
            ),
        ),
    ]
