"""Reads of the customer portal, scoped in SQL to what the signed-in customer proved.

A `PortalAccess` is what the portal session holds: the customer, and — after a sign-in by tracking
number + phone, which proves less than owning the email address — the few tickets it opened.
Anything outside that scope is "not found", never "forbidden": the portal does not confirm that a
ticket number exists.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from kefu.accounts.services import SYSTEM_USERNAME
from kefu.channels.models import RepairRequest
from kefu.core.errors import NotFound
from kefu.tickets.choices import MessageKind, Status
from kefu.tickets.models import Attachment, Message, Ticket
from kefu.tickets.selectors.timeline import attachment_kind

StrOrPromise = str | Promise
PUBLIC_KINDS = (MessageKind.CUSTOMER, MessageKind.REPLY)
MAX_LISTED = 200
_NUMBER = re.compile(r"^[A-Z0-9-]{1,24}$")

# What a customer reads for each status category. "On hold" (waiting on another team) is internal:
# the customer sees that the work goes on.
_CUSTOMER_STATUS: dict[str, StrOrPromise] = {
    Status.NEW: pgettext_lazy("customer-facing status", "Received"),
    Status.OPEN: pgettext_lazy("customer-facing status", "In progress"),
    Status.PENDING: pgettext_lazy("customer-facing status", "Waiting for your reply"),
    Status.ON_HOLD: pgettext_lazy("customer-facing status", "In progress"),
    Status.SOLVED: pgettext_lazy("customer-facing status", "Solved"),
    Status.CLOSED: pgettext_lazy("customer-facing status", "Closed"),
}
_STATUS_BADGE: dict[str, str] = {
    Status.NEW: "text-bg-secondary",
    Status.OPEN: "text-bg-primary",
    Status.PENDING: "text-bg-warning",
    Status.ON_HOLD: "text-bg-primary",
    Status.SOLVED: "text-bg-success",
    Status.CLOSED: "text-bg-light border",
}


def customer_status_label(status: str) -> str:
    """The status in the customer's words (never the internal "on hold")."""
    return str(_CUSTOMER_STATUS.get(status, _CUSTOMER_STATUS[Status.OPEN]))


def customer_status_badge(status: str) -> str:
    return _STATUS_BADGE.get(status, _STATUS_BADGE[Status.OPEN])


@dataclass(frozen=True)
class PortalAccess:
    customer_id: int
    # None: all the customer's tickets (the customer proved the email address); otherwise only these
    ticket_ids: frozenset[int] | None = field(default=None)

    @property
    def is_restricted(self) -> bool:
        return self.ticket_ids is not None


def normalize_ticket_number(raw: str | None) -> str:
    """`t2026 1124 00017`, full-width digits … → `T2026112400017`; "" when it cannot be a number."""
    text = unicodedata.normalize("NFKC", raw or "").strip().upper()
    text = re.sub(r"\s+", "", text)
    return text if _NUMBER.match(text) else ""


def portal_tickets(access: PortalAccess) -> QuerySet[Ticket]:
    qs = Ticket.objects.filter(customer_id=access.customer_id)
    if access.ticket_ids is not None:
        qs = qs.filter(pk__in=sorted(access.ticket_ids))
    return qs


@dataclass
class PortalTicketRow:
    number: str
    subject: str
    status: str
    status_label: str
    status_badge: str
    created_at: datetime
    updated_at: datetime


def list_portal_tickets(*, access: PortalAccess, limit: int = MAX_LISTED) -> list[PortalTicketRow]:
    """The customer's tickets, newest first (tickets merged into another are shown as that one)."""
    rows = (
        portal_tickets(access)
        .filter(merged_into__isnull=True, number__isnull=False)
        .order_by("-id")
        .values_list("number", "subject", "status", "created_at", "updated_at")[:limit]
    )
    return [
        PortalTicketRow(
            number=number or "",
            subject=subject,
            status=status,
            status_label=customer_status_label(status),
            status_badge=customer_status_badge(status),
            created_at=created_at,
            updated_at=updated_at,
        )
        for number, subject, status, created_at, updated_at in rows
    ]


def get_portal_ticket(*, access: PortalAccess, number: str) -> Ticket:
    """The ticket with this number if it is in the access scope; NotFound otherwise (also for ids)."""
    normalized = normalize_ticket_number(number)
    ticket = portal_tickets(access).filter(number=normalized).first() if normalized else None
    if ticket is None:
        raise NotFound(_("No such request."), field="number")
    return ticket


@dataclass
class PortalAttachment:
    attachment: Attachment
    kind: str  # image, video, file


@dataclass
class PortalMessage:
    pk: int
    kind: str
    mine: bool
    author: str
    body: str
    created_at: datetime
    attachments: list[PortalAttachment]


def _author_label(message: Message) -> str:
    if message.kind == MessageKind.CUSTOMER:
        return _("You")
    author = message.author
    if author is None or author.username == SYSTEM_USERNAME or not author.display_name.strip():
        return _("Customer service")
    return author.display_name


def list_portal_messages(*, ticket: Ticket) -> list[PortalMessage]:
    """The ticket's public conversation (customer messages and public replies; never notes or
    events), oldest first, with each message's attachments."""
    messages = (
        Message.objects.filter(ticket_id=ticket.pk, kind__in=PUBLIC_KINDS)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("id")
    )
    return [
        PortalMessage(
            pk=m.pk,
            kind=m.kind,
            mine=m.kind == MessageKind.CUSTOMER,
            author=_author_label(m),
            body=m.body,
            created_at=m.created_at,
            attachments=[PortalAttachment(a, attachment_kind(a.content_type)) for a in m.attachments.all()],
        )
        for m in messages
    ]


def get_portal_attachment(*, access: PortalAccess, number: str, attachment_id: int) -> Attachment:
    """An attachment of a public message of a ticket in scope; NotFound otherwise."""
    ticket = get_portal_ticket(access=access, number=number)
    att = Attachment.objects.filter(
        pk=attachment_id,
        ticket_id=ticket.pk,
        message__ticket_id=ticket.pk,
        message__kind__in=PUBLIC_KINDS,
    ).first()
    if att is None:
        raise NotFound(_("No such file."), field="attachment_id")
    return att


def get_repair_submission(*, ticket: Ticket) -> RepairRequest | None:
    """What the customer submitted on the repair form, if the ticket came from one (their own words,
    so the portal may show it; the ticket's description is written by staff and is not shown)."""
    return RepairRequest.objects.filter(ticket_id=ticket.pk).first()
