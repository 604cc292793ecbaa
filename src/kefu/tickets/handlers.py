"""Reactions to other apps' events."""

from kefu.core import events
from kefu.customers.events import CUSTOMER_MERGED


def on_customer_merged(event: events.Event) -> None:
    from kefu.tickets.services import move_customer_tickets

    move_customer_tickets(source_id=event.data["source_id"], target_id=event.data["target_id"])


def register() -> None:
    events.subscribe_in_transaction(CUSTOMER_MERGED.verb, on_customer_merged)
