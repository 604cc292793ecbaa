"""Creating tickets (idempotent), with human numbers."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from kefu.accounts.models import Team, User
from kefu.audit.services import record_event
from kefu.core import clock
from kefu.core.errors import ValidationFailed
from kefu.core.permissions import authorize
from kefu.customers.models import Customer
from kefu.customers.services import find_or_create_customer
from kefu.tickets import events
from kefu.tickets.choices import Channel, Priority, TicketType
from kefu.tickets.custom_fields import validate_custom_fields
from kefu.tickets.models import Category, Ticket
from kefu.tickets.services._common import (
    check_choice,
    check_ref,
    check_text,
    find_product,
    find_shop,
    get_tags,
)


def ticket_number_for(ticket: Ticket) -> str:
    local = ticket.created_at.astimezone(clock.local_tz())
    return f"T{local:%Y%m%d}{ticket.pk:05d}"


def _find_idempotent(external_id: str | None, idempotency_key: str | None) -> Ticket | None:
    q = Q()
    if external_id:
        q |= Q(external_id=external_id)
    if idempotency_key:
        q |= Q(idempotency_key=idempotency_key)
    if not q:
        return None
    return Ticket.objects.filter(q).order_by("id").first()


def create_ticket(
    *,
    actor: User,
    subject: str,
    description: str = "",
    type: str | None = None,
    channel: str | None = None,
    priority: str | None = None,
    customer: Customer | None = None,
    customer_name: str = "",
    customer_identities: dict[str, str | None] | None = None,
    product_id: int | None = None,
    product_model: str | None = None,
    shop_id: int | None = None,
    shop_code: str | None = None,
    team_id: int | None = None,
    assignee_id: int | None = None,
    category_id: int | None = None,
    tags: list[str] | None = None,
    custom_fields: dict[str, Any] | None = None,
    external_id: str | None = None,
    idempotency_key: str | None = None,
) -> tuple[Ticket, bool]:
    """Create a ticket; returns (ticket, created). A repeat with the same external_id or
    Idempotency-Key returns the first ticket (also when the repeats race)."""
    authorize(actor, "ticket.create")
    external_id = check_text(external_id, "external_id", 100) or None
    idempotency_key = check_text(idempotency_key, "Idempotency-Key", 100) or None
    existing = _find_idempotent(external_id, idempotency_key)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return _create_ticket(
                actor=actor,
                subject=subject,
                description=description,
                type=type,
                channel=channel,
                priority=priority,
                customer=customer,
                customer_name=customer_name,
                customer_identities=customer_identities,
                product_id=product_id,
                product_model=product_model,
                shop_id=shop_id,
                shop_code=shop_code,
                team_id=team_id,
                assignee_id=assignee_id,
                category_id=category_id,
                tags=tags,
                custom_fields=custom_fields,
                external_id=external_id,
                idempotency_key=idempotency_key,
            ), True
    except IntegrityError:
        existing = _find_idempotent(external_id, idempotency_key)
        if existing is None:
            raise
        return existing, False


def _create_ticket(
    *,
    actor: User,
    customer: Customer | None,
    customer_name: str,
    customer_identities: dict[str, str | None] | None,
    **f: Any,
) -> Ticket:
    subject = check_text(f["subject"], "subject", 200, required=True)
    description = check_text(f["description"], "description", 50_000)
    ttype = check_choice(f["type"], TicketType, "type", TicketType.INQUIRY)
    channel = check_choice(f["channel"], Channel, "channel", Channel.API)
    priority = check_choice(f["priority"], Priority, "priority", Priority.NORMAL)
    if customer is None:
        if not customer_identities:
            raise ValidationFailed(
                _("Name the customer by phone, email or another identity."), field="customer"
            )
        try:
            customer, _created = find_or_create_customer(
                actor=actor, name=customer_name, identities=customer_identities
            )
        except ValidationFailed as exc:
            exc.field = f"customer.{exc.field}" if exc.field and exc.field != "customer" else "customer"
            raise
    product = find_product(f["product_id"], f["product_model"])
    shop = find_shop(f["shop_id"], f["shop_code"])
    team = check_ref(Team, f["team_id"], "team_id")
    assignee = check_ref(User, f["assignee_id"], "assignee_id", is_active=True)
    if team is None and assignee is None:
        team = actor.teams.order_by("id").first()
    category = check_ref(Category, f["category_id"], "category_id", is_active=True)
    custom = validate_custom_fields(f["custom_fields"] or {})
    tag_objs = get_tags(f["tags"])
    now = clock.now()
    ticket = Ticket.objects.create(
        subject=subject,
        description=description,
        type=ttype,
        channel=channel,
        priority=priority,
        customer=customer,
        product=product,
        shop=shop,
        team=team,
        assignee=assignee,
        category=category,
        custom_fields=custom,
        external_id=f["external_id"],
        idempotency_key=f["idempotency_key"],
        created_by=actor,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
    )
    ticket.number = ticket_number_for(ticket)
    Ticket.objects.filter(pk=ticket.pk).update(number=ticket.number)
    if tag_objs:
        ticket.tags.set(tag_objs)
    record_event(
        actor=actor,
        verb=events.TICKET_CREATED.verb,
        subject=ticket,
        ticket_id=ticket.pk,
        customer_id=customer.pk,
        data={
            "number": ticket.number,
            "subject": subject,
            "type": ttype,
            "channel": channel,
            "priority": priority,
        },
    )
    return ticket
