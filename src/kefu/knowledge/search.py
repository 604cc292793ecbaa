"""One search interface over articles, standard replies and tickets.

    tokenize(text, *, query=False) -> list[str]
    index_article(article_id) / index_reply(reply_id) / index_ticket(ticket_id, title, text)
    remove(kind, object_id)
    reindex(kind=None) -> int
    search(query, *, kinds=("article", "reply"), audience=None, team_ids=None, ticket_ids=None,
           live_only=True, limit=10) -> list[Hit]

Every document is one SearchEntry row whose `tokens` the database's full-text index covers
(kefu.core.db): jieba words with the organization's dictionary (DictionaryWord rows, every synonym,
product model numbers and names), synonyms mapped to their group's first term, and character bigrams
(kefu.core.text.Lexicon). Queries go through the same cutting, so 氧气机 finds 制氧机 and two-character
words (退款) are whole terms. Entries are updated after commit by knowledge.handlers and
tickets.handlers; `reindex` (`kefu reindex_search`) rebuilds a kind in batches.
"""

from __future__ import annotations

import html
import logging
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Count, F, Max, QuerySet, Sum
from django.db.models.functions import Length

from kefu.core import clock, db
from kefu.core.text import Lexicon, strip_control
from kefu.knowledge.choices import ArticleStatus, Audience, DocKind
from kefu.knowledge.models import (
    Article,
    ArticleVariant,
    DictionaryWord,
    SearchEntry,
    StandardReply,
    SynonymGroup,
)

logger = logging.getLogger(__name__)

DICTIONARY_CHECK_SECONDS = 5.0  # how stale the user dictionary may be in a process
TITLE_WEIGHT = 3  # title terms count this many times; question variants VARIANT_WEIGHT times
VARIANT_WEIGHT = 2
# characters of a document indexed (and kept for snippets)
MAX_TEXT: dict[str, int] = {DocKind.TICKET: 20_000}
MAX_TEXT_DEFAULT = 100_000
MAX_QUERY_CHARS = 500
MAX_QUERY_TERMS = 48
TICKET_CANDIDATES = 1_000  # tickets: rank only the newest this many visible matches
SNIPPET_CHARS = 80
BATCH = 1_000


@dataclass
class Hit:
    kind: str  # "article" | "reply" | "ticket"
    object_id: int
    title: str
    snippet: str  # HTML-escaped text with the matched words in <mark>…</mark>
    score: float  # higher is better (BM25-style; comparable within one result list)


@dataclass
class Document:
    """What the index needs of one article, reply or ticket."""

    object_id: int
    title: str
    text: str  # plain text: indexed, and shown in snippets
    variants: Sequence[str] = ()  # indexed with VARIANT_WEIGHT
    audience: str = ""
    team_id: int | None = None
    is_live: bool = True


# --- the user dictionary ---------------------------------------------------------------------------


class _LexiconState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lexicon: Lexicon | None = None
        self.version: tuple[Any, ...] | None = None
        self.checked = -1e18


_state = _LexiconState()


def _dictionary_version() -> tuple[Any, ...]:
    """Cheap to ask: changes whenever a dictionary word, a synonym group or a product changes (a
    product rename to a name of the same length aside — products have no updated_at)."""
    from kefu.customers.models import Product

    words = DictionaryWord.objects.aggregate(n=Count("id"), t=Max("updated_at"))
    groups = SynonymGroup.objects.aggregate(n=Count("id"), t=Max("updated_at"))
    products = Product.objects.aggregate(
        n=Count("id"), m=Max("id"), s=Sum(Length("model_number") + Length("name"))
    )
    return (*words.values(), *groups.values(), *products.values())


def _load_lexicon() -> Lexicon:
    from kefu.customers.models import Product

    words = list(DictionaryWord.objects.values_list("word", flat=True))
    for model_number, name in Product.objects.values_list("model_number", "name"):
        words.append(model_number)
        words.extend(part for part in name.split() if len(part) > 1)
    groups = [g.term_list for g in SynonymGroup.objects.all()]
    return Lexicon(words, groups)


def lexicon() -> Lexicon:
    """The segmentation with the current user dictionary; checked at most every
    DICTIONARY_CHECK_SECONDS, rebuilt (≈0.2 s; ≈1 s the first time in a process) when it changed."""
    now = time.monotonic()
    current = _state.lexicon
    if current is not None and now - _state.checked < DICTIONARY_CHECK_SECONDS:
        return current
    with _state.lock:
        if _state.lexicon is not None and now - _state.checked < DICTIONARY_CHECK_SECONDS:
            return _state.lexicon
        version = _dictionary_version()
        if _state.lexicon is None or version != _state.version:
            _state.lexicon = _load_lexicon()
            _state.version = version
        _state.checked = time.monotonic()
        return _state.lexicon


