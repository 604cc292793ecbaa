"""Replies, internal notes and customer messages with attachments."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.core.errors import InvalidTransition, ValidationFailed
from kefu.tickets.attachments import IncomingFile
from kefu.tickets.choices import MessageKind, Status
from kefu.tickets.models import Message
from kefu.tickets.services._common import (
    apply_transition,
    check_choice,
    check_text,
    lock_ticket,
    write_message,
)


@transaction.atomic
def add_message(
    *, actor: User, ticket_id: int, kind: str, body: str, files: list[IncomingFile] | None = None
) -> Message:
    """Add a public reply, an internal note or (for integrations) a customer message.

    A first public reply stamps first_response_at and opens a new ticket; a customer message
    reopens a pending or solved ticket."""
    kind = check_choice(kind, MessageKind, "kind", MessageKind.REPLY)
    action = {"reply": "ticket.reply", "note": "ticket.note", "customer": "ticket.reply"}[kind]
    ticket = lock_ticket(actor=actor, ticket_id=ticket_id, action=action)
    files = files or []
    body = check_text(body, "body", 50_000)
    if not body and not files:
        raise ValidationFailed(_("A message needs a body or a file."), field="body")
    if ticket.status == Status.CLOSED:
        raise InvalidTransition(
            _("The ticket is closed; open a follow-up ticket instead."), field="ticket_id"
        )
    msg = write_message(actor=actor, ticket=ticket, kind=kind, body=body, files=files)
    if kind == MessageKind.REPLY:
        if ticket.first_response_at is None:
            ticket.first_response_at = msg.created_at
            ticket.save(update_fields=["first_response_at"])
        if ticket.status == Status.NEW:
            apply_transition(actor=actor, ticket=ticket, to=Status.OPEN)
    elif kind == MessageKind.CUSTOMER and ticket.status in (Status.PENDING, Status.SOLVED):
        apply_transition(actor=actor, ticket=ticket, to=Status.OPEN)
    return msg
