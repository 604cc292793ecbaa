"""In-app notifications: made in the event's own transaction, read by their recipient only.

The contract other apps use: publish an event whose `data` has `"notify": [user ids]` and each active
user listed gets one Notification (the event's verb and data, minus `notify`). A `ticket.updated`
event whose changes give the ticket a new assignee also notifies that assignee, unless they made the
change. Emails are sent after commit by `send_notification_email_task`.

Reading (marking read) is a user's own view state, not a business change: it leaves no audit event.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core import clock
from kefu.core.errors import NotFound
from kefu.core.events import Event
from kefu.notifications import events
from kefu.notifications.models import Notification
from kefu.tickets.models import Ticket

logger = logging.getLogger(__name__)

MAX_RECIPIENTS = 500
NOTIFY_KEY = "notify"


def notify_user_ids(value: Any) -> list[int]:
    """The user ids of a `notify` list: positive integers (or digit strings), deduplicated, in order."""
    if not isinstance(value, list | tuple):
        return []
    ids: list[int] = []
    for item in value:
        if isinstance(item, bool):
            continue
        if isinstance(item, int) and item > 0:
            ids.append(item)
        elif isinstance(item, str) and item.isdigit() and int(item) > 0:
            ids.append(int(item))
    return list(dict.fromkeys(ids))[:MAX_RECIPIENTS]


def new_assignee_id(event: Event) -> int | None:
    """The user a `ticket.updated` event assigned the ticket to, unless they assigned it themselves."""
    if event.verb != "ticket.updated":
        return None
    changes = event.data.get("changes")
    change = changes.get("assignee_id") if isinstance(changes, dict) else None
    if not isinstance(change, dict):
        return None
    to = change.get("to")
    if not isinstance(to, int) or isinstance(to, bool) or to == change.get("from") or to == event.actor_id:
        return None
    return to


def notify_for_event(event: Event) -> list[Notification]:
    """Create the notifications an event asks for, in the caller's transaction (a failure here is
    logged and rolled back to a savepoint: it never undoes the change that published the event)."""
    plans: dict[int, tuple[str, dict[str, Any]]] = {}
    for user_id in notify_user_ids(event.data.get(NOTIFY_KEY)):
        plans[user_id] = (event.verb, {k: v for k, v in event.data.items() if k != NOTIFY_KEY})
    assignee_id = new_assignee_id(event)
    if assignee_id is not None:
        plans[assignee_id] = (events.TICKET_ASSIGNED_TO_YOU.verb, {})
    if not plans:
        return []
    try:
        with transaction.atomic():
            return _create(event, plans)
    except Exception:
        logger.exception("notifications for event %s (%s) failed", event.event_id, event.verb)
        return []


def _create(event: Event, plans: dict[int, tuple[str, dict[str, Any]]]) -> list[Notification]:
    ticket_id: int | None = None
    number = ""
    if event.ticket_id is not None:
        row = Ticket.objects.filter(pk=event.ticket_id).values_list("pk", "number").first()
        if row is not None:  # a ticket id that does not exist is not linked (never breaks the write)
            ticket_id, number = row[0], row[1] or ""
    recipients = dict(
        User.objects.filter(pk__in=list(plans), is_active=True).values_list("pk", "email").order_by("pk")
    )
    now = clock.now()
    rows = []
    for user_id in recipients:
        verb, data = plans[user_id]
        if verb == events.TICKET_ASSIGNED_TO_YOU.verb:
            data = {"number": number or f"#{event.ticket_id}"}
        rows.append(
            Notification(
                recipient_id=user_id,
                event_id=event.event_id,
                verb=verb,
                ticket_id=ticket_id,
                data=data,
                created_at=now,
            )
        )
    created = Notification.objects.bulk_create(rows)
    to_email = [n.pk for n in created if n.pk and recipients.get(n.recipient_id)]
    if to_email:
        transaction.on_commit(partial(_enqueue_emails, to_email), robust=True)
    return created


def _enqueue_emails(notification_ids: list[int]) -> None:
    from kefu.notifications.tasks import send_notification_email_task

    for pk in notification_ids:
        send_notification_email_task(pk)


def mark_notification_read(*, actor: User, notification_id: int) -> Notification:
    """Mark one of the actor's notifications read (again is fine); another user's is NotFound."""
    n = Notification.objects.for_recipient(actor).filter(pk=notification_id).first()
    if n is None:
        raise NotFound(_("Notification %(id)s not found.") % {"id": notification_id}, field="notification_id")
    if n.read_at is None:
        n.read_at = clock.now()
        Notification.objects.filter(pk=n.pk, read_at__isnull=True).update(read_at=n.read_at)
    return n


def mark_all_notifications_read(*, actor: User) -> int:
    """Mark all the actor's unread notifications read; returns how many."""
    return Notification.objects.for_recipient(actor).unread().update(read_at=clock.now())
