"""One plain b-tree on ``region_code`` for the audit and access logs instead of two (issue 21): region
scoping reads code ranges; ``db_index`` on a ``CharField`` also built a ``varchar_pattern_ops`` index
for LIKE that nothing reads, written for every audit row (one per lead a screening run raises).

The database keeps the plain index it has, renamed, and drops the LIKE one: Django's ``AlterField``
would drop both and ``AddIndex`` build the plain one again, scanning the whole append-only log while
every audited action waits for it.  SQLite has no LIKE index and cannot rename one: its plain index
is dropped and built again (a development database's log is small).
"""

from django.db import migrations, models

# (table, Django's name of the column's index, the model's index name)
INDEXES = (
    ("fanpin_auditentry", "fanpin_auditentry_region_code_86f1e478", "audit_region"),
    ("fanpin_accesslog", "fanpin_accesslog_region_code_072192e2", "accesslog_region"),
)


def _forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    execute, postgresql = schema_editor.execute, schema_editor.connection.vendor == "postgresql"
    for table, old, new in INDEXES:
        if postgresql:
            execute(f'DROP INDEX IF EXISTS "{old}_like"')
            execute(f'ALTER INDEX IF EXISTS "{old}" RENAME TO "{new}"')
        else:
            execute(f'DROP INDEX IF EXISTS "{old}"')
        execute(f'CREATE INDEX IF NOT EXISTS "{new}" ON "{table}" ("region_code")')  # wherever it was missing


def _backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    execute, postgresql = schema_editor.execute, schema_editor.connection.vendor == "postgresql"
    for table, old, new in INDEXES:
        if postgresql:
            execute(f'ALTER INDEX IF EXISTS "{new}" RENAME TO "{old}"')
            execute(f'CREATE INDEX IF NOT EXISTS "{old}_like" ON "{table}" ("region_code" varchar_pattern_ops)')
        else:
            execute(f'DROP INDEX IF EXISTS "{new}"')
        execute(f'CREATE INDEX IF NOT EXISTS "{old}" ON "{table}" ("region_code")')


class Migration(migrations.Migration):
    dependencies = [
        ("fanpin", "0005_api_tokens"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="accesslog",
                    name="region_code",
                    field=models.CharField(max_length=12, verbose_name="区划代码"),
                ),
                migrations.AlterField(
                    model_name="auditentry",
                    name="region_code",
                    field=models.CharField(max_length=12, verbose_name="区划代码"),
                ),
                migrations.AddIndex(
                    model_name="accesslog",
                    index=models.Index(fields=["region_code"], name="accesslog_region"),
                ),
                migrations.AddIndex(
                    model_name="auditentry",
                    index=models.Index(fields=["region_code"], name="audit_region"),
                ),
            ],
            database_operations=[migrations.RunPython(_forward, _backward)],
        ),
    ]
