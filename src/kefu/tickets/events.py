from django.utils.translation import gettext_lazy as _

from kefu.core.events import register

TICKET_CREATED = register("ticket.created", _("Ticket {number} created"))
TICKET_UPDATED = register("ticket.updated", _("Ticket fields changed: {fields}"))
STATUS_CHANGED = register("ticket.status_changed", _("Status changed from {from} to {to}"))
MESSAGE_ADDED = register("ticket.message_added", _("{kind} added"))
TRANSFERRED = register("ticket.transferred", _("Transferred to {department}"))
ASSIGNED = register("ticket.assigned", _("Assigned to {to_name}"))
MERGED = register("ticket.merged", _("Ticket {source_number} merged into {target_number}"))
