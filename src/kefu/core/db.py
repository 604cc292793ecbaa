"""Database vendor switches: everything SQLite/PostgreSQL-specific lives here."""

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

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


# One GIN index per side (proposed migration knowledge 0003, see create_search_kind_indexes): a
# million tickets' posting lists then never slow down a knowledge-base search, which reads only the
# small index of articles and replies; queries name the kind condition literally so PostgreSQL can
# prove that a partial index applies.
POSTGRES_KIND_INDEX_SQL = [
    "CREATE INDEX IF NOT EXISTS knowledge_search_kb_tsv_idx ON knowledge_searchentry USING GIN (tsv) "
    "WHERE kind <> 'ticket'",
    "CREATE INDEX IF NOT EXISTS knowledge_search_ticket_tsv_idx ON knowledge_searchentry USING GIN (tsv) "
    "WHERE kind = 'ticket'",
    "DROP INDEX IF EXISTS knowledge_search_tsv_idx",
]


def create_search_kind_indexes(schema_editor) -> None:
    """PostgreSQL: replace the one GIN index by one for the knowledge base and one for tickets."""
    if schema_editor.connection.vendor == "postgresql":
        for sql in POSTGRES_KIND_INDEX_SQL:
            schema_editor.execute(sql)


def create_search_index(schema_editor) -> None:
    """The vendor's full-text index over knowledge_searchentry.tokens (a migration step)."""
    vendor = schema_editor.connection.vendor
    statements = SQLITE_FTS_SQL if vendor == "sqlite" else POSTGRES_FTS_SQL if vendor == "postgresql" else []
    for sql in statements:
        schema_editor.execute(sql)


def tidy_search_index() -> None:
    """After a bulk (re)index: PostgreSQL VACUUM ANALYZE of the index table (dead row versions gone,
    GIN's pending list merged, fresh statistics); SQLite FTS5 'optimize' (its segments merged into
    one b-tree) and ANALYZE. (Inside a transaction, where VACUUM cannot run: ANALYZE only.)"""
    with connection.cursor() as cur:
        if is_postgres():
            vacuum = "" if connection.in_atomic_block else "VACUUM "
            cur.execute(f"{vacuum}ANALYZE knowledge_searchentry")
        elif is_sqlite():
            cur.execute("INSERT INTO knowledge_search_fts(knowledge_search_fts) VALUES ('optimize')")
            cur.execute("ANALYZE")


# --- searching the index -------------------------------------------------------------------------
# A query is a list of (term, prefix) pairs OR-ed together; terms hold only letters and digits
# (kefu.core.text), and are quoted anyway so that no user input can ever reach the query syntax.
# The statements below are assembled from fixed fragments and placeholders (noqa: S608); every value
# — the full-text query, kinds, ids, a reader's visibility subquery's parameters — is a parameter.


def fts_query(terms: Sequence[tuple[str, bool]]) -> str:
    """The vendor's full-text query string: FTS5 `"a" OR "b"*`, or a tsquery `'a' | 'b':*`."""
    if is_postgres():
        return " | ".join(
            "'" + t.replace("\\", "\\\\").replace("'", "''") + "'" + (":*" if p else "") for t, p in terms
        )
    return " OR ".join('"' + t.replace('"', '""') + '"' + ("*" if p else "") for t, p in terms)


class IdFilter(NamedTuple):
    """Object ids a reader may see: an SQL subquery selecting one column named `vid` (kept in the
    database, probed per candidate), or a literal list of ids."""

    sql: str
    params: Sequence[Any]
    subquery: bool


def _search_filters(
    *, kinds: Sequence[str], live_only: bool, audience: str | None, team_ids: Sequence[int] | None
) -> tuple[str, list[Any]]:
    where = ["e.kind IN (" + ", ".join(["%s"] * len(kinds)) + ")"]
    params: list[Any] = list(kinds)
    if "ticket" not in kinds:
        where.append("e.kind <> 'ticket'")  # lets PostgreSQL use the knowledge base's partial index
    if live_only:
        where.append("e.is_live = %s")
        params.append(True)
    if audience is not None:
        where.append("e.audience = %s")
        params.append(audience)
    if team_ids is not None and "reply" in kinds:
        teams = "e.team_id IS NULL"
        if team_ids:
            teams += " OR e.team_id IN (" + ", ".join(["%s"] * len(team_ids)) + ")"
            params.extend(team_ids)
        where.append(f"({teams})" if list(kinds) == ["reply"] else f"(e.kind <> 'reply' OR {teams})")
    return " AND ".join(where), params


