"""Every write to tickets: authorize → lock → check invariants → write → audit event, in one transaction."""

from kefu.tickets.services._common import lock_ticket, record_ticket_event
from kefu.tickets.services.bulk import (
    MAX_BULK,
    BulkResult,
    bulk_add_tag,
    bulk_assign,
    bulk_transfer,
    bulk_transition,
)
from kefu.tickets.services.create import create_ticket, ticket_number_for
from kefu.tickets.services.merge import merge_tickets, move_customer_tickets
from kefu.tickets.services.messages import add_message
from kefu.tickets.services.status import transition_ticket
from kefu.tickets.services.transfer import transfer_ticket
from kefu.tickets.services.update import update_ticket

__all__ = [
    "MAX_BULK",
    "BulkResult",
    "bulk_add_tag",
    "bulk_assign",
    "bulk_transfer",
    "bulk_transition",
    "add_message",
    "create_ticket",
    "lock_ticket",
    "merge_tickets",
    "move_customer_tickets",
    "record_ticket_event",
    "ticket_number_for",
    "transfer_ticket",
    "transition_ticket",
    "update_ticket",
]
