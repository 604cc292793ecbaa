"""Reactions to ticket events: a public reply on an email ticket is queued as mail inside the
reply's transaction (the outbox row commits or rolls back with the reply)."""

from datetime import datetime

from kefu.core import events
from kefu.core.signals import demo_seeded
from kefu.tickets import events as ticket_events
from kefu.tickets.choices import MessageKind


def on_message_added(event: events.Event) -> None:
    from kefu.channels.services.outbound import queue_reply_email

    if event.ticket_id and event.data.get("kind") == MessageKind.REPLY and event.data.get("message_id"):
        queue_reply_email(ticket_id=event.ticket_id, message_id=event.data["message_id"])


def on_demo_seeded(sender: object, now: datetime, **kwargs: object) -> str:
    from kefu.channels.demo import ensure_demo_channels

    return ensure_demo_channels(now)


def register() -> None:
    demo_seeded.connect(on_demo_seeded, dispatch_uid="channels-demo")
    events.subscribe_in_transaction(ticket_events.MESSAGE_ADDED.verb, on_message_added)
