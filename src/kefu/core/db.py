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


# --- full-text search over segmented text (kefu.knowledge.search) -------------------------------
# The index covers SearchEntry.tokens: words already cut by jieba and joined by spaces, so the
# databases only split on spaces (SQLite FTS5 unicode61; PostgreSQL's 'simple' configuration), and
# two-character words such as 退款 are whole tokens — never the trigram tokenizer (see DESIGN.md).

FTS_TABLE = "knowledge_search_fts"

SQLITE_FTS_SQL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS knowledge_search_fts USING fts5(tokens, "
    "content='knowledge_searchentry', content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER IF NOT EXISTS knowledge_search_ai AFTER INSERT ON knowledge_searchentry BEGIN "
    "INSERT INTO knowledge_search_fts(rowid, tokens) VALUES (new.id, new.tokens); END",
    "CREATE TRIGGER IF NOT EXISTS knowledge_search_ad AFTER DELETE ON knowledge_searchentry BEGIN "
    "INSERT INTO knowledge_search_fts(knowledge_search_fts, rowid, tokens) "
    "VALUES ('delete', old.id, old.tokens); END",
    "CREATE TRIGGER IF NOT EXISTS knowledge_search_au AFTER UPDATE OF tokens ON knowledge_searchentry BEGIN "
    "INSERT INTO knowledge_search_fts(knowledge_search_fts, rowid, tokens) "
    "VALUES ('delete', old.id, old.tokens); "
    "INSERT INTO knowledge_search_fts(rowid, tokens) VALUES (new.id, new.tokens); END",
]
POSTGRES_FTS_SQL = [
    "ALTER TABLE knowledge_searchentry ADD COLUMN IF NOT EXISTS tsv tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, tokens)) STORED",
    "CREATE INDEX IF NOT EXISTS knowledge_search_tsv_idx ON knowledge_searchentry USING GIN (tsv)",
]


def create_search_index(schema_editor) -> None:
    """The vendor's full-text index over knowledge_searchentry.tokens (a migration step)."""
    vendor = schema_editor.connection.vendor
    statements = SQLITE_FTS_SQL if vendor == "sqlite" else POSTGRES_FTS_SQL if vendor == "postgresql" else []
    for sql in statements:
        schema_editor.execute(sql)
