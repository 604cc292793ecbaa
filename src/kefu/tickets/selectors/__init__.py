"""Every non-trivial read of tickets, permission-scoped in SQL (`Ticket.objects.visible_to`).

core: lists, detail, events, attachments, customer history. Console areas add modules here
(inbox views and counts, the ticket timeline, …) and re-export what callers use.
"""

from kefu.tickets.selectors.core import (
    MAX_LIMIT,
    TICKET_RELATED,
    TicketFilters,
    get_attachment,
    get_ticket,
    list_customer_tickets,
    list_ticket_events,
    list_tickets,
    visible_tickets,
)

__all__ = [
    "MAX_LIMIT",
    "TICKET_RELATED",
    "TicketFilters",
    "get_attachment",
    "get_ticket",
    "list_customer_tickets",
    "list_ticket_events",
    "list_tickets",
    "visible_tickets",
]
