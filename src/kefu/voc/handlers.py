"""Reactions to other apps' events: tickets and bot conversations become feedback items.

Subscribed after commit (kefu.core.events.subscribe), so a rolled-back ticket change never makes an
item. Items are idempotent by source key ("ticket:12:created", "ticket:12:solved", "bot:7"), so an
event delivered twice makes one item. A failure is logged and never raised into the ticket change."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db.models import Q

from kefu.core import events

logger = logging.getLogger(__name__)

SOLVED = "solved"


def _run(what: str, fn: Callable[[], Any]) -> None:
    try:
        fn()
    except Exception:  # the ticket change is committed; a missing item is not worth failing it
        logger.exception("voice of customer: %s failed", what)


def _ticket_fields(ticket: Any) -> dict[str, Any]:
    return {
        "ticket_id": ticket.pk,
        "customer_id": ticket.customer_id,
        "product_id": ticket.product_id,
        "shop_id": ticket.shop_id,
        "channel": ticket.channel or "",
    }


def _opened_for_review(ticket_id: int) -> bool:
    from kefu.voc.models import Review

    return Review.objects.filter(Q(ticket_id=ticket_id) | Q(follow_up_ticket_id=ticket_id)).exists()


def record_ticket_created(ticket_id: int) -> None:
    """Subject and first customer message (the description when the ticket has no message)."""
    from kefu.tickets.choices import MessageKind
    from kefu.tickets.models import Ticket
    from kefu.voc.services.feedback import record_feedback

    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None or _opened_for_review(ticket.pk):
        return
    first = ticket.messages.filter(kind=MessageKind.CUSTOMER).order_by("id").first()
    body = first.body if first is not None and first.body.strip() else ticket.description
    text = "\n".join(part.strip() for part in (ticket.subject, body or "") if part and part.strip())
    record_feedback(
        source="ticket_created",
        source_key=f"ticket:{ticket.pk}:created",
        text=text,
        occurred_at=ticket.created_at,
        **_ticket_fields(ticket),
    )


def record_ticket_solved(ticket_id: int) -> None:
    """The customer's public messages of the ticket, oldest first."""
    from kefu.core import clock
    from kefu.tickets.choices import MessageKind
    from kefu.tickets.models import Ticket
    from kefu.voc.services.feedback import MAX_TEXT, record_feedback

    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None or _opened_for_review(ticket.pk):
        return
    parts: list[str] = []
    size = 0
    for body in (
        ticket.messages.filter(kind=MessageKind.CUSTOMER).order_by("id").values_list("body", flat=True)
    ):
        body = (body or "").strip()
        if not body:
            continue
        parts.append(body)
        size += len(body) + 1
        if size >= MAX_TEXT:
            break
    if not parts and ticket.description.strip():
        parts.append(ticket.description.strip())
    record_feedback(
        source="ticket_solved",
        source_key=f"ticket:{ticket.pk}:solved",
        text="\n".join(parts)[:MAX_TEXT],
        occurred_at=ticket.solved_at or clock.now(),
        **_ticket_fields(ticket),
    )


def record_bot_session(session_id: int) -> None:
    """One item per bot session: its questions, one per line; a later turn updates the text."""
    from kefu.bot.models import BotSession
    from kefu.voc.services.feedback import record_feedback, update_feedback_text

    session = BotSession.objects.filter(pk=session_id).select_related("ticket").first()
    if session is None:
        return
    questions = list(session.turns.order_by("id").values_list("question", flat=True))
    text = "\n".join(q.strip() for q in questions if q and q.strip())
    key = f"bot:{session.pk}"
    ticket = session.ticket
    item = record_feedback(
        source="bot",
        source_key=key,
        text=text,
        occurred_at=session.created_at,
        bot_session_id=session.pk,
        ticket_id=session.ticket_id,
        customer_id=session.customer_id,
        product_id=ticket.product_id if ticket else None,
        shop_id=ticket.shop_id if ticket else None,
        channel=session.channel or "",
    )
    if item is not None:  # a later turn: the session's item grows
        update_feedback_text(source_key=key, text=text)


def on_ticket_created(event: events.Event) -> None:
    if event.ticket_id:
        _run(f"ticket {event.ticket_id} created", lambda: record_ticket_created(int(event.ticket_id or 0)))


def on_ticket_status_changed(event: events.Event) -> None:
    if event.ticket_id and event.data.get("to") == SOLVED:
        _run(f"ticket {event.ticket_id} solved", lambda: record_ticket_solved(int(event.ticket_id or 0)))


def on_bot_turn(event: events.Event) -> None:
    session_id = event.data.get("session_id")
    if session_id:
        _run(f"bot session {session_id}", lambda: record_bot_session(int(session_id)))


def connect() -> None:
    """Subscribe the reactions (called from VocConfig.ready)."""
    events.subscribe("ticket.created", on_ticket_created)
    events.subscribe("ticket.status_changed", on_ticket_status_changed)
    events.subscribe("bot.answered", on_bot_turn)
    events.subscribe("bot.handed_off", on_bot_turn)

    from kefu.core.signals import demo_seeded
    from kefu.voc.demo import on_demo_seeded

    demo_seeded.connect(on_demo_seeded, dispatch_uid="voc-demo")