def invalidate_lexicon() -> None:
    """Check the user dictionary on the next use (after an edit in this process)."""
    _state.checked = -1e18


def tokenize(text: str, *, query: bool = False) -> list[str]:
    """The index terms of `text` (see kefu.core.text.Lexicon.terms); query=True: each term once."""
    return lexicon().terms(text or "", query=query)


# --- documents ---------------------------------------------------------------------------------------

_MD_FENCE = re.compile(r"^\s*(```|~~~).*$", re.M)
_MD_IMAGE_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_AUTOLINK = re.compile(r"<((?:https?|mailto|tel):[^>\s]+)>")
_MD_LINE_START = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)", re.M)
_MD_RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$", re.M)
_MD_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}.*$", re.M)
_MD_EMPHASIS = re.compile(r"(\*{1,3}|_{2,3}|~~|`+)")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~])")


def markdown_to_text(body: str) -> str:
    """The readable text of a Markdown body (for the index and snippets), without markup."""
    text = _MD_FENCE.sub("", body or "")
    text = _MD_RULE.sub("", text)
    text = _MD_TABLE_RULE.sub("", text)
    text = _MD_IMAGE_LINK.sub(r"\1", text)
    text = _MD_AUTOLINK.sub(r"\1", text)
    text = _MD_LINE_START.sub("", text)
    text = _MD_EMPHASIS.sub("", text)
    text = _MD_ESCAPE.sub(r"\1", text)
    return text.replace("|", " ").strip()


def _article_documents(after: int, limit: int, ids: Sequence[int] | None = None) -> list[Document]:
    qs = Article.objects.order_by("id")
    qs = qs.filter(id__in=ids) if ids is not None else qs.filter(id__gt=after)[:limit]
    rows = list(qs.values_list("id", "title", "body", "audience", "status"))
    variants: dict[int, list[str]] = {}
    for article_id, text in (
        ArticleVariant.objects.filter(article_id__in=[r[0] for r in rows])
        .order_by("article_id", "id")
        .values_list("article_id", "text")
    ):
        variants.setdefault(article_id, []).append(text)
    return [
        Document(
            object_id=pk,
            title=title,
            text=markdown_to_text(body),
            variants=variants.get(pk, ()),
            audience=audience,
            is_live=status == ArticleStatus.PUBLISHED,
        )
        for pk, title, body, audience, status in rows
    ]


def _reply_documents(after: int, limit: int, ids: Sequence[int] | None = None) -> list[Document]:
    qs = StandardReply.objects.order_by("id")
    qs = qs.filter(id__in=ids) if ids is not None else qs.filter(id__gt=after)[:limit]
    return [
        Document(object_id=pk, title=title, text=body, team_id=team_id, is_live=active)
        for pk, title, body, team_id, active in qs.values_list("id", "title", "body", "team_id", "is_active")
    ]


# kind → fetch(after_id, limit) returning the next documents in object-id order; tickets register
# theirs from kefu.tickets.handlers (knowledge does not import tickets)
Source = Callable[[int, int], list[Document]]
_sources: dict[str, Source] = {
    DocKind.ARTICLE: lambda after, limit: _article_documents(after, limit),
    DocKind.REPLY: lambda after, limit: _reply_documents(after, limit),
}


def register_source(kind: str, fetch: Source) -> None:
    """Let `reindex(kind)` read another app's documents (tickets)."""
    _sources[kind] = fetch


# --- writing the index ----------------------------------------------------------------------------------

_UPDATE_FIELDS = ["title", "text", "tokens", "audience", "team_id", "is_live", "updated_at"]


def build_entry(kind: str, doc: Document, lex: Lexicon, now: Any) -> SearchEntry:
    """The index row of a document: title terms TITLE_WEIGHT times, each question variant's terms
    VARIANT_WEIGHT times, then the text's."""
    text = (doc.text or "")[: MAX_TEXT.get(kind, MAX_TEXT_DEFAULT)]
    title = (doc.title or "")[:300]
    terms = lex.terms(title) * TITLE_WEIGHT
    for variant in doc.variants:
        terms.extend(lex.terms(variant) * VARIANT_WEIGHT)
    terms.extend(lex.terms(text))
    shown = text if not doc.variants else text + "\n" + "\n".join(doc.variants)
    return SearchEntry(
        kind=kind,
        object_id=doc.object_id,
        title=title,
        text=shown,
        tokens=" ".join(terms),
        audience=doc.audience or "",
        team_id=doc.team_id,
        is_live=doc.is_live,
        updated_at=now,
    )


