"""Shared checks for ticket services."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Model, TextChoices
from django.utils.translation import gettext as _

from kefu.accounts.models import User
from kefu.audit.services import record_event
from kefu.core import clock
from kefu.core.errors import InvalidTransition, NotFound, ValidationFailed
from kefu.core.permissions import authorize
from kefu.core.text import clean_text
from kefu.customers.models import Product, Shop
from kefu.tickets import events, workflow
from kefu.tickets.attachments import IncomingFile
from kefu.tickets.choices import Status
from kefu.tickets.models import Attachment, Message, Tag, Ticket
from kefu.tickets.tasks import THUMBNAIL_TYPES, make_thumbnail_task

MAX_TAGS = 20


def check_choice(
    value: str | None, choices: type[TextChoices], field: str, default: str | None = None
) -> str:
    if value is None or value == "":
        if default is None:
            raise ValidationFailed(_("%(field)s is required.") % {"field": field}, field=field)
        return default
    if value not in choices.values:
        raise ValidationFailed(
            _("%(field)s must be one of: %(choices)s.")
            % {"field": field, "choices": ", ".join(choices.values)},
            field=field,
            allowed=list(choices.values),
        )
    return value


def check_text(value: str | None, field: str, max_len: int, *, required: bool = False) -> str:
    return clean_text(value, field, max_len, required=required)


def check_ref(model: type[Model], pk: Any, field: str, **extra: Any) -> Any:
    if pk is None:
        return None
    obj = model._default_manager.filter(pk=pk, **extra).first() if isinstance(pk, int) else None
    if obj is None:
        raise ValidationFailed(
            _("%(field)s %(id)s does not exist.") % {"field": field, "id": pk}, field=field
        )
    return obj


def find_product(product_id: int | None, model_number: str | None) -> Product | None:
    if model_number:
        p = Product.objects.filter(model_number__iexact=model_number.strip()).first()
        if p is None:
            raise ValidationFailed(
                _("No product with model number '%(model)s'.") % {"model": model_number}, field="product"
            )
        return p
    return check_ref(Product, product_id, "product_id")


def find_shop(shop_id: int | None, code: str | None) -> Shop | None:
    if code:
        s = Shop.objects.filter(code=code.strip()).first()
        if s is None:
            raise ValidationFailed(_("No shop with code '%(code)s'.") % {"code": code}, field="shop")
        return s
    return check_ref(Shop, shop_id, "shop_id")


def get_tags(names: list[str] | None) -> list[Tag]:
    if not names:
        return []
    clean = sorted({check_text(n, "tags", 50) for n in names if n and n.strip()})
    if len(clean) > MAX_TAGS:
        raise ValidationFailed(_("At most %(n)d tags.") % {"n": MAX_TAGS}, field="tags")
    existing = {t.name: t for t in Tag.objects.filter(name__in=clean)}
    for name in clean:
        if name not in existing:
            existing[name], _created = Tag.objects.get_or_create(name=name)
    return [existing[n] for n in clean]


def lock_ticket(*, actor: User, ticket_id: int, action: str) -> Ticket:
    """Authorize the action, then lock the ticket if (and only if) the actor may see it."""
    authorize(actor, action)
    ticket = Ticket.objects.visible_to(actor).select_for_update().filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound(_("Ticket %(ticket)s not found.") % {"ticket": ticket_id}, field="ticket_id")
    return ticket


def apply_transition(*, actor: User, ticket: Ticket, to: str, comment: str = "") -> None:
    current = ticket.status
    if to not in Status.values:
        raise ValidationFailed(
            _("%(field)s must be one of: %(choices)s.")
            % {"field": "to", "choices": ", ".join(Status.values)},
            field="to",
        )
    if not workflow.can_transition(current, to):
        allowed = workflow.allowed_transitions(current)
        if allowed:
            message = _("Cannot change status from %(current)s to %(to)s; allowed: %(allowed)s.") % {
                "current": current,
                "to": to,
                "allowed": ", ".join(allowed),
            }
        else:
            message = _("Cannot change status from %(current)s to %(to)s; allowed: none.") % {
                "current": current,
                "to": to,
            }
        raise InvalidTransition(
            message,
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
    record_ticket_event(
        actor=actor,
        ticket=ticket,
        verb=events.STATUS_CHANGED.verb,
        data=data,
    )


def write_message(*, actor: User, ticket: Ticket, kind: str, body: str, files: list[IncomingFile]) -> Message:
    now = clock.now()
    msg = Message.objects.create(ticket=ticket, kind=kind, body=body, author=actor, created_at=now)
    for f in files:
        att = Attachment.objects.create(
            ticket=ticket,
            message=msg,
            file=f.as_django_file(),
            filename=f.filename,
            content_type=f.content_type,
            size=len(f.content),
            sha256=f.sha256,
            content_id=f.content_id,
            created_at=now,
        )
        if att.content_type in THUMBNAIL_TYPES:
            transaction.on_commit(partial(make_thumbnail_task, att.pk), robust=True)
    record_event(
        actor=actor,
        verb=events.MESSAGE_ADDED.verb,
        subject=msg,
        ticket_id=ticket.pk,
        customer_id=ticket.customer_id,
        data={"kind": kind, "message_id": msg.pk, "attachments": [f.filename for f in files]},
    )
    return msg


def record_ticket_event(*, actor: User | None, ticket: Ticket, verb: str, data: dict[str, Any]) -> None:
    """An audit event about the ticket itself, with the hot ticket and customer ids set."""
    record_event(
        actor=actor, verb=verb, subject=ticket, ticket_id=ticket.pk, customer_id=ticket.customer_id, data=data
    )
