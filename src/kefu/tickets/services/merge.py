"""Merging: the tickets of merged customers; merging two tickets about the same problem."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.audit.services import record_event
from kefu.core.errors import NotFound, ValidationFailed
from kefu.core.permissions import authorize
from kefu.tickets import events
from kefu.tickets.choices import MessageKind, Status
from kefu.tickets.models import Attachment, Message, Ticket
from kefu.tickets.services._common import apply_transition, check_text, write_message


def move_customer_tickets(*, source_id: int, target_id: int) -> int:
    """Used inside the customer-merge transaction (see handlers)."""
    return Ticket.objects.filter(customer_id=source_id).update(customer_id=target_id)


@transaction.atomic
def merge_tickets(*, actor: User, source_id: int, target_id: int, comment: str = "") -> Ticket:
    """Merge `source` into `target`: its messages and attachments move to the target, the source is
    closed with a pointer to the target, and both tickets record the merge."""
    authorize(actor, "ticket.update")
    if source_id == target_id:
        raise ValidationFailed(_("A ticket cannot be merged into itself."), field="target_id")
    visible = Ticket.objects.visible_to(actor).select_for_update()
    locked = {t.pk: t for t in visible.filter(pk__in=sorted([source_id, target_id]))}
    if source_id not in locked:
        raise NotFound(_("Ticket %(ticket)s not found.") % {"ticket": source_id}, field="ticket_id")
    if target_id not in locked:
        raise NotFound(_("Ticket %(ticket)s not found.") % {"ticket": target_id}, field="target_id")
    source, target = locked[source_id], locked[target_id]
    if source.merged_into_id:
        raise ValidationFailed(
            _("Ticket %(number)s was already merged.") % {"number": source.number}, field="ticket_id"
        )
    if not target.is_open:
        raise ValidationFailed(
            _("Ticket %(number)s is %(status)s; merge into an open ticket.")
            % {"number": target.number, "status": target.status},
            field="target_id",
        )
    comment = check_text(comment, "comment", 10_000)
    moved = Message.objects.filter(ticket=source).update(ticket=target)
    Attachment.objects.filter(ticket=source).update(ticket=target)
    summary = f"{source.number} {source.subject}\n{source.description}".strip()
    write_message(actor=actor, ticket=target, kind=MessageKind.NOTE, body=comment or summary, files=[])
    source.merged_into = target
    source.save(update_fields=["merged_into"])
    for step in (Status.SOLVED, Status.CLOSED):
        if source.status != step and step in _path(source.status):
            apply_transition(actor=actor, ticket=source, to=step, comment="merged")
    data = {
        "source_id": source.pk,
        "source_number": source.number,
        "target_id": target.pk,
        "target_number": target.number,
        "messages_moved": moved,
    }
    for t in (source, target):
        record_event(
            actor=actor,
            verb=events.MERGED.verb,
            subject=t,
            ticket_id=t.pk,
            customer_id=t.customer_id,
            data=data,
        )
    return target


def _path(status: str) -> tuple[str, ...]:
    """Statuses still to pass through on the way to closed."""
    if status == Status.CLOSED:
        return ()
    if status == Status.SOLVED:
        return (Status.CLOSED,)
    return (Status.SOLVED, Status.CLOSED)