def write_entries(entries: list[SearchEntry]) -> None:
    """Insert or update by (kind, object_id), in one statement."""
    if entries:
        SearchEntry.objects.bulk_create(
            entries,
            update_conflicts=True,
            unique_fields=["kind", "object_id"],
            update_fields=_UPDATE_FIELDS,
            batch_size=500,
        )


def _index(kind: str, docs: list[Document]) -> None:
    lex, now = lexicon(), clock.now()
    write_entries([build_entry(kind, doc, lex, now) for doc in docs])


def index_article(article_id: int) -> None:
    """(Re)index one article: published, draft and archived alike (is_live = published)."""
    docs = _article_documents(0, 1, ids=[article_id])
    if docs:
        _index(DocKind.ARTICLE, docs)
    else:
        remove(DocKind.ARTICLE, article_id)


def index_reply(reply_id: int) -> None:
    """(Re)index one standard reply (is_live = active)."""
    docs = _reply_documents(0, 1, ids=[reply_id])
    if docs:
        _index(DocKind.REPLY, docs)
    else:
        remove(DocKind.REPLY, reply_id)


def index_ticket(ticket_id: int, title: str, text: str) -> None:
    """(Re)index one ticket: its subject and its text (description and public messages)."""
    _index(DocKind.TICKET, [Document(object_id=ticket_id, title=title, text=text)])


def remove(kind: str, object_id: int) -> None:
    SearchEntry.objects.filter(kind=kind, object_id=object_id).delete()


def _write_batch(entries: list[SearchEntry]) -> None:
    with transaction.atomic():
        write_entries(entries)


def _close_connection() -> None:
    connection.close()  # run on the writer thread: its own connection


def reindex(
    kind: str | None = None, *, batch: int = BATCH, progress: Callable[[str, int], None] | None = None
) -> int:
    """Rebuild the entries of one kind (or every kind) in batches, one transaction each, and drop
    entries whose object is gone. Returns the number of documents indexed.

    Outside a transaction the writes run on a second thread (and database connection) while this one
    reads and cuts the next batch: the database works while Python cuts."""
    kinds = [kind] if kind else list(_sources)
    for k in kinds:
        if k not in _sources:
            raise ValueError(f"no documents of kind {k!r}")
    total = 0
    pool = None if connection.in_atomic_block else ThreadPoolExecutor(1, thread_name_prefix="reindex")
    try:
        for k in kinds:
            fetch = _sources[k]
            started = clock.now()
            after = 0
            pending: Future[None] | None = None
            while docs := fetch(after, batch):
                lex, now = lexicon(), clock.now()
                entries = [build_entry(k, doc, lex, now) for doc in docs]
                if pending is not None:
                    pending.result()
                if pool is None:
                    _write_batch(entries)
                else:
                    pending = pool.submit(_write_batch, entries)
                after = docs[-1].object_id
                total += len(docs)
                if progress:
                    progress(k, total)
            if pending is not None:
                pending.result()
            SearchEntry.objects.filter(kind=k, updated_at__lt=started).delete()
    finally:
        if pool is not None:
            pool.submit(_close_connection).result()
            pool.shutdown()
    return total


# --- searching --------------------------------------------------------------------------------------------


def _visible_tickets(ticket_ids: Any) -> db.IdFilter | None:
    """A queryset (of tickets, or selecting ticket ids) → its SQL, kept as a subquery; ids → a list.
    Returns None when nothing is visible."""
    if isinstance(ticket_ids, QuerySet):
        qs = ticket_ids.order_by()
        selected = list(qs.query.values_select)
        if len(selected) > 1:
            raise ValueError("ticket_ids must select one column (the ticket id)")
        qs = qs.values(vid=F(selected[0] if selected else "pk"))
        try:
            sql, params = qs.query.sql_with_params()
        except EmptyResultSet:  # .none(): no ticket is visible
            return None
        return db.IdFilter(sql, list(params), subquery=True)
    ids = [int(i) for i in ticket_ids]
    if not ids:
        return None
    return db.IdFilter(", ".join(["%s"] * len(ids)), ids, subquery=False)


