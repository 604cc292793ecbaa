"""Database vendor switches: everything SQLite/PostgreSQL-specific lives here."""

from django.db import connection


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def is_sqlite() -> bool:
    return connection.vendor == "sqlite"


def supports_skip_locked() -> bool:
    return bool(connection.features.has_select_for_update_skip_locked)
