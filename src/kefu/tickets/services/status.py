"""The only writer of Ticket.status."""

from __future__ import annotations

from django.db import transaction

from kefu.accounts.models import User
from kefu.tickets.choices import MessageKind
from kefu.tickets.models import Ticket
from kefu.tickets.services._common import apply_transition, check_text, lock_ticket, write_message


@transaction.atomic
def transition_ticket(*, actor: User, ticket_id: int, to: str, comment: str = "") -> Ticket:
    """The only writer of Ticket.status. Stamps per-state times; a comment becomes an internal note."""
    ticket = lock_ticket(actor=actor, ticket_id=ticket_id, action="ticket.transition")
    comment = check_text(comment, "comment", 50_000)
    apply_transition(actor=actor, ticket=ticket, to=to, comment=comment)
    if comment:
        write_message(actor=actor, ticket=ticket, kind=MessageKind.NOTE, body=comment, files=[])
    return ticket
