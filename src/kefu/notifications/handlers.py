"""Reactions to every app's events.

- In the event's transaction: the notifications it asks for (`data["notify"]`, new assignees).
- After commit: if any webhook endpoint is active, a dispatch task for the event (the periodic task
  catches anything this misses).
"""

from __future__ import annotations

from kefu.core import events
from kefu.core.events import Event


def on_event_in_transaction(event: Event) -> None:
    from kefu.notifications.services import notify_for_event

    notify_for_event(event)


def on_event_committed(event: Event) -> None:
    from kefu.notifications.services import has_active_endpoints
    from kefu.notifications.tasks import dispatch_webhooks_task

    if event.event_id is not None and has_active_endpoints():
        dispatch_webhooks_task(event.event_id)


def register() -> None:
    events.subscribe_in_transaction("*", on_event_in_transaction)
    events.subscribe("*", on_event_committed)
