from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from kefu.audit.models import AuditEvent
from kefu.core.errors import NotFound, ValidationFailed
from kefu.core.text import strip_control
from kefu.tickets.models import Attachment, Message, Ticket

MAX_LIMIT = 200
TICKET_RELATED = ("customer", "team", "assignee", "product", "shop", "category")


@dataclass
class TicketFilters:
    status: list[str] | None = None
    type: list[str] | None = None
    priority: list[str] | None = None
    channel: list[str] | None = None
    team: int | None = None
    assignee: str | None = None  # an id, "me" or "none"
    customer: int | None = None
    product: int | None = None
    shop: int | None = None
    tag: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    q: str | None = None


def visible_tickets(actor: Any) -> QuerySet[Ticket]:
    return Ticket.objects.visible_to(actor)


def apply_filters(qs: QuerySet[Ticket], f: TicketFilters, actor: Any) -> QuerySet[Ticket]:
    for field in ("status", "type", "priority", "channel"):
        values = getattr(f, field)
        if values:
            qs = qs.filter(**{f"{field}__in": values})
    for field in ("team", "customer", "product", "shop"):
        value = getattr(f, field)
        if value is not None:
            qs = qs.filter(**{f"{field}_id": value})
    if f.assignee:
        if f.assignee == "me":
            qs = qs.filter(assignee_id=actor.pk)
        elif f.assignee == "none":
            qs = qs.filter(assignee__isnull=True)
        elif f.assignee.isdigit():
            qs = qs.filter(assignee_id=int(f.assignee))
        else:
            raise ValidationFailed(_("assignee must be a user id, 'me' or 'none'."), field="assignee")
    if f.tag:
        qs = qs.filter(tags__name=f.tag)
    if f.created_after:
        qs = qs.filter(created_at__gte=f.created_after)
    if f.created_before:
        qs = qs.filter(created_at__lt=f.created_before)
    if f.q:
        term = strip_control(f.q).strip()
        if term.upper().startswith("T") and term[1:].isdigit():
            qs = qs.filter(number=term.upper())
        else:
            qs = qs.filter(Q(subject__icontains=term) | Q(number=term))
    return qs


def list_tickets(
    *, actor: Any, filters: TicketFilters | None = None, cursor: int | None = None, limit: int = 50
) -> tuple[list[Ticket], int | None]:
    """Newest first, keyset-paginated by id (stays fast deep into millions of rows).
    Returns (tickets, next_cursor)."""
    limit = max(1, min(limit, MAX_LIMIT))
    qs = apply_filters(visible_tickets(actor), filters or TicketFilters(), actor)
    if cursor is not None:
        qs = qs.filter(id__lt=cursor)
    rows = list(qs.select_related(*TICKET_RELATED).prefetch_related("tags").order_by("-id")[: limit + 1])
    next_cursor = rows[limit - 1].pk if len(rows) > limit else None
    return rows[:limit], next_cursor


def get_ticket(*, actor: Any, ticket_id: int, with_messages: bool = False) -> Ticket:
    qs = visible_tickets(actor).select_related(*TICKET_RELATED)
    qs = qs.prefetch_related("tags")
    if with_messages:
        qs = qs.prefetch_related(
            Prefetch(
                "messages",
                queryset=Message.objects.select_related("author")
                .prefetch_related("attachments")
                .order_by("id"),
            )
        )
    ticket = qs.filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound(_("Ticket %(ticket)s not found.") % {"ticket": ticket_id}, field="ticket_id")
    return ticket


def list_ticket_events(*, actor: Any, ticket_id: int) -> list[AuditEvent]:
    get_ticket(actor=actor, ticket_id=ticket_id)
    return list(AuditEvent.objects.filter(ticket_id=ticket_id).select_related("actor").order_by("id"))


def get_attachment(*, actor: Any, ticket_id: int, attachment_id: int) -> Attachment:
    get_ticket(actor=actor, ticket_id=ticket_id)
    att = Attachment.objects.filter(pk=attachment_id, ticket_id=ticket_id).first()
    if att is None:
        raise NotFound(_("Attachment %(id)s not found.") % {"id": attachment_id}, field="attachment_id")
    return att


def list_customer_tickets(*, actor: Any, customer_id: int, limit: int = 50) -> list[Ticket]:
    """The customer's ticket history the actor may see (merged customers included)."""
    return list(
        visible_tickets(actor)
        .filter(customer_id=customer_id)
        .select_related(*TICKET_RELATED)
        .prefetch_related("tags")
        .order_by("-id")[:limit]
    )
