"""Every write to tickets: authorize → lock → check invariants → write → audit event, in one transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model, Q, TextChoices

from kefu.accounts.models import Department, Team, User
from kefu.audit.services import record_event
from kefu.core import clock
from kefu.core.errors import InvalidTransition, NotFound, ValidationFailed
from kefu.core.permissions import authorize
from kefu.core.text import clean_text
from kefu.customers.models import Customer, Product, Shop
from kefu.customers.services import find_or_create_customer
from kefu.tickets import events, workflow
from kefu.tickets.attachments import IncomingFile
from kefu.tickets.choices import Channel, MessageKind, Priority, Status, TicketType
from kefu.tickets.custom_fields import validate_custom_fields
from kefu.tickets.models import Attachment, Category, Message, Tag, Ticket, Transfer

MAX_TAGS = 20


def _choice(value: str | None, choices: type[TextChoices], field: str, default: str | None = None) -> str:
    if value is None or value == "":
        if default is None:
            raise ValidationFailed(f"{field} is required.", field=field)
        return default
    if value not in choices.values:
        raise ValidationFailed(
            f"{field} must be one of: {', '.join(choices.values)}.", field=field, allowed=list(choices.values)
        )
    return value


def _text(value: str | None, field: str, max_len: int, *, required: bool = False) -> str:
    return clean_text(value, field, max_len, required=required)


def _ref(model: type[Model], pk: Any, field: str, **extra: Any) -> Any:
    if pk is None:
        return None
    obj = model._default_manager.filter(pk=pk, **extra).first() if isinstance(pk, int) else None
    if obj is None:
        raise ValidationFailed(f"{field} {pk} does not exist.", field=field)
    return obj


def _product(product_id: int | None, model_number: str | None) -> Product | None:
    if model_number:
        p = Product.objects.filter(model_number__iexact=model_number.strip()).first()
        if p is None:
            raise ValidationFailed(f"No product with model number '{model_number}'.", field="product")
        return p
    return _ref(Product, product_id, "product_id")


def _shop(shop_id: int | None, code: str | None) -> Shop | None:
    if code:
        s = Shop.objects.filter(code=code.strip()).first()
        if s is None:
            raise ValidationFailed(f"No shop with code '{code}'.", field="shop")
        return s
    return _ref(Shop, shop_id, "shop_id")


def _tags(names: list[str] | None) -> list[Tag]:
    if not names:
        return []
    clean = sorted({_text(n, "tags", 50) for n in names if n and n.strip()})
    if len(clean) > MAX_TAGS:
        raise ValidationFailed(f"At most {MAX_TAGS} tags.", field="tags")
    existing = {t.name: t for t in Tag.objects.filter(name__in=clean)}
    for name in clean:
        if name not in existing:
            existing[name], _ = Tag.objects.get_or_create(name=name)
    return [existing[n] for n in clean]


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
    external_id = _text(external_id, "external_id", 100) or None
    idempotency_key = _text(idempotency_key, "Idempotency-Key", 100) or None
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
    subject = _text(f["subject"], "subject", 200, required=True)
    description = _text(f["description"], "description", 50_000)
    ttype = _choice(f["type"], TicketType, "type", TicketType.INQUIRY)
    channel = _choice(f["channel"], Channel, "channel", Channel.API)
    priority = _choice(f["priority"], Priority, "priority", Priority.NORMAL)
    if customer is None:
        if not customer_identities:
            raise ValidationFailed("Name the customer by phone, email or another identity.", field="customer")
        try:
            customer, _ = find_or_create_customer(
                actor=actor, name=customer_name, identities=customer_identities
            )
        except ValidationFailed as exc:
            exc.field = f"customer.{exc.field}" if exc.field and exc.field != "customer" else "customer"
            raise
    product = _product(f["product_id"], f["product_model"])
    shop = _shop(f["shop_id"], f["shop_code"])
    team = _ref(Team, f["team_id"], "team_id")
    assignee = _ref(User, f["assignee_id"], "assignee_id", is_active=True)
    if team is None and assignee is None:
        team = actor.teams.order_by("id").first()
    category = _ref(Category, f["category_id"], "category_id", is_active=True)
    custom = validate_custom_fields(f["custom_fields"] or {})
    tag_objs = _tags(f["tags"])
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


def lock_ticket(*, actor: User, ticket_id: int, action: str) -> Ticket:
    """Authorize the action, then lock the ticket if (and only if) the actor may see it."""
    authorize(actor, action)
    ticket = Ticket.objects.visible_to(actor).select_for_update().filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound(f"Ticket {ticket_id} not found.", field="ticket_id")
    return ticket


UPDATABLE = ("subject", "type", "priority", "product_id", "shop_id", "team_id", "assignee_id", "category_id")


@transaction.atomic
def update_ticket(*, actor: User, ticket_id: int, changes: dict[str, Any]) -> Ticket:
    """Change fields of a ticket (not its status: see transition_ticket). One audit event lists
    every changed field with its before and after value."""
    ticket = lock_ticket(actor=actor, ticket_id=ticket_id, action="ticket.update")
    diff: dict[str, dict[str, Any]] = {}

    def put(field: str, new: Any) -> None:
        old = getattr(ticket, field)
        if old != new:
            diff[field] = {"from": old, "to": new}
            setattr(ticket, field, new)

    for key, value in changes.items():
        if key == "subject":
            put("subject", _text(value, "subject", 200, required=True))
        elif key == "type":
            put("type", _choice(value, TicketType, "type"))
        elif key == "priority":
            put("priority", _choice(value, Priority, "priority"))
        elif key == "product_id":
            put("product_id", _ref(Product, value, "product_id") and value)
        elif key == "shop_id":
            put("shop_id", _ref(Shop, value, "shop_id") and value)
        elif key == "team_id":
            put("team_id", _ref(Team, value, "team_id") and value)
        elif key == "assignee_id":
            put("assignee_id", _ref(User, value, "assignee_id", is_active=True) and value)
        elif key == "category_id":
            put("category_id", _ref(Category, value, "category_id", is_active=True) and value)
        elif key == "custom_fields":
            put("custom_fields", validate_custom_fields(value or {}, existing=ticket.custom_fields))
        elif key == "tags":
            old_tags = sorted(ticket.tags.values_list("name", flat=True))
            new_objs = _tags(value or [])
            new_tags = [t.name for t in new_objs]
            if old_tags != new_tags:
                ticket.tags.set(new_objs)
                diff["tags"] = {"from": old_tags, "to": new_tags}
        elif key == "status":
            raise ValidationFailed("Change the status with the transition endpoint.", field="status")
        else:
            raise ValidationFailed(f"Field '{key}' cannot be changed.", field=key)
    if diff:
        ticket.updated_at = clock.now()
        ticket.save()
        record_event(
            actor=actor,
            verb=events.TICKET_UPDATED.verb,
            subject=ticket,
            ticket_id=ticket.pk,
            customer_id=ticket.customer_id,
            data={"fields": ", ".join(sorted(diff)), "changes": diff},
        )
    return ticket


def _apply_transition(*, actor: User, ticket: Ticket, to: str, comment: str = "") -> None:
    current = ticket.status
    if to not in Status.values:
        raise ValidationFailed(f"to must be one of: {', '.join(Status.values)}.", field="to")
    if not workflow.can_transition(current, to):
        allowed = workflow.allowed_transitions(current)
        raise InvalidTransition(
            f"Cannot change status from {current} to {to}; allowed: {', '.join(allowed) or 'none'}.",
            field="to",
            allowed=allowed,
            current=current,
        )
    now = clock.now()
    ticket.status = to
    ticket.status_changed_at = now
    ticket.updated_at = now
    if to == Status.SOLVED:
        ticket.solved_at = now
    elif to == Status.CLOSED:
        ticket.closed_at = now
    if workflow.is_reopen(current, to):
        ticket.reopened_count += 1
        ticket.solved_at = None
    ticket.save()
    data: dict[str, Any] = {"from": current, "to": to}
    if comment:
        data["comment"] = comment
    record_event(
        actor=actor,
        verb=events.STATUS_CHANGED.verb,
        subject=ticket,
        ticket_id=ticket.pk,
        customer_id=ticket.customer_id,
        data=data,
    )


@transaction.atomic
def transition_ticket(*, actor: User, ticket_id: int, to: str, comment: str = "") -> Ticket:
    """The only writer of Ticket.status. Stamps per-state times; a comment becomes an internal note."""
    ticket = lock_ticket(actor=actor, ticket_id=ticket_id, action="ticket.transition")
    comment = _text(comment, "comment", 50_000)
    _apply_transition(actor=actor, ticket=ticket, to=to, comment=comment)
    if comment:
        _add_message(actor=actor, ticket=ticket, kind=MessageKind.NOTE, body=comment, files=[])
    return ticket


def _add_message(*, actor: User, ticket: Ticket, kind: str, body: str, files: list[IncomingFile]) -> Message:
    now = clock.now()
    msg = Message.objects.create(ticket=ticket, kind=kind, body=body, author=actor, created_at=now)
    for f in files:
        Attachment.objects.create(
            ticket=ticket,
            message=msg,
            file=f.as_django_file(),
            filename=f.filename,
            content_type=f.content_type,
            size=len(f.content),
            sha256=f.sha256,
            created_at=now,
        )
    record_event(
        actor=actor,
        verb=events.MESSAGE_ADDED.verb,
        subject=msg,
        ticket_id=ticket.pk,
        customer_id=ticket.customer_id,
        data={"kind": kind, "message_id": msg.pk, "attachments": [f.filename for f in files]},
    )
    return msg


@transaction.atomic
def add_message(
    *, actor: User, ticket_id: int, kind: str, body: str, files: list[IncomingFile] | None = None
) -> Message:
    """Add a public reply, an internal note or (for integrations) a customer message.

    A first public reply stamps first_response_at and opens a new ticket; a customer message
    reopens a pending or solved ticket."""
    kind = _choice(kind, MessageKind, "kind", MessageKind.REPLY)
    action = {"reply": "ticket.reply", "note": "ticket.note", "customer": "ticket.reply"}[kind]
    ticket = lock_ticket(actor=actor, ticket_id=ticket_id, action=action)
    files = files or []
    body = _text(body, "body", 50_000)
    if not body and not files:
        raise ValidationFailed("A message needs a body or a file.", field="body")
    if ticket.status == Status.CLOSED:
        raise InvalidTransition("The ticket is closed; open a follow-up ticket instead.", field="ticket_id")
    msg = _add_message(actor=actor, ticket=ticket, kind=kind, body=body, files=files)
    if kind == MessageKind.REPLY:
        if ticket.first_response_at is None:
            ticket.first_response_at = msg.created_at
            ticket.save(update_fields=["first_response_at"])
        if ticket.status == Status.NEW:
            _apply_transition(actor=actor, ticket=ticket, to=Status.OPEN)
    elif kind == MessageKind.CUSTOMER and ticket.status in (Status.PENDING, Status.SOLVED):
        _apply_transition(actor=actor, ticket=ticket, to=Status.OPEN)
    return msg


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
    department = _ref(Department, department_id, "department_id")
    team = _ref(Team, team_id, "team_id") if team_id is not None else None
    if team is not None and team.department_id != department.pk:
        raise ValidationFailed(f"Team {team} is not in {department}.", field="team_id")
    if reply_by is not None and reply_by <= clock.now():
        raise ValidationFailed("reply_by must be in the future.", field="reply_by")
    if not ticket.is_open:
        raise InvalidTransition(f"A {ticket.status} ticket cannot be transferred.", field="ticket_id")
    note = _text(note, "note", 10_000)
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
    record_event(
        actor=actor,
        verb=events.TRANSFERRED.verb,
        subject=ticket,
        ticket_id=ticket.pk,
        customer_id=ticket.customer_id,
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
        record_event(
            actor=actor,
            verb=events.TICKET_UPDATED.verb,
            subject=ticket,
            ticket_id=ticket.pk,
            customer_id=ticket.customer_id,
            data={"fields": ", ".join(sorted(changes)), "changes": changes},
        )
    elif ticket.status != Status.ON_HOLD:
        _apply_transition(actor=actor, ticket=ticket, to=Status.ON_HOLD)
    if note:
        _add_message(actor=actor, ticket=ticket, kind=MessageKind.NOTE, body=note, files=[])
    return transfer


def move_customer_tickets(*, source_id: int, target_id: int) -> int:
    """Used inside the customer-merge transaction (see handlers)."""
    return Ticket.objects.filter(customer_id=source_id).update(customer_id=target_id)
