"""One search interface over articles, standard replies and tickets (see the helper brief; being
implemented). Interface:

    tokenize(text, *, query=False) -> list[str]
    index_article(article_id) / index_reply(reply_id) / index_ticket(ticket_id, title, text)
    remove(kind, object_id)
    reindex(kind=None) -> int
    search(query, *, kinds=("article", "reply"), audience=None, team_ids=None, ticket_ids=None,
           live_only=True, limit=10) -> list[Hit]
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Hit:
    kind: str  # "article" | "reply" | "ticket"
    object_id: int
    title: str
    snippet: str  # HTML-escaped text with the matched words in <mark>…</mark>
    score: float  # higher is better (BM25-style; comparable within one result list)
