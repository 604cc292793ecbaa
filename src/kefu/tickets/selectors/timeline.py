"""Reads for the ticket page: the ticket with what its header needs, one chronological timeline of
messages and audit events, the customer 360 panel, the choices its forms offer, and finding a
merge target by number. Every read is scoped to what the actor may see, in SQL, with a bounded
number of queries whatever the length of the timeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import phonenumbers
from django.db.models import Prefetch, Q, QuerySet, TextChoices
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kefu.accounts.models import Department, Team, User
from kefu.audit.models import AuditEvent
from kefu.core import events as registry
from kefu.core.errors import NotFound
from kefu.core.permissions import authorize
from kefu.core.text import strip_control
from kefu.customers.choices import IdentityKind
from kefu.customers.models import Customer, Identity, Order, Product, Shop
from kefu.tickets import events
from kefu.tickets.choices import MessageKind, Priority, Status, TicketType
from kefu.tickets.models import Attachment, Category, CustomFieldDefinition, Message, Ticket
from kefu.tickets.selectors.core import TICKET_RELATED, list_customer_tickets, visible_tickets

RECENT_ORDERS = 10
PREVIOUS_TICKETS = 10
CUSTOMER_PRODUCTS = 20

# what a changed field is called on the page (keys as update_ticket stores them in events)
FIELD_LABELS: dict[str, Any] = {
    "subject": _("Subject"),
    "type": _("Type"),
    "priority": _("Priority"),
    "product_id": _("Product"),
    "shop_id": _("Shop"),
    "team_id": _("Team"),
    "assignee_id": _("Assignee"),
    "category_id": _("Category"),
    "custom_fields": _("Custom fields"),
    "tags": _("Tags"),
}
_CHOICES: dict[str, type[TextChoices]] = {"type": TicketType, "priority": Priority, "status": Status}
_REFS: dict[str, Any] = {
    "product_id": Product,
    "shop_id": Shop,
    "team_id": Team,
    "assignee_id": User,
    "category_id": Category,
}
EMPTY = "—"


@dataclass
class AttachmentView:
    attachment: Attachment
    kind: str  # "image" (previewed), "video" (played inline) or "file" (downloaded)


@dataclass
class TimelineEntry:
    at: datetime
    message: Message | None = None
    event: AuditEvent | None = None
    text: str = ""  # an event's display text, rendered from the event registry
    details: list[tuple[str, str]] = field(default_factory=list)  # (field label, "before → after")
    attachments: list[AttachmentView] = field(default_factory=list)


@dataclass
class CustomerPanel:
    customer: Customer
    identities: list[tuple[str, str]]  # (kind label, value formatted for display)
    products: list[Product]
    orders: list[Order]
    previous_tickets: list[Ticket]


def get_ticket_page(*, actor: Any, ticket_id: int) -> Ticket:
    """The ticket with everything its header and fields show; NotFound when the actor may not see it."""
    ticket = (
        visible_tickets(actor)
        .select_related(*TICKET_RELATED, "team__department", "merged_into")
        .prefetch_related("tags")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        raise NotFound(gettext("Ticket %(ticket)s not found.") % {"ticket": ticket_id}, field="ticket_id")
    return ticket


def attachment_kind(content_type: str) -> str:
    if content_type.startswith("image/") and content_type != "image/heic":  # browsers cannot show HEIC
        return "image"
    if content_type.startswith("video/") and content_type != "video/quicktime":
        return "video"
    return "file"


def _label(choices: type[TextChoices], value: Any) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _display_data(event: AuditEvent) -> dict[str, Any]:
    """The event's data with stored values (status codes, message kinds) replaced by their labels."""
    data = dict(event.data or {})
    if event.verb == events.STATUS_CHANGED.verb:
        for key in ("from", "to"):
            if key in data:
                data[key] = _label(Status, data[key])
    elif event.verb == events.MESSAGE_ADDED.verb and "kind" in data:
        data["kind"] = _label(MessageKind, data["kind"])
    elif event.verb == events.TICKET_UPDATED.verb:
        changed = (data.get("changes") or {}).keys() or str(data.get("fields", "")).split(", ")
        data["fields"] = ", ".join(str(FIELD_LABELS.get(k, k)) for k in changed if k)
    return data


def _event_text(event: AuditEvent) -> str:
    text = registry.render(event.verb, _display_data(event))
    reply_by = (event.data or {}).get("reply_by") if event.verb == events.TRANSFERRED.verb else None
    if reply_by:
        try:
            local = timezone.localtime(datetime.fromisoformat(reply_by))
        except (TypeError, ValueError):
            return text
        text += " · " + gettext("reply by %(time)s") % {"time": local.strftime("%Y-%m-%d %H:%M")}
    return text


def _plain(value: Any) -> str:
    if value is None or value in ("", []):
        return EMPTY
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _value(key: str, value: Any, names: dict[tuple[str, Any], str]) -> str:
    if value is not None and key in _CHOICES:
        return _label(_CHOICES[key], value)
    if value is not None and key in _REFS:
        return names.get((key, value), f"#{value}")
    return _plain(value)


def _ref_names(evs: list[AuditEvent]) -> dict[tuple[str, Any], str]:
    """Names of the users, teams, … that field changes refer to: one query per kind of reference."""
    wanted: dict[str, set[Any]] = {}
    for ev in evs:
        for key, change in (ev.data.get("changes") or {}).items():
            if key in _REFS and isinstance(change, dict):
                wanted.setdefault(key, set()).update(
                    v for v in (change.get("from"), change.get("to")) if isinstance(v, int)
                )
    names: dict[tuple[str, Any], str] = {}
    for key, ids in wanted.items():
        if ids:
            for obj in _REFS[key]._default_manager.filter(pk__in=ids):
                names[(key, obj.pk)] = str(obj)
    return names


