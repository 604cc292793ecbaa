"""Reactions to other apps' events, and keeping tickets in the search index."""

from __future__ import annotations

import logging

from kefu.core import events
from kefu.customers.events import CUSTOMER_MERGED
from kefu.tickets import events as ticket_events

logger = logging.getLogger(__name__)

SEARCH_TEXT_CHARS = 20_000  # of a ticket's text indexed: description and public messages
SEARCH_FIELDS = {"subject", "description"}


def on_customer_merged(event: events.Event) -> None:
    from kefu.tickets.services import move_customer_tickets

    move_customer_tickets(source_id=event.data["source_id"], target_id=event.data["target_id"])


# --- search index ------------------------------------------------------------------------------------


def _ticket_text(description: str, bodies: list[str]) -> str:
    parts, size = [], 0
    for part in (description, *bodies):
        if not part:
            continue
        parts.append(part[: SEARCH_TEXT_CHARS - size])
        size += len(parts[-1]) + 1
        if size >= SEARCH_TEXT_CHARS:
            break
    return "\n".join(parts)


def ticket_documents(after: int, limit: int, ids: list[int] | None = None) -> list:
    """The search documents of tickets (subject; description and public messages), in id order."""
    from kefu.knowledge.search import Document
    from kefu.tickets.choices import MessageKind
    from kefu.tickets.models import Message, Ticket

    qs = Ticket.objects.order_by("id")
    qs = qs.filter(id__in=ids) if ids is not None else qs.filter(id__gt=after)[:limit]
    rows = list(qs.values_list("id", "subject", "description"))
    bodies: dict[int, list[str]] = {}
    for ticket_id, body in (
        Message.objects.filter(ticket_id__in=[r[0] for r in rows])
        .exclude(kind=MessageKind.NOTE)
        .order_by("ticket_id", "id")
        .values_list("ticket_id", "body")
    ):
        bodies.setdefault(ticket_id, []).append(body)
    return [
        Document(object_id=pk, title=subject, text=_ticket_text(description, bodies.get(pk, [])))
        for pk, subject, description in rows
    ]


def index_ticket_now(ticket_id: int) -> None:
    from kefu.knowledge import search

    docs = ticket_documents(0, 1, ids=[ticket_id])
    if docs:
        search.index_ticket(ticket_id, docs[0].title, docs[0].text)
    else:
        search.remove("ticket", ticket_id)


def on_ticket_text_changed(event: events.Event) -> None:
    """After commit: a new ticket, a changed subject or description, a new public message."""
    if event.ticket_id is None:
        return
    if event.verb == ticket_events.TICKET_UPDATED.verb and not (
        SEARCH_FIELDS & set((event.data.get("changes") or {}).keys())
    ):
        return
    if event.verb == ticket_events.MESSAGE_ADDED.verb and event.data.get("kind") == "note":
        return
    try:
        index_ticket_now(event.ticket_id)
    except Exception:  # the change is committed; reindexing repairs the entry
        logger.exception("search index: ticket %s failed", event.ticket_id)


def register() -> None:
    from kefu.knowledge.search import register_source

    events.subscribe_in_transaction(CUSTOMER_MERGED.verb, on_customer_merged)
    for event_type in (
        ticket_events.TICKET_CREATED,
        ticket_events.TICKET_UPDATED,
        ticket_events.MESSAGE_ADDED,
    ):
        events.subscribe(event_type.verb, on_ticket_text_changed)
    register_source("ticket", lambda after, limit: ticket_documents(after, limit))
