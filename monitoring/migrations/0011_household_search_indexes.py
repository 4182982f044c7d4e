"""Household list and search at 1 000 000 households.

* ``household_village_no`` (village, household_no): the list is ordered by village then 户编号 and
  scoped by a range of village codes, so a region's page is a range scan of this index.
* ``member_id_number_tail`` (PostgreSQL only): ``reverse(id_number) text_pattern_ops``, so a search
  by the last digits of a 身份证号 is an index range scan (``reverse(id_number) LIKE '4321%'``)
  instead of a scan of every member.  SQLite (the demo) has no ``reverse()`` of its own to index;
  it scans its few members.
"""

from django.db import migrations, models

CREATE_TAIL = "CREATE INDEX IF NOT EXISTS member_id_number_tail ON monitoring_member (reverse(id_number) text_pattern_ops)"
DROP_TAIL = "DROP INDEX IF EXISTS member_id_number_tail"


def tail_index_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_TAIL)


def tail_index_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TAIL)


class Migration(migrations.Migration):

    dependencies = [
        ('monitoring', '0010_member_name_prefix_index'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='household',
            options={'ordering': ['village_id', 'household_no'], 'verbose_name': '农户', 'verbose_name_plural': '农户'},
        ),
        migrations.AddIndex(
            model_name='household',
            index=models.Index(fields=['village', 'household_no'], name='household_village_no'),
        ),
        migrations.RunPython(tail_index_create, tail_index_drop),
    ]
