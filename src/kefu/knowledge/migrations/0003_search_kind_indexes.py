"""PostgreSQL: one GIN index for the knowledge base and one for tickets instead of one shared
(a million tickets' posting lists no longer slow knowledge-base searches; BENCHMARKS.md)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from kefu.core.db import create_search_kind_indexes

    create_search_kind_indexes(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0002_search_index")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
