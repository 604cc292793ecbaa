from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, Prefetch, Q, QuerySet, Subquery, prefetch_related_objects
from django.utils.translation import gettext as _

from kefu.audit.models import AuditEvent
from kefu.core import clock
from kefu.core.errors import NotFound, ValidationFailed
from kefu.core.text import strip_control
from kefu.tickets.choices import Status
from kefu.tickets.models import Attachment, Message, Ticket

MAX_LIMIT = 200
TICKET_RELATED = ("customer", "team", "assignee", "product", "shop", "category")
LIST_SORTS = ("newest", "due")

# SLA views of the lists. The SLA app writes `sla_due_at` (earliest due instant of the running
# timers) and `sla_breached`; the lists read only those columns, in elapsed (clock) time.
SLA_FILTERS = ("due_soon", "breached")
SLA_STATES = (Status.NEW, Status.OPEN)  # tickets someone has to act on now
DUE_SOON = timedelta(hours=2)


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
    sla: str | None = None  # "due_soon" or "breached"
    sort: str | None = None  # list_tickets order: "newest" (default) or "due"


def due_soon_q(now: datetime) -> Q:
    """New/open tickets whose earliest SLA target is due within DUE_SOON, or already past."""
    return Q(status__in=SLA_STATES, sla_due_at__lte=now + DUE_SOON)


def breached_q(now: datetime) -> Q:
    """New/open tickets with a breached SLA target (or one past due the scan has not marked yet)."""
    return Q(status__in=SLA_STATES) & (Q(sla_breached=True) | Q(sla_due_at__lt=now))


def due_rows(
    qs: QuerySet[Ticket],
    *,
    n: int,
    cursor: int | None = None,
    before: bool = False,
    dated_only: bool = False,
) -> list[Ticket]:
    """Up to `n` tickets of `qs` in the "due" order — earliest `sla_due_at` first, tickets without
    one after them, ties and the undated part by id — following the ticket `cursor` (with
    `before=True`: preceding it, nearest first). Keyset on (sla_due_at, id), read in two
    index-friendly parts: the dated tickets (the partial index on (sla_due_at, id)) and the undated
    ones (by id), the second only when the first leaves room and unless `dated_only`. The cursor is
    a ticket id whose due time is read inside the same queries; it only positions the page, nothing
    of it is returned."""
    dated_qs, undated_qs = qs.filter(sla_due_at__isnull=False), qs.filter(sla_due_at__isnull=True)
    if cursor is None:
        if before:
            raise ValueError("reading backwards needs a cursor")
        dated_part, undated_part = dated_qs.order_by("sla_due_at", "id"), undated_qs.order_by("id")
    else:
        due = Subquery(Ticket.objects.filter(pk=cursor).values("sla_due_at")[:1])
        dated = Exists(Ticket.objects.filter(pk=cursor, sla_due_at__isnull=False))
        if before:
            earlier = Q(sla_due_at__lt=due) | Q(sla_due_at=due, id__lt=cursor)
            dated_part = dated_qs.filter(~dated | earlier).order_by("-sla_due_at", "-id")
            undated_part = undated_qs.filter(~dated & Q(id__lt=cursor)).order_by("-id")
        else:
            later = Q(sla_due_at__gt=due) | Q(sla_due_at=due, id__gt=cursor)
            dated_part = (
                dated_qs.filter(dated & Q(sla_due_at__gte=due)).filter(later).order_by("sla_due_at", "id")
            )
            undated_part = undated_qs.filter(dated | Q(id__gt=cursor)).order_by("id")
    parts = (
        [dated_part] if dated_only else [undated_part, dated_part] if before else [dated_part, undated_part]
    )
    rows: list[Ticket] = []
    for part in parts:
        rows += part[: n - len(rows)]
        if len(rows) >= n:
            break
    return rows


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
    if f.sla == "due_soon":
        qs = qs.filter(due_soon_q(clock.now()))
    elif f.sla == "breached":
        qs = qs.filter(breached_q(clock.now()))
    elif f.sla:
        raise ValidationFailed(_("sla must be 'due_soon' or 'breached'."), field="sla")
    return qs


def list_tickets(
    *, actor: Any, filters: TicketFilters | None = None, cursor: int | None = None, limit: int = 50
) -> tuple[list[Ticket], int | None]:
    """Newest first (or by SLA due time with `filters.sort == "due"`: earliest first, tickets
    without a due time after them), keyset-paginated (stays fast deep into millions of rows): the
    cursor is the id of the last ticket of the previous page. Returns (tickets, next_cursor)."""
    limit = max(1, min(limit, MAX_LIMIT))
    f = filters or TicketFilters()
    sort = f.sort or "newest"
    if sort not in LIST_SORTS:
        raise ValidationFailed(
            _("sort must be among: %(choices)s.") % {"choices": ", ".join(LIST_SORTS)}, field="sort"
        )
    qs = apply_filters(visible_tickets(actor), f, actor).select_related(*TICKET_RELATED)
    if sort == "due":
        rows = due_rows(qs, n=limit + 1, cursor=cursor)
        prefetch_related_objects(rows, "tags")
    else:
        if cursor is not None:
            qs = qs.filter(id__lt=cursor)
        rows = list(qs.prefetch_related("tags").order_by("-id")[: limit + 1])
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
