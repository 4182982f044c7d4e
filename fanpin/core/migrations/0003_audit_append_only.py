"""On PostgreSQL, a trigger refuses UPDATE and DELETE of audit rows (append-only).

TRUNCATE (used only by test database flushes and by a DBA) is not a row-level operation and is not
blocked.  SQLite (the demo) relies on the application-level guards.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION fanpin_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit rows are append-only (fanpin_auditentry)';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS fanpin_audit_append_only ON fanpin_auditentry;
CREATE TRIGGER fanpin_audit_append_only BEFORE UPDATE OR DELETE ON fanpin_auditentry
    FOR EACH ROW EXECUTE FUNCTION fanpin_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS fanpin_audit_append_only ON fanpin_auditentry;
DROP FUNCTION IF EXISTS fanpin_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("fanpin", "0002_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