def _query_terms(query: str, lex: Lexicon) -> list[tuple[str, bool]]:
    return lex.query_terms(query)[:MAX_QUERY_TERMS]


def search(
    query: str,
    *,
    kinds: Sequence[str] = (DocKind.ARTICLE, DocKind.REPLY),
    audience: str | None = None,
    team_ids: Sequence[int] | None = None,
    ticket_ids: Any = None,
    live_only: bool = True,
    limit: int = 10,
) -> list[Hit]:
    """The best matches for `query`, best first.

    audience: None — every article (agents see internal and public ones); "public" — only public
    articles (help center, bot), and no replies or tickets. team_ids: None — every standard reply;
    a list — shared replies plus those teams' own. ticket_ids: the tickets the reader may see, as a
    queryset (kept in SQL) or ids; None does not restrict tickets (for trusted callers only).
    live_only: published articles and active replies only. Tickets are ranked among the newest
    TICKET_CANDIDATES matches. Any text is a valid query; nothing in it is query syntax."""
    lex = lexicon()
    query = strip_control(str(query or ""))[:MAX_QUERY_CHARS]
    terms = _query_terms(query, lex)
    kinds = [k for k in dict.fromkeys(kinds) if k in DocKind.values]
    limit = max(1, min(int(limit), 100))
    # agents see internal and public articles; anything else sees only public ones
    audience = Audience.PUBLIC if audience is not None and audience != Audience.INTERNAL else None
    if not terms or not kinds:
        return []
    found: list[tuple[int, float]] = []
    others = [k for k in kinds if k != DocKind.TICKET]
    if others:
        found += db.fts_search(
            terms, kinds=others, live_only=live_only, audience=audience, team_ids=team_ids, limit=limit
        )
    # tickets have no audience: the public never searches them
    if DocKind.TICKET in kinds and audience is None:
        if isinstance(ticket_ids, QuerySet) and not ticket_ids.query.where:
            ticket_ids = None  # every ticket: nothing to check
        scope = _visible_tickets(ticket_ids) if ticket_ids is not None else None
        if ticket_ids is None or scope is not None:
            found += db.fts_search_newest(
                terms, kind=DocKind.TICKET, visible=scope, limit=limit, candidates=TICKET_CANDIDATES
            )
    found.sort(key=lambda r: (-r[1], -r[0]))
    found = found[:limit]
    rows = SearchEntry.objects.only("kind", "object_id", "title", "text").in_bulk([pk for pk, _ in found])
    marks = _mark_pattern(lex.highlight_words(query))
    return [
        Hit(
            kind=rows[pk].kind,
            object_id=rows[pk].object_id,
            title=rows[pk].title,
            snippet=snippet(rows[pk].text, marks),
            score=score,
        )
        for pk, score in found
        if pk in rows
    ]


# --- snippets -----------------------------------------------------------------------------------------------

_WS = re.compile(r"\s+")
_ASCII_WORD = re.compile(r"^[a-z0-9]")


def _mark_pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    parts = []
    for w in sorted(set(words), key=len, reverse=True):
        p = re.escape(w)
        if w.isascii() and w.isalnum():  # whole ASCII words only: "oc" does not light up "voc"
            p = rf"(?<![a-z0-9]){p}(?![a-z0-9])"
        parts.append(p)
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def snippet(text: str, marks: re.Pattern[str] | None, width: int = SNIPPET_CHARS) -> str:
    """About `width` characters of `text` around the first matched word, HTML-escaped, with the
    matched words in <mark>."""
    if not text:
        return ""
    found = marks.search(text) if marks else None
    if found is None and marks and not unicodedata.is_normalized("NFKC", text):
        normalized = unicodedata.normalize("NFKC", text)
        found = marks.search(normalized)
        if found:
            text = normalized
    start = 0 if found is None else max(0, found.start() - width // 4)
    end = min(len(text), start + width)
    if found is not None and end - start < width:
        start = max(0, end - width)
    piece = _WS.sub(" ", text[start:end])
    out = ["…" if start > 0 else ""]
    pos = 0
    if marks:
        for m in marks.finditer(piece):
            out.append(html.escape(piece[pos : m.start()]))
            out.append(f"<mark>{html.escape(m.group())}</mark>")
            pos = m.end()
    out.append(html.escape(piece[pos:]))
    if end < len(text):
        out.append("…")
    return "".join(out).strip()