# PostgreSQL ranks with ts_rank() normalized by the document's length (1: divided by 1 + log of the
# number of words): each query term's occurrences count with diminishing returns, so a text with both
# words of 制氧机 噪音 beats one that repeats 制氧机 (ts_rank_cd's cover density ranked those the other
# way round on the benchmark's articles, and costs twice as much). SQLite ranks with FTS5's bm25().
PG_RANK = "ts_rank({tsv}, to_tsquery('simple', %s), 1)"
# For the statements of one search: matching must go through the GIN index — the planner prices
# `tsv @@ q` as cheap and picks a sequential scan when a query matches a fifth of a small table,
# which then decompresses every row's out-of-line tsvector (200 ms instead of 10 on 10,000
# articles); bitmaps stay exact with 32 MB; no JIT, whose compiling takes longer than these queries.
PG_SEARCH_SETTINGS = "SET LOCAL enable_seqscan = off; SET LOCAL work_mem = '32MB'; SET LOCAL jit = off"
PG_SEARCH_RESET = (
    "SET LOCAL enable_seqscan TO DEFAULT; SET LOCAL work_mem TO DEFAULT; SET LOCAL jit TO DEFAULT"
)


def _pg_search_rows(cur: Any, sql: str, params: Sequence[Any]) -> list[Any]:
    """Run one search statement under PG_SEARCH_SETTINGS, in one round trip and one (implicit or
    the caller's) transaction: `SET LOCAL …; statement; back to the defaults` (Django's psycopg
    cursors bind parameters client-side, so several statements may share one execute)."""
    cur.execute(f"{PG_SEARCH_SETTINGS}; {sql}; {PG_SEARCH_RESET}", params)
    rows: list[Any] = []
    while True:
        if cur.description is not None:
            rows = cur.fetchall()
        if not cur.nextset():
            return rows


def fts_search(
    terms: Sequence[tuple[str, bool]],
    *,
    kinds: Sequence[str],
    live_only: bool = True,
    audience: str | None = None,
    team_ids: Sequence[int] | None = None,
    limit: int = 10,
) -> list[tuple[int, float]]:
    """(SearchEntry id, score) of the best matches among every match, best first (higher is better).
    For the knowledge base (tens of thousands of documents); tickets use fts_search_newest."""
    if not terms or not kinds:
        return []
    where, params = _search_filters(kinds=kinds, live_only=live_only, audience=audience, team_ids=team_ids)
    query = fts_query(terms)
    if is_postgres():
        sql = (
            f"SELECT e.id, {PG_RANK.format(tsv='e.tsv')} AS score FROM knowledge_searchentry e "  # noqa: S608
            f"WHERE e.tsv @@ to_tsquery('simple', %s) AND {where} ORDER BY score DESC, e.id DESC LIMIT %s"
        )
        args = [query, query, *params, limit]
    else:
        sql = (
            "SELECT e.id, -bm25(knowledge_search_fts) AS score FROM knowledge_search_fts "  # noqa: S608
            "JOIN knowledge_searchentry e ON e.id = knowledge_search_fts.rowid "
            f"WHERE knowledge_search_fts MATCH %s AND {where} ORDER BY score DESC, e.id DESC LIMIT %s"
        )
        args = [query, *params, limit]
    with connection.cursor() as cur:
        if is_postgres():
            rows = _pg_search_rows(cur, sql, args)
        else:
            cur.execute(sql, args)
            rows = cur.fetchall()
    return [(int(row[0]), float(row[1])) for row in rows]


