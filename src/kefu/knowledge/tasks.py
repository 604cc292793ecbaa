"""Background jobs for the knowledge base."""

from __future__ import annotations

from huey.contrib.djhuey import db_task


@db_task()
def reindex_task(kind: str | None = None) -> int:
    """Rebuild the search index of one kind (article, reply, ticket) or of all; idempotent. Enqueue it
    after changing the dictionary or synonyms so that already indexed texts are cut the new way."""
    from kefu.knowledge.search import reindex

    return reindex(kind)
