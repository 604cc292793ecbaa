"""Database vendor switches: everything SQLite/PostgreSQL-specific lives here."""

from django.db import connection


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def is_sqlite() -> bool:
    return connection.vendor == "sqlite"


def supports_skip_locked() -> bool:
    return bool(connection.features.has_select_for_update_skip_locked)


def analyze() -> None:
    """Refresh the query planner's statistics (after bulk loads, and daily from the worker).
    Without them SQLite sorts every visible ticket for an inbox page on large databases."""
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
