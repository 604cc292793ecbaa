"""Changing ticket fields."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from kefu.accounts.models import Team, User
from kefu.core import clock
from kefu.core.errors import ValidationFailed
from kefu.customers.models import Product, Shop
from kefu.tickets import events
from kefu.tickets.choices import Priority, TicketType
from kefu.tickets.custom_fields import validate_custom_fields
from kefu.tickets.models import Category, Ticket
from kefu.tickets.services._common import (
    check_choice,
    check_ref,
    check_text,
    get_tags,
    lock_ticket,
    record_ticket_event,
)

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
            put("subject", check_text(value, "subject", 200, required=True))
        elif key == "type":
            put("type", check_choice(value, TicketType, "type"))
        elif key == "priority":
            put("priority", check_choice(value, Priority, "priority"))
        elif key == "product_id":
            put("product_id", check_ref(Product, value, "product_id") and value)
        elif key == "shop_id":
            put("shop_id", check_ref(Shop, value, "shop_id") and value)
        elif key == "team_id":
            put("team_id", check_ref(Team, value, "team_id") and value)
        elif key == "assignee_id":
            put("assignee_id", check_ref(User, value, "assignee_id", is_active=True) and value)
        elif key == "category_id":
            put("category_id", check_ref(Category, value, "category_id", is_active=True) and value)
        elif key == "custom_fields":
            put("custom_fields", validate_custom_fields(value or {}, existing=ticket.custom_fields))
        elif key == "tags":
            old_tags = sorted(ticket.tags.values_list("name", flat=True))
            new_objs = get_tags(value or [])
            new_tags = [t.name for t in new_objs]
            if old_tags != new_tags:
                ticket.tags.set(new_objs)
                diff["tags"] = {"from": old_tags, "to": new_tags}
        elif key == "status":
            raise ValidationFailed(_("Change the status with the transition endpoint."), field="status")
        else:
            raise ValidationFailed(_("Field '%(field)s' cannot be changed.") % {"field": key}, field=key)
    if diff:
        ticket.updated_at = clock.now()
        ticket.save()
        record_ticket_event(
            actor=actor,
            ticket=ticket,
            verb=events.TICKET_UPDATED.verb,
            data={"fields": ", ".join(sorted(diff)), "changes": diff},
        )
    return ticket
