"""Handing tickets to other departments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import Department, Team, User
from kefu.core import clock
from kefu.core.errors import InvalidTransition, ValidationFailed
from kefu.tickets import events
from kefu.tickets.choices import MessageKind, Status
from kefu.tickets.models import Transfer
from kefu.tickets.services._common import (
    apply_transition,
    check_ref,
    check_text,
    lock_ticket,
    record_ticket_event,
    write_message,
)


@transaction.atomic
def transfer_ticket(
    *,
    actor: User,
    ticket_id: int,
    department_id: int,
    team_id: int | None = None,
    note: str = "",
    reply_by: datetime | None = None,
) -> Transfer:
    """Hand a ticket to another department (流转/协办) with a note and a reply-by time.

    With a team of that department the ticket moves to it (and is unassigned); without one the
    department assists and the ticket waits on hold."""
    ticket = lock_ticket(actor=actor, ticket_id=ticket_id, action="ticket.transfer")
    department = check_ref(Department, department_id, "department_id")
    team = check_ref(Team, team_id, "team_id") if team_id is not None else None
    if team is not None and team.department_id != department.pk:
        raise ValidationFailed(
            _("Team %(team)s is not in %(department)s.") % {"team": team, "department": department},
            field="team_id",
        )
    if reply_by is not None and reply_by <= clock.now():
        raise ValidationFailed(_("reply_by must be in the future."), field="reply_by")
    if not ticket.is_open:
        raise InvalidTransition(
            _("A %(status)s ticket cannot be transferred.") % {"status": ticket.status}, field="ticket_id"
        )
    note = check_text(note, "note", 10_000)
    from_department_id = (
        ticket.team.department_id if ticket.team is not None else getattr(actor, "department_id", None)
    )
    transfer = Transfer.objects.create(
        ticket=ticket,
        from_department_id=from_department_id,
        to_department=department,
        to_team=team,
        note=note,
        reply_by=reply_by,
        created_by=actor,
        created_at=clock.now(),
    )
    record_ticket_event(
        actor=actor,
        ticket=ticket,
        verb=events.TRANSFERRED.verb,
        data={
            "transfer_id": transfer.pk,
            "department": department.name,
            "department_id": department.pk,
            "team_id": team.pk if team else None,
            "reply_by": reply_by.isoformat() if reply_by else None,
        },
    )
    if team is not None:
        changes: dict[str, Any] = {"team_id": {"from": ticket.team_id, "to": team.pk}}
        if ticket.assignee_id:
            changes["assignee_id"] = {"from": ticket.assignee_id, "to": None}
        ticket.team = team
        ticket.assignee = None
        ticket.updated_at = clock.now()
        ticket.save()
        record_ticket_event(
            actor=actor,
            ticket=ticket,
            verb=events.TICKET_UPDATED.verb,
            data={"fields": ", ".join(sorted(changes)), "changes": changes},
        )
    elif ticket.status != Status.ON_HOLD:
        apply_transition(actor=actor, ticket=ticket, to=Status.ON_HOLD)
    if note:
        write_message(actor=actor, ticket=ticket, kind=MessageKind.NOTE, body=note, files=[])
    return transfer
