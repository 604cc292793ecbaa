"""The full-text index over SearchEntry.tokens: an FTS5 table kept in step by triggers on SQLite, a
generated tsvector column with a GIN index on PostgreSQL (kefu.core.db)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from kefu.core.db import create_search_index

    create_search_index(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