def _visible(alias: str, visible: IdFilter | None) -> tuple[str, list[Any]]:
    """The condition that `alias`.object_id is visible: each candidate is probed by primary key, never
    the whole set of visible rows (OFFSET 0 keeps PostgreSQL from turning the probe into a join over
    every visible row of a million)."""
    if visible is None:
        return "", []
    if not visible.subquery:
        return f" AND {alias}.object_id IN ({visible.sql})", list(visible.params)
    offset = " OFFSET 0" if is_postgres() else ""
    return (
        f" AND EXISTS (SELECT 1 FROM ({visible.sql}) v WHERE v.vid = {alias}.object_id{offset})",  # noqa: S608
        list(visible.params),
    )


def fts_search_newest(
    terms: Sequence[tuple[str, bool]],
    *,
    kind: str,
    visible: IdFilter | None = None,
    limit: int = 10,
    candidates: int = 1000,
    enough: int = 200,
    window: int = 20_000,
) -> list[tuple[int, float]]:
    """(SearchEntry id, score) of the best among the newest matches (by object id) of one kind that
    the reader may see — tickets, where a common word matches a large part of a million rows and
    ranking them all is too slow. Ranks the newest `candidates` visible matches (at least `enough`,
    when there are that many).

    PostgreSQL: GIN cannot return matches newest first, so matches are looked for among the newest
    `window` object ids first (the GIN bitmap AND-ed with the (kind, object_id) index: only that
    window's rows are read), newest first, each probed for visibility until `candidates` are found;
    with fewer than `enough`, the window grows by the factor the density found suggests (2–16×), up to
    every row. The statements run with PG_SEARCH_SETTINGS.
    SQLite: FTS5 returns matches newest first by itself (rowid
    order), so the newest visible `candidates` are read directly."""
    if not terms:
        return []
    query = fts_query(terms)
    if not is_postgres():
        vis, vis_params = _visible("e", visible)
        with connection.cursor() as cur:
            cur.execute(
                "SELECT id, score FROM (SELECT e.id AS id, -bm25(knowledge_search_fts) AS score "  # noqa: S608
                "FROM knowledge_search_fts JOIN knowledge_searchentry e ON e.id = knowledge_search_fts.rowid "
                f"WHERE knowledge_search_fts MATCH %s AND e.kind = %s AND e.is_live = %s{vis} "
                "ORDER BY knowledge_search_fts.rowid DESC LIMIT %s) ORDER BY score DESC, id DESC LIMIT %s",
                [query, kind, True, *vis_params, candidates, limit],
            )
            return [(int(r[0]), float(r[1])) for r in cur.fetchall()]
    vis, vis_params = _visible("c", visible)
    with connection.cursor() as cur:
        cur.execute("SELECT max(object_id) FROM knowledge_searchentry WHERE kind = %s", [kind])
        top = cur.fetchone()[0]
        if top is None:
            return []
        ids: list[int] = []
        size: int | None = window if window < top else None
        while True:
            bound = "" if size is None else " AND e.object_id > %s"
            found = _pg_search_rows(
                cur,
                "WITH m AS MATERIALIZED (SELECT e.id, e.object_id FROM knowledge_searchentry e "  # noqa: S608
                f"WHERE e.tsv @@ to_tsquery('simple', %s) AND e.kind = %s AND e.is_live{bound}) "
                "SELECT c.id FROM (SELECT * FROM m ORDER BY m.object_id DESC OFFSET 0) c "
                f"WHERE TRUE{vis} LIMIT %s",
                [query, kind, *([] if size is None else [top - size]), *vis_params, candidates],
            )
            ids = [r[0] for r in found]
            if size is None or len(ids) >= enough:
                break
            grow = min(16, max(2, math.ceil(1.5 * enough / max(len(ids), 1))))
            size = size * grow if size * grow < top else None
        if not ids:
            return []
        cur.execute(
            f"SELECT id, {PG_RANK.format(tsv='tsv')} AS score FROM knowledge_searchentry "  # noqa: S608
            "WHERE id = ANY(%s) ORDER BY score DESC, id DESC LIMIT %s",
            [query, ids, limit],
        )
        return [(int(r[0]), float(r[1])) for r in cur.fetchall()]
