"""Reactions to ticket events, inside the ticket change's transaction (ADR 0001): the clocks commit
or roll back with the change that moved them."""

from datetime import datetime

from kefu.accounts.models import User
from kefu.core import events
from kefu.core.signals import demo_seeded
from kefu.tickets import events as ticket_events


def on_ticket_created(event: events.Event) -> None:
    from kefu.sla.services import start_ticket_sla

    if event.ticket_id:
        start_ticket_sla(actor=_actor(event), ticket_id=event.ticket_id)


def on_status_changed(event: events.Event) -> None:
    from kefu.sla.services import on_status_changed as handle

    if event.ticket_id:
        handle(
            actor=_actor(event),
            ticket_id=event.ticket_id,
            before=event.data.get("from", ""),
            after=event.data.get("to", ""),
        )


def on_message_added(event: events.Event) -> None:
    from kefu.sla.services import on_message_added as handle

    if event.ticket_id:
        handle(actor=_actor(event), ticket_id=event.ticket_id, kind=event.data.get("kind", ""))


def on_ticket_updated(event: events.Event) -> None:
    from kefu.sla.services import MATCH_FIELDS, rematch_ticket_sla

    changes = event.data.get("changes") or {}
    if event.ticket_id and MATCH_FIELDS.intersection(changes):
        rematch_ticket_sla(actor=_actor(event), ticket_id=event.ticket_id)


def _actor(event: events.Event) -> "User | None":
    # the actor only labels the SLA events this change causes: its id is all they need
    return User(pk=event.actor_id) if event.actor_id else None


def on_demo_seeded(sender: object, now: datetime, **kwargs: object) -> str:
    from kefu.sla.demo import ensure_demo_sla

    return ensure_demo_sla(now)


def register() -> None:
    demo_seeded.connect(on_demo_seeded, dispatch_uid="sla-demo")
    events.subscribe_in_transaction(ticket_events.TICKET_CREATED.verb, on_ticket_created)
    events.subscribe_in_transaction(ticket_events.STATUS_CHANGED.verb, on_status_changed)
    events.subscribe_in_transaction(ticket_events.MESSAGE_ADDED.verb, on_message_added)
    events.subscribe_in_transaction(ticket_events.TICKET_UPDATED.verb, on_ticket_updated)