def _details(ev: AuditEvent, names: dict[tuple[str, Any], str], cf_labels: dict[str, str]) -> list:
    changes = ev.data.get("changes") if ev.verb == events.TICKET_UPDATED.verb else None
    if not isinstance(changes, dict):
        return []
    out = []
    for key, change in changes.items():
        if not isinstance(change, dict):
            continue
        before, after = change.get("from"), change.get("to")
        if key == "custom_fields" and isinstance(before, dict) and isinstance(after, dict):
            for cf in sorted(set(before) | set(after)):
                if before.get(cf) != after.get(cf):
                    out.append((cf_labels.get(cf, cf), f"{_plain(before.get(cf))} → {_plain(after.get(cf))}"))
            continue
        label = str(FIELD_LABELS.get(key, key))
        out.append((label, f"{_value(key, before, names)} → {_value(key, after, names)}"))
    return out


def list_ticket_timeline(*, actor: Any, ticket_id: int) -> list[TimelineEntry]:
    """Messages (with authors and attachments) and audit events of a ticket, oldest first.

    A constant number of queries: messages, their attachments, events with actors, and — only when
    field changes refer to them — one query per kind of referenced object."""
    visible = visible_tickets(actor).filter(pk=ticket_id).values("pk")
    messages = (
        Message.objects.filter(ticket_id__in=visible)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("created_at", "id")
    )
    evs = list(
        AuditEvent.objects.filter(ticket_id__in=visible).select_related("actor").order_by("created_at", "id")
    )
    names = _ref_names(evs)
    cf_labels: dict[str, str] = {}
    if any("custom_fields" in (ev.data.get("changes") or {}) for ev in evs):
        cf_labels = dict(CustomFieldDefinition.objects.values_list("key", "label"))
    entries = [
        TimelineEntry(
            at=m.created_at,
            message=m,
            attachments=[AttachmentView(a, attachment_kind(a.content_type)) for a in m.attachments.all()],
        )
        for m in messages
    ]
    entries += [
        TimelineEntry(
            at=ev.created_at,
            event=ev,
            text=_event_text(ev),
            details=_details(ev, names, cf_labels),
        )
        for ev in evs
    ]
    # a message sorts before the event that records it (same instant or a hair later)
    entries.sort(key=lambda e: (e.at, 0 if e.message else 1, (e.message or e.event).pk))  # type: ignore[union-attr]
    return entries


def format_identity(kind: str, value: str) -> str:
    """Phones readable (138 0013 8000 in mainland China, +1 650-253-0000 abroad); others as stored."""
    if kind != IdentityKind.PHONE:
        return value
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        return value
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 86
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)


def get_customer_panel(*, actor: Any, ticket: Ticket) -> CustomerPanel:
    """Customer 360 for a ticket the actor sees: identities, products, recent orders, other tickets."""
    authorize(actor, "customer.view")
    customer = ticket.customer
    identities = [
        (_label(IdentityKind, i.kind), format_identity(i.kind, i.value))
        for i in Identity.objects.filter(customer_id=customer.pk).order_by("kind", "id")
    ]
    orders = list(
        Order.objects.filter(customer_id=customer.pk)
        .select_related("shop", "product")
        .order_by("-ordered_at", "-id")[:RECENT_ORDERS]
    )
    ticket_products = visible_tickets(actor).filter(customer_id=customer.pk).values("product_id")
    order_products = Order.objects.filter(customer_id=customer.pk).values("product_id")
    products = list(
        Product.objects.filter(Q(pk__in=ticket_products) | Q(pk__in=order_products)).order_by("model_number")[
            :CUSTOMER_PRODUCTS
        ]
    )
    previous = [
        t
        for t in list_customer_tickets(actor=actor, customer_id=customer.pk, limit=PREVIOUS_TICKETS + 1)
        if t.pk != ticket.pk
    ][:PREVIOUS_TICKETS]
    return CustomerPanel(customer, identities, products, orders, previous)


# --- what the page's forms offer ------------------------------------------------------------------


def list_assignable_users(*, ticket: Ticket, actor: Any) -> QuerySet[User]:
    """Active members of the ticket's team, the actor, and whoever is assigned now."""
    cond = Q(pk=actor.pk)
    if ticket.team_id:
        cond |= Q(memberships__team_id=ticket.team_id)
    if ticket.assignee_id:
        cond |= Q(pk=ticket.assignee_id)
    return User.objects.filter(cond, is_active=True).distinct().order_by("display_name", "username")


def list_teams() -> QuerySet[Team]:
    return Team.objects.select_related("department").order_by("department_id", "id")


def list_departments() -> QuerySet[Department]:
    return Department.objects.order_by("id")


def list_categories() -> QuerySet[Category]:
    return Category.objects.filter(is_active=True).select_related("parent").order_by("parent_id", "id")


def list_custom_field_definitions() -> QuerySet[CustomFieldDefinition]:
    return CustomFieldDefinition.objects.filter(is_active=True).order_by("id")


def find_ticket_by_reference(*, actor: Any, reference: str) -> Ticket:
    """A ticket the actor sees, by number (`T2026…`, with or without the T) or by id."""
    ref = strip_control(reference or "").strip().upper()
    digits = ref[1:] if ref.startswith("T") else ref
    ticket = None
    if digits.isdigit() and len(digits) <= 18:
        qs = visible_tickets(actor)
        if ref.startswith("T") or len(digits) > 12:
            ticket = qs.filter(number=f"T{digits}").first()
        else:
            ticket = qs.filter(pk=int(digits)).first()
    if ticket is None:
        raise NotFound(gettext("Ticket %(ticket)s not found.") % {"ticket": reference}, field="target")
    return ticket
