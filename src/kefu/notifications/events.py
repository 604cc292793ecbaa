"""Event types of the notifications app (dotted, past tense, never renamed)."""

from django.utils.translation import gettext_lazy as _

from kefu.core.events import register

# the verb of the notification a user gets when a ticket is assigned to them (not an audit event)
TICKET_ASSIGNED_TO_YOU = register("notification.ticket_assigned", _("Ticket {number} was assigned to you"))

WEBHOOK_CREATED = register("webhook.created", _("Webhook {name} created"))
WEBHOOK_UPDATED = register("webhook.updated", _("Webhook {name} changed: {fields}"))
WEBHOOK_SECRET_ROTATED = register("webhook.secret_rotated", _("Webhook {name}: signing secret rotated"))
WEBHOOK_REDELIVERY_REQUESTED = register(
    "webhook.redelivery_requested", _("Webhook {name}: delivery of event {event_id} requested again")
)
