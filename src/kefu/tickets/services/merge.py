"""Merging: tickets of merged customers; merging two tickets."""

from __future__ import annotations

from kefu.tickets.models import Ticket


def move_customer_tickets(*, source_id: int, target_id: int) -> int:
    """Used inside the customer-merge transaction (see handlers)."""
    return Ticket.objects.filter(customer_id=source_id).update(customer_id=target_id)
