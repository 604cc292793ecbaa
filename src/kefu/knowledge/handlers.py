"""Reactions to events: keep the search index in step with articles and standard replies.

Subscribed after commit (a rolled-back save never reaches the index) to the knowledge app's own
events (kefu.knowledge.events); each event's data carries the article_id or reply_id. Indexing one
document takes a few milliseconds, so it runs right after the commit; a failure is logged and never
undoes the save (`kefu reindex_search` repairs the index)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from kefu.core import events
from kefu.knowledge import events as kb_events

logger = logging.getLogger(__name__)


def _run(what: str, fn: Callable[[], None]) -> None:
    try:
        fn()
    except Exception:  # the save is committed; a stale index entry is repaired by reindexing
        logger.exception("search index: %s failed", what)


def on_article_changed(event: events.Event) -> None:
    from kefu.knowledge import search

    article_id = event.data.get("article_id")
    if article_id:
        _run(f"article {article_id}", lambda: search.index_article(int(article_id)))


def on_reply_changed(event: events.Event) -> None:
    from kefu.knowledge import search

    reply_id = event.data.get("reply_id")
    if reply_id:
        _run(f"reply {reply_id}", lambda: search.index_reply(int(reply_id)))


def on_reply_deleted(event: events.Event) -> None:
    from kefu.knowledge import search

    reply_id = event.data.get("reply_id")
    if reply_id:
        _run(f"reply {reply_id}", lambda: search.remove("reply", int(reply_id)))


def on_dictionary_changed(event: events.Event) -> None:
    """Queries use the new words at once in this process (others notice within seconds); articles and
    replies are re-cut in the background. Tickets keep their terms until `kefu reindex_search --kind
    ticket` (their character bigrams still match)."""
    from kefu.knowledge import search, tasks

    search.invalidate_lexicon()
    _run("reindex after a dictionary change", lambda: tasks.reindex_task("article"))
    _run("reindex after a dictionary change", lambda: tasks.reindex_task("reply"))


def register() -> None:
    for verb in kb_events.ARTICLE_VERBS:
        events.subscribe(verb, on_article_changed)
    for verb in (kb_events.REPLY_CREATED.verb, kb_events.REPLY_UPDATED.verb):
        events.subscribe(verb, on_reply_changed)
    events.subscribe(kb_events.REPLY_DELETED.verb, on_reply_deleted)
    for verb in kb_events.DICTIONARY_VERBS:
        events.subscribe(verb, on_dictionary_changed)
